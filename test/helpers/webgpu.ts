import { compile } from '../../src/autograd/compile.js';
import { inputTensor } from '../../src/autograd/jit.js';
import type { Backend } from '../../src/backends/backend.js';
import { type WebGpuBackend, webgpuBackend } from '../../src/backends/webgpu/index.js';
import type { Tensor } from '../../src/index.js';

/** CI sets MATGRAD_REQUIRE_WEBGPU=1: there, a missing adapter is a test failure, not a skip. */
export const requireWebGpu = process.env.MATGRAD_REQUIRE_WEBGPU === '1';

export interface WebGpuForTests {
  /** The shared backend of this test process, or null. */
  readonly gpu: WebGpuBackend | null;
  /** Why there is no backend (empty when there is one). */
  readonly reason: string;
}

let shared: Promise<WebGpuForTests> | null = null;

/** One WebGPU backend per test process (acquisition is slow); never throws. */
export function webgpuForTests(): Promise<WebGpuForTests> {
  shared ??= webgpuBackend().then(
    (gpu) => ({
      gpu,
      reason: gpu
        ? ''
        : 'no WebGPU adapter (Node: install the npm `webgpu` package; without a GPU, Debian `libvulkan1 chromium` for SwiftShader)',
    }),
    (e: unknown) => ({ gpu: null, reason: `acquiring a WebGPU device failed: ${(e as Error).message}` }),
  );
  return shared;
}

/** Logs why WebGPU tests are skipped (once per file). */
export function noteSkip(file: string, reason: string): void {
  if (requireWebGpu) return;
  console.warn(`[${file}] skipping WebGPU tests: ${reason}. Set MATGRAD_REQUIRE_WEBGPU=1 to make this a failure.`);
}

/** Runs `fn` on float32 inputs through a compiled plan on a backend; returns every output. */
export async function runFloat32(b: Backend, inputs: readonly Tensor[], fn: (...xs: Tensor[]) => Tensor[]): Promise<(Float32Array | Float64Array)[]> {
  const ins = inputs.map((x) => inputTensor(x.shape, 'float32'));
  const plan = compile(ins, fn(...ins));
  const exe = b.compile(plan);
  try {
    inputs.forEach((x, i) => exe.write(i, x.dataSync()));
    exe.run(1);
    return await Promise.all(plan.outputs.map((_, o) => exe.read(o)));
  } finally {
    exe.dispose();
  }
}
