import { describe, expect, it } from 'vitest';
import * as F from '../src/autograd/api.js';
import { compile } from '../src/autograd/compile.js';
import { inputTensor } from '../src/autograd/jit.js';
import { cancelThenStart } from '../scripts/soak-webgpu-cancel.js';
import { noteSkip, requireWebGpu, webgpuForTests } from './helpers/webgpu.js';

// A readback buffer must not return to the pool while a read still copies into it or maps it: a
// later program would reuse it and submit work on it ("used in submit while pending map").
const { gpu, reason } = await webgpuForTests();
if (!gpu) noteSkip('webgpu-cancel.test.ts', reason);

describe.skipIf(!gpu)('webgpu: disposing a program mid-read', () => {
  it.runIf(requireWebGpu)('has an adapter', () => expect(gpu, reason).not.toBeNull());

  it('a program compiled right after reuses no buffer of the pending read; both reads are right', async () => {
    const x = inputTensor([4, 4], 'float32');
    const plan = compile([x], [F.sum(F.mul(x, x)), F.mul(x, 2)]);
    const live = gpu!.stats().liveBuffers;
    // dispose after 0..3 microtasks: before the copy settles, before the map, while it is pending
    for (let i = 0; i < 40; i++) {
      const old = gpu!.compile(plan);
      old.write(0, new Float32Array(16).fill(1));
      old.run(1);
      const oldRead = old.read(1);
      for (let k = 0; k < i % 4; k++) await Promise.resolve();
      old.dispose();
      const next = gpu!.compile(plan);
      next.write(0, new Float32Array(16).fill(i));
      next.run(1);
      const [sum, twice] = await Promise.all([next.read(0), next.read(1)]);
      next.dispose();
      expect([sum[0], twice[0], twice[15]]).toEqual([16 * i * i, 2 * i, 2 * i]);
      expect(Array.from(await oldRead)).toEqual(new Array(16).fill(2));
    }
    expect(gpu!.stats().liveBuffers).toBe(live);
  });

  // 24 cycles cover every pair of cancel point and start delay; 720 take ~16 s on SwiftShader.
  // `VK_ICD_FILENAMES=… npx tsx scripts/soak-webgpu-cancel.ts 1000` runs the full acceptance soak.
  it('720 cancel-then-start cycles of solve() all succeed', { timeout: 180_000 }, async () => {
    const r = await cancelThenStart(720);
    expect(Object.fromEntries(r.messages)).toEqual({});
    expect(r.failures).toBe(0);
  });
});
