// Inside a clone, after `npm ci` (whose `prepare` script builds dist/), the package imports itself by
// name and its bin runs: what the README's quick start promises.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };

describe('the package inside its clone', () => {
  it('npm ci builds dist/ (prepare runs the build)', () => {
    expect(pkg.scripts.prepare).toBe('npm run build');
  });

  it("import 'matgrad' resolves to the built package and computes", () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const mg = await import('matgrad'); console.log(JSON.stringify(mg.matmul(mg.eye(2), mg.tensor([[1, 2], [3, 4]])).arraySync()))"], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([[1, 2], [3, 4]]);
  });

  it('the bin (dist/cli.js) runs', () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, pkg.bin.matgrad), '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
