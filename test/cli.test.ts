// The real `matgrad` binary, spawned (test/helpers/cli.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matgrad } from './helpers/cli.js';

let dir: string;
const spec = (name: string, value: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
};

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'matgrad-cli-'));
  // a file source relative to the spec's directory (the CLI runs with cwd = the repository root)
  writeFileSync(path.join(dir, 'm.csv'), '4,1\n2,3\n');
  spec('inverse.json', { kind: 'inverse', matrix: { file: 'm.csv' } });
  spec('long.json', { kind: 'inverse', matrix: { random: { shape: [4, 4], seed: 1 } }, loss: 'fro' });
  spec('svd.json', { kind: 'svd', matrix: { random: { shape: [6, 4], seed: 2, dist: 'normal' } } });
  spec('bad.json', { kind: 'inverse', matrix: { random: { shape: [4, 0], seed: 1.5 } }, loss: 'l1', extra: 1 });
  spec('broken.json', '{"kind": "inverse",');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (s: string) => s.split('\n').filter((l) => l.trim());
const lastLine = (s: string) => lines(s).at(-1) ?? '';

describe('matgrad CLI', () => {
  it('--help everywhere, exit 0', async () => {
    const main = await matgrad(['--help']);
    expect(main.code).toBe(0);
    for (const c of ['start', 'solve', 'compare', 'bench', 'schema']) expect(main.stdout).toContain(c);
    const [solve, compare, bench] = await Promise.all([matgrad(['solve', '--help']), matgrad(['help', 'compare']), matgrad(['bench', '-h'])]);
    expect(solve.code).toBe(0);
    expect(solve.stdout).toContain('--optimizer');
    expect(solve.stdout).toContain('--json');
    expect(compare.stdout).toContain('--optimizers');
    expect(bench.stdout).toContain('--only');
  });

  it('solve: converges, prints the parameters and a final status line, exit 0', async () => {
    const r = await matgrad(['solve', path.join(dir, 'inverse.json'), '--optimizer', 'momentum', '--steps', '5000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/step \d+\/5000/); // progress (plain lines: stdout is a pipe)
    expect(r.stdout).toContain('X (2×2) =');
    expect(r.stdout).toMatch(/0\.3\s+-0\.1/); // inv([[4, 1], [2, 3]]) = [[0.3, -0.1], [-0.2, 0.4]]
    expect(lastLine(r.stdout)).toMatch(/^status: converged {2}step: \d+ {2}loss: [\d.]+e-\d+/);
  });

  it('solve --json: NDJSON, every line valid JSON, the last done with params as nested arrays', async () => {
    const r = await matgrad(['solve', path.join(dir, 'inverse.json'), '--json', '--optimizer', 'adam', '--lr', '0.05', '--steps', '3000', '--report-every', '100']);
    expect(r.code).toBe(0);
    const events = lines(r.stdout).map((l) => JSON.parse(l));
    expect(events.length).toBeGreaterThan(2);
    expect(events.slice(0, -1).every((e) => e.done === false && typeof e.step === 'number' && typeof e.loss === 'number')).toBe(true);
    const last = events.at(-1);
    expect(last.done).toBe(true);
    expect(['converged', 'max-steps']).toContain(last.status);
    expect(last.params.X).toHaveLength(2);
    expect(last.params.X[0][0]).toBeCloseTo(0.3, 3);
    expect(last.params.X[1][1]).toBeCloseTo(0.4, 3);
  });

  it('compare: a table with every optimizer, a winner, L-BFGS skipped on a Stiefel problem, a plot', async () => {
    const plot = path.join(dir, 'svd.svg');
    const r = await matgrad(['compare', path.join(dir, 'svd.json'), '--optimizers', 'momentum,adam:0.02,lbfgs', '--steps', '300', '--plot', plot]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/momentum\s+(converged|max-steps)/);
    expect(r.stdout).toMatch(/adam\s+(converged|max-steps)/);
    expect(r.stdout).toMatch(/lbfgs\s+skipped.*L-BFGS takes no constraints \(stiefel\)/);
    expect(r.stdout).toMatch(/winner: (momentum|adam) — /);
    const svg = readFileSync(plot, 'utf8');
    expect(svg).toContain('momentum');
    expect(svg).toContain('adam');
  });

  it('compare --json: events tagged with their run, a summary last', async () => {
    const r = await matgrad(['compare', path.join(dir, 'inverse.json'), '--json', '--optimizers', 'sgd,adam,lbfgs', '--steps', '2000']);
    expect(r.code).toBe(0);
    const events = lines(r.stdout).map((l) => JSON.parse(l));
    const last = events.at(-1);
    expect(last).toMatchObject({ done: true, run: null });
    expect(last.summary.map((s: { run: string }) => s.run)).toEqual(['sgd', 'adam', 'lbfgs']);
    for (const run of ['sgd', 'adam', 'lbfgs']) {
      const final = events.find((e) => e.run === run && e.done);
      expect(final.params.X).toHaveLength(2);
    }
    expect(events.find((e) => e.run === 'lbfgs' && e.done).status).toBe('converged');
  });

  it('a malformed spec: every issue as path: message on stderr, exit 2', async () => {
    const r = await matgrad(['solve', path.join(dir, 'bad.json')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('invalid problem spec (4 issues)');
    expect(r.stderr).toContain('matrix.random.shape[1]: expected a positive integer');
    expect(r.stderr).toContain('matrix.random.seed: expected an integer');
    expect(r.stderr).toMatch(/\n {2}loss: .*mse/);
    expect(r.stderr).toContain("(root): unknown field 'extra'");
  });

  it('bad command lines exit 2 with a hint', async () => {
    const [broken, option, command, missing] = await Promise.all([
      matgrad(['solve', path.join(dir, 'broken.json')]),
      matgrad(['solve', path.join(dir, 'inverse.json'), '--step', '5']),
      matgrad(['slove']),
      matgrad(['compare', path.join(dir, 'nope.json')]),
    ]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('not valid JSON');
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--step'");
    expect(option.stderr).toContain('did you mean --steps?');
    expect(option.stderr).toContain("matgrad solve --help");
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'slove' (did you mean 'solve'?)");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });

  it('SIGINT mid-run (solve): cancels cleanly, prints the partial result, exit 130', async () => {
    let sent = false;
    const r = await matgrad(['solve', path.join(dir, 'long.json'), '--optimizer', 'sgd', '--lr', '0.001', '--steps', '100000000', '--tolerance', '0', '--report-every', '1000'], {
      onStdout: (all, kill) => {
        if (!sent && /step \d+\/100000000/.test(all)) {
          sent = true;
          kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('interrupted');
    expect(r.stdout).toMatch(/cancelled after \d+ steps/);
    expect(r.stdout).toContain('X (4×4) =');
    expect(lastLine(r.stdout)).toMatch(/^status: cancelled/);
  });

  it('SIGINT mid-run (compare --json): every run ends cancelled, the summary still comes, exit 130', async () => {
    let sent = false;
    const r = await matgrad(['compare', path.join(dir, 'long.json'), '--json', '--optimizers', 'sgd,adam', '--steps', '100000000', '--tolerance', '0', '--report-every', '1000'], {
      onStdout: (all, kill) => {
        if (!sent && all.includes('\n')) {
          sent = true;
          kill('SIGINT');
        }
      },
    });
    expect(r.code).toBe(130);
    const events = lines(r.stdout).map((l) => JSON.parse(l));
    const last = events.at(-1);
    expect(last.run).toBeNull();
    expect(last.summary.map((s: { status: string }) => s.status)).toEqual(['cancelled', 'cancelled']);
    expect(events.filter((e) => e.done && e.run).every((e) => e.params && e.status === 'cancelled')).toBe(true);
  });

  it('SIGINT lands promptly however long a chunk is (--report-every 1e7)', async () => {
    let sentAt = 0;
    const r = await matgrad(['solve', path.join(dir, 'long.json'), '--optimizer', 'sgd', '--lr', '0.001', '--steps', '1000000000', '--tolerance', '0', '--report-every', '10000000'], {
      onStdout: (_, kill) => {
        if (sentAt) return;
        sentAt = -1;
        // the header is out: the run is being built, then stepping through its first chunk
        setTimeout(() => {
          sentAt = performance.now();
          kill('SIGINT');
        }, 1500);
      },
    });
    const exitMs = performance.now() - sentAt;
    expect(r.code).toBe(130);
    expect(lastLine(r.stdout)).toMatch(/^status: cancelled/);
    expect(exitMs).toBeLessThan(1000); // printing and exiting included; one 1e7-step chunk takes seconds
  });

  it('schema prints the JSON Schema of specs', async () => {
    const r = await matgrad(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(JSON.stringify(schema)).toContain('lambda-min');
  });

  it('start (quick, two workloads): table, winners, and the report', async () => {
    const out = path.join(dir, 'report');
    const r = await matgrad(['start', '--only', 'inverse-diagonal-4x4,eigenvector-4x4', '--out', out, '--no-png'], { env: { MATGRAD_QUICK: '1' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(quick)');
    for (const o of ['sgd', 'momentum', 'adam', 'lbfgs']) expect(r.stdout).toContain(o);
    expect(r.stdout).toMatch(/inverse diagonal 4×4: \w+ wins/);
    for (const f of ['index.html', 'summary.json', 'inverse-diagonal-4x4.svg', 'eigenvector-4x4.svg']) expect(existsSync(path.join(out, f)), f).toBe(true);
    expect(existsSync(path.join(out, 'eigenvector-4x4.png'))).toBe(false);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.quick).toBe(true);
    expect(summary.problems.map((p: { id: string }) => p.id)).toEqual(['inverse-diagonal-4x4', 'eigenvector-4x4']);
  });
});
