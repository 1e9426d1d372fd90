// The CLI at its edges: spec files as editors write them, output paths that cannot be written, help.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matgrad, ROOT } from './helpers/cli.js';

let dir: string;
let spec: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'matgrad-cli-ux-'));
  spec = path.join(dir, 'inverse.json');
  writeFileSync(spec, JSON.stringify({ kind: 'inverse', matrix: [[4, 1], [2, 3]] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** No Node stack trace ("    at fn (file:line)") and no internal error names reach the user. */
const noStack = (s: string) => expect(s).not.toMatch(/^\s+at |TypeError|RangeError|ENOENT:/m);

describe('spec files as editors write them', () => {
  it.each([
    ['"$schema"', (s: object) => JSON.stringify({ $schema: '../schema/problem.schema.json', ...s })],
    ['a UTF-8 BOM', (s: object) => `\uFEFF${JSON.stringify(s, null, 2)}`],
    ['a BOM and "$schema"', (s: object) => `\uFEFF${JSON.stringify({ $schema: 'x', ...s })}`],
  ])('%s is accepted', async (_what, write) => {
    const file = path.join(dir, `spec-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, write({ kind: 'inverse', matrix: [[4, 1], [2, 3]] }));
    const r = await matgrad(['solve', file, '-q', '--steps', '2000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/status: converged/);
  });

  it('every spec in examples/specs (the ones --help names) is valid and solves', async () => {
    const specs = readdirSync(path.join(ROOT, 'examples', 'specs')).filter((f) => f.endsWith('.json'));
    expect(specs.length).toBeGreaterThanOrEqual(4);
    const help = await matgrad(['solve', '--help']);
    for (const named of help.stdout.match(/examples\/specs\/[\w.-]+\.json/g) ?? []) expect(existsSync(path.join(ROOT, named)), named).toBe(true);
    for (const f of specs) {
      const r = await matgrad(['solve', path.join(ROOT, 'examples', 'specs', f), '-q', '--steps', '50']);
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
    }
  });
});

describe('output paths', () => {
  it.each([
    ['x.jpg'],
    ['x.pdf'],
    ['x'],
    ['x.svg.txt'],
  ])('--plot %s: exit 2 before running, naming .svg and .png', async (name) => {
    const r = await matgrad(['solve', spec, '-q', '--plot', path.join(dir, name)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--plot writes \.svg or \.png files/);
    expect(r.stdout).toBe('');
    expect(existsSync(path.join(dir, name))).toBe(false);
  });

  it.each([
    ['solve --plot into a missing directory', ['solve', '@spec', '-q', '--plot', '/nonexistent/x.svg'], '/nonexistent/x.svg'],
    ['compare --plot into a missing directory', ['compare', '@spec', '-q', '--plot', '/nonexistent/x.png'], '/nonexistent/x.png'],
    ['compare --report under /proc', ['compare', '@spec', '-q', '--report', '/proc/x'], '/proc/x'],
    ['compare --report where a file is', ['compare', '@spec', '-q', '--report', '@spec'], '@spec'],
    ['--plot onto a directory', ['solve', '@spec', '-q', '--plot', '@dir.svg'], '@dir.svg'],
    ['start --out under /proc', ['start', '--quick', '--only', 'inverse-diagonal-4x4', '--out', '/proc/x/report'], '/proc/x/report'],
    ['schema --out into a missing directory', ['schema', '--out', '/nonexistent/dir/schema.json'], '/nonexistent/dir/schema.json'],
  ])('%s: "matgrad: cannot write <path>: <reason>", exit 1, no stack', async (_what, args, target) => {
    const sub = (a: string) => a.replace('@spec', spec).replace('@dir', path.join(dir, 'adir'));
    // a directory that stands where the chart would go
    if (args.some((a) => a.startsWith('@dir'))) mkdirSync(path.join(dir, 'adir.svg'), { recursive: true });
    const r = await matgrad(args.map(sub));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`matgrad: cannot write ${sub(target)}: `);
    noStack(r.stderr);
    expect(r.stdout).not.toMatch(/step \d+/); // refused before the run
  });
});

describe('help', () => {
  it('bench --help prints the options and runs nothing', async () => {
    const t = performance.now();
    const r = await matgrad(['bench', '--help']);
    expect(r.code).toBe(0);
    for (const o of ['--json', '--only', '--runs', '--no-webgpu']) expect(r.stdout).toContain(o);
    expect(r.stderr).not.toMatch(/ ms\n/); // no benchmark row was measured
    expect(performance.now() - t).toBeLessThan(60_000);
  });

  it('bench with an unknown option: exit 2 naming it, runs nothing', async () => {
    const r = await matgrad(['bench', '--runz', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'--runz'");
  });

  it('bench --runs 0: exit 2', async () => {
    const r = await matgrad(['bench', '--runs', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--runs expects a positive integer');
  });
});

it('the schema file is readable JSON of the kinds', () => {
  const schema = JSON.parse(readFileSync(path.join(ROOT, 'schema', 'problem.schema.json'), 'utf8'));
  expect(JSON.stringify(schema)).toContain('"$schema"');
});
