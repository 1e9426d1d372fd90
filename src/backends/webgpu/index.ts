/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend (float32).
 *
 * - Memory: every plan buffer lives in ONE storage buffer, the arena (256-byte aligned regions), so
 *   every shader binds a single buffer: no per-stage binding limits, one bind group per program.
 *   Readback copies a region into a pooled MAP_READ buffer; `write` is queue.writeBuffer.
 * - Kernels: fused elementwise chains, matmul, layout ops and partial reductions are generated WGSL
 *   with shapes, offsets and broadcast index maps baked in (tables in wgsl.ts and kernels.ts, typed
 *   over every op name). Copies (donated outputs) are copy shaders inside the arena.
 * - Two forms per program (see WebGpuExecutable): small plans run as one workgroup looping over
 *   steps (one dispatch per 1024 steps); larger ones as one dispatch per kernel per step, all steps
 *   of a run in one compute pass of one command buffer, step scalars from a per-step uniform row
 *   selected with a dynamic offset.
 * - Linear algebra (eigh, svd, solve, inv, cholesky, qr, det, slogdet, eig): one invocation per matrix
 *   in private memory, matrices up to 32×32 (linalg.ts); larger ones are refused at compile.
 * - Errors: float64 plans, ops without WGSL (customRoot: a host-side solver) and matrices over 32×32
 *   in decompositions are refused at compile;
 *   programs larger than the device's storage-buffer limit fail with the size; validation errors
 *   and device loss fail the next call with a clear message.
 */
import { OPS, type OpName } from '../../autograd/ops.js';
import type { Kernel, Plan } from '../../autograd/plan.js';
import { normalizeAxes, sizeOf } from '../../autograd/shape.js';
import { MatgradDTypeError, MatgradError } from '../../errors.js';
import type { Backend, BackendStats, Executable } from '../backend.js';
import { type AcquireOptions, acquireDevice } from './device.js';
import {
  fusedPiece,
  MEGA_CHUNK,
  MEGA_WORK,
  mapPiece,
  megaEligible,
  megaShader,
  type Piece,
  partialReduceWgsl,
  pieceShaders,
  type ShaderDispatch,
  scalarToken,
  scalarVec4s,
  WGSL_OPS,
} from './kernels.js';
import { type NonElementwiseOpName, WGSL_ELEMENTWISE } from './wgsl.js';

export { describeAdapterInfo, SWIFTSHADER_ICD } from './device.js';
export { WGSL_OPS } from './kernels.js';
export { type ElementwiseOpName, type NonElementwiseOpName, WGSL_ELEMENTWISE } from './wgsl.js';

// GPUBufferUsage / GPUMapMode values (the globals are absent in Node until Dawn's are installed)
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const UNIFORM = 0x40;
const STORAGE = 0x80;
const MODE_READ = 0x1;

/** Plan buffers start on 256-byte boundaries inside the arena (64 floats). */
const ALIGN = 64;
/** Steps per command buffer (the step-scalar table has one row per step). */
const MAX_STEPS_PER_SUBMIT = 65536;
const INITIAL_STEP_CAPACITY = 256;

export interface WebGpuOptions extends AcquireOptions {
  /** A backend on a new device of its own, instead of the process-wide shared one. */
  readonly fresh?: boolean;
}

let shared: Promise<WebGpuBackend | null> | null = null;

/**
 * The WebGPU backend, or null when no adapter exists. In Node it uses the npm `webgpu` package
 * (Dawn); on a machine without a GPU it falls back to SwiftShader when Chromium's ICD is installed.
 * In a browser it uses `navigator.gpu`. Calls without options share one device (re-acquired after a
 * device loss); `{ fresh: true }` or any other option gives a backend on a device of its own.
 */
export async function webgpuBackend(opts: WebGpuOptions = {}): Promise<WebGpuBackend | null> {
  const own = Object.keys(opts).length > 0;
  if (!own && shared) {
    const b = await shared;
    if (!b || !b.isLost) return b;
  }
  const made = acquireDevice(opts).then((a) => (a ? new WebGpuBackend(a.device, a.adapter, a.description) : null));
  if (!own) {
    shared = made;
    made.catch(() => {
      shared = null;
    });
  }
  return made;
}

/** Shared accounting of GPU buffers (like the CPU backend's, in real device buffers). */
interface Accounting {
  live: number;
  allocated: number;
  bytes: number;
}

/**
 * The WebGPU backend: float32 plans become WGSL compute shaders over one storage buffer (the arena)
 * holding every plan buffer; `run(n)` encodes n steps into one command buffer.
 */
const POOL_PER_SIZE = 8;
const POOL_BYTES = 256 * 1024 * 1024;

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  private readonly acct: Accounting = { live: 0, allocated: 0, bytes: 0 };
  private lostReason: string | null = null;
  private deviceError: string | null = null;
  private readonly pipelines = new Map<string, CompiledShader>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  /** Buffers of disposed programs by size and usage, reused (cleared) by later compiles. */
  private readonly pool = new Map<string, GPUBuffer[]>();
  private pooledBytes = 0;
  /**
   * Buffers an asynchronous operation still uses (a readback from its copy until its unmap), with
   * that operation settled: a buffer released meanwhile waits for it before it can enter the pool,
   * so a later program never submits work on a buffer that is about to be (or is being) mapped.
   */
  private readonly held = new Map<GPUBuffer, Promise<void>>();
  /** Resolves with the reason when the device is lost (or destroyed). */
  readonly lost: Promise<string>;
  /**
   * Plans whose every kernel is at most this many element operations compile to the single-workgroup
   * form (one dispatch loops over many steps); 0 forces one dispatch per kernel per step.
   */
  singleWorkgroupWork = MEGA_WORK;
  /**
   * A CPU implementation of WebGPU (SwiftShader, llvmpipe, WARP): workgroup barriers are costly there,
   * so large reductions write per-invocation partials instead of folding each workgroup with a tree.
   */
  cpuAdapter: boolean;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: GPUAdapter | null = null,
    private readonly description = 'unknown adapter',
  ) {
    const info = adapter?.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
    this.cpuAdapter = !!info?.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp/i.test(description);
    this.lost = device.lost.then((info) => {
      this.lostReason = `${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''}`;
      return this.lostReason;
    });
    // everything matgrad submits runs inside error scopes; anything else is reported once, at the next call
    device.addEventListener?.('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.deviceError ??= e?.message ?? String(e);
    });
  }

  /** Which adapter this backend runs on (vendor / architecture / description). */
  describeAdapter(): string {
    return this.description;
  }

  stats(): BackendStats {
    return { liveBuffers: this.acct.live, allocations: this.acct.allocated, liveBytes: this.acct.bytes };
  }

  /** Throws when the device is gone or reported an error that was not caught by a scope. */
  checkDevice(): void {
    if (this.lostReason !== null) {
      throw new MatgradError(
        `WebGPU device lost (${this.lostReason}); create a new backend with webgpuBackend() to continue`,
      );
    }
    if (this.deviceError !== null) {
      const message = this.deviceError;
      this.deviceError = null;
      throw new MatgradError(`WebGPU device error: ${message}`);
    }
  }

  /** True once the device was lost or destroyed. */
  get isLost(): boolean {
    return this.lostReason !== null;
  }

  /** Destroys the device (every executable on it fails from now on). */
  destroy(): void {
    this.drainPool();
    this.device.destroy();
  }

  /** Destroys the pooled buffers of disposed programs (they are not counted as live). */
  drainPool(): void {
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
  }

  /** Largest single buffer this device binds as storage. */
  get maxBufferBytes(): number {
    const l = this.device.limits;
    return Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);
  }

  /** @internal */
  createBuffer(size: number, usage: number, label: string): GPUBuffer {
    const limit = this.device.limits.maxBufferSize;
    if (size > limit) {
      throw new MatgradError(
        `WebGPU out of memory: ${label} needs ${size} bytes (${mib(size)}), more than this device's maxBufferSize of ${limit} bytes (${mib(limit)})`,
      );
    }
    const reused = this.lostReason ? undefined : this.pool.get(`${size}:${usage}`)?.pop();
    if (reused) {
      // a buffer of a disposed program: zero it like a new one (ordered before any later use)
      this.pooledBytes -= size;
      const enc = this.device.createCommandEncoder();
      enc.clearBuffer(reused);
      this.device.queue.submit([enc.finish()]);
      reused.label = label;
    }
    const b = reused ?? this.device.createBuffer({ size, usage, label });
    this.acct.live++;
    if (!reused) this.acct.allocated++;
    this.acct.bytes += size;
    return b;
  }

  /** @internal Keeps `b` out of the pool until `use` settles (see `held`). */
  hold(b: GPUBuffer, use: Promise<unknown>): void {
    const settled = use.then(
      () => undefined,
      () => undefined,
    );
    this.held.set(b, settled);
    void settled.then(() => {
      if (this.held.get(b) === settled) this.held.delete(b);
    });
  }

  /** @internal Releases a program's buffer: pooled (or destroyed) once nothing uses it any more. */
  destroyBuffer(b: GPUBuffer): void {
    this.acct.live--;
    this.acct.bytes -= b.size;
    const use = this.held.get(b);
    if (use) void use.then(() => this.recycle(b));
    else this.recycle(b);
  }

  private recycle(b: GPUBuffer): void {
    const key = `${b.size}:${b.usage}`;
    const list = this.pool.get(key) ?? [];
    const poolable = !this.lostReason && b.mapState === 'unmapped' && (b.usage & COPY_DST) !== 0;
    if (poolable && list.length < POOL_PER_SIZE && this.pooledBytes + b.size <= POOL_BYTES) {
      list.push(b);
      this.pool.set(key, list);
      this.pooledBytes += b.size;
    } else b.destroy();
  }

  /** @internal Bind group layouts: arena only; arena + per-step scalar uniform; the single-workgroup form. */
  layout(kind: 'plain' | 'scalars' | 'single', withTable = false): GPUBindGroupLayout {
    const key = kind === 'single' ? `single${withTable ? '+table' : ''}` : kind;
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: 4, buffer: { type: 'storage' } }];
      if (kind === 'scalars')
        entries.push({ binding: 1, visibility: 4, buffer: { type: 'uniform', hasDynamicOffset: true } });
      if (kind === 'single') {
        if (withTable) entries.push({ binding: 1, visibility: 4, buffer: { type: 'read-only-storage' } });
        entries.push({ binding: 2, visibility: 4, buffer: { type: 'uniform', hasDynamicOffset: true } });
      }
      l = this.device.createBindGroupLayout({ label: `matgrad ${key}`, entries });
      this.layouts.set(key, l);
    }
    return l;
  }

  /** @internal Pipelines are cached by source: identical kernels compile once per device. */
  pipeline(code: string, layout: 'plain' | 'scalars' | 'single', label: string): CompiledShader {
    const key = `${layout}\n${code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code, label });
      const pipeline = this.device.createComputePipeline({
        label,
        layout: this.device.createPipelineLayout({
          bindGroupLayouts: [this.layout(layout, layout === 'single' && code.includes('var<storage, read> T'))],
        }),
        compute: { module, entryPoint: 'main' },
      });
      p = { pipeline, module, code, label };
      this.pipelines.set(key, p);
    }
    return p;
  }

  compile(plan: Plan): WebGpuExecutable {
    this.checkDevice();
    const f64 = plan.buffers.findIndex((b) => b.dtype !== 'float32');
    if (f64 >= 0) {
      throw new MatgradDTypeError(
        `WebGPU runs float32 only (WGSL has no f64), but this program has ${plan.buffers[f64].dtype} buffers; build it with dtype 'float32' (e.g. mg.tensor(data, { dtype: 'float32' })) or use the CPU backend`,
      );
    }
    return new WebGpuExecutable(this, plan);
  }
}

interface CompiledShader {
  readonly pipeline: GPUComputePipeline;
  readonly module: GPUShaderModule;
  readonly code: string;
  readonly label: string;
}

/** WGSL compiler errors of the given shaders, with the offending lines (for error messages). */
async function shaderErrors(shaders: readonly CompiledShader[]): Promise<string> {
  const out: string[] = [];
  for (const s of new Set(shaders)) {
    const info = await s.module.getCompilationInfo();
    const lines = s.code.split('\n');
    for (const m of info.messages) {
      if (m.type !== 'error') continue;
      out.push(`${s.label}: ${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`);
    }
  }
  return out.join('\n');
}

/**
 * Runs `fn` inside error scopes of the given filters; resolves with the first error they caught.
 * When `fn` throws, the scopes are popped and the error rethrown.
 */
function scoped(device: GPUDevice, filters: readonly GPUErrorFilter[], fn: () => void): Promise<GPUError | null> {
  for (const f of filters) device.pushErrorScope(f);
  try {
    fn();
  } catch (e) {
    for (let i = 0; i < filters.length; i++) void device.popErrorScope();
    throw e;
  }
  return Promise.all(filters.map(() => device.popErrorScope())).then((errors) => errors.find((e) => e !== null) ?? null);
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function describe(k: Kernel): string {
  if (k.kind === 'fused') return `fused ${k.exprs.map((e) => e.op).join(',')} over [${k.shape}]`;
  if (k.kind === 'op') return `${k.op} [${k.ins.map((r) => `[${r.shape}]`).join(', ')}]`;
  return 'copy';
}

/**
 * A compiled plan on the device: arena, pipelines and bind groups exist from compile on.
 *
 * Two forms. Small plans (every kernel ≤ MEGA_WORK element operations) become ONE shader run by a
 * single workgroup that loops over the steps, kernels separated by storage barriers: a run of n steps
 * is ⌈n / MEGA_CHUNK⌉ dispatches. Larger plans get one dispatch per kernel per step (plus a second
 * pass for big full reductions), all steps encoded into one compute pass of one command buffer.
 */
export class WebGpuExecutable implements Executable {
  /** 'single': one workgroup loops over steps; 'multi': a dispatch per kernel per step. */
  readonly form: 'single' | 'multi';
  private readonly offsets: number[];
  // assigned inside the constructor's error scopes
  private arena!: GPUBuffer;
  private passes: { pipeline: GPUComputePipeline; x: number; y: number }[] = [];
  private shaders: CompiledShader[] = [];
  /** The first error this program met on the device (validation, out of memory); it fails from then on. */
  private failure: string | null = null;
  /** Error scope of the last submit, settled before reads report. */
  private pending: Promise<void> = Promise.resolve();
  private readonly nScalars: number;
  /** Bytes between consecutive rows of the scalar table (multi: uniform rows; single: packed floats). */
  private readonly rowBytes: number;
  private table: GPUBuffer | null = null;
  private tableHost = new Float32Array(0);
  private capacity = 0;
  /** single form: one {first, count} uniform row per dispatch (chunk of steps). */
  private runRows: GPUBuffer | null = null;
  private readonly runHost = new Uint32Array((Math.ceil(MAX_STEPS_PER_SUBMIT / MEGA_CHUNK) * 256) / 4);
  private bindGroup: GPUBindGroup | null = null;
  private dynamicOffsets: Uint32Array = new Uint32Array(0);
  /** Current value of each step scalar (write() or the last step's), used when run() gets no callback. */
  private readonly scalarNow: Float64Array;
  private readonly scratchScalars: Float64Array;
  /** Per output: its free readback buffers (a read takes one and gives it back when it is unmapped). */
  private staging: GPUBuffer[][] = [];
  private readonly owned = new Set<GPUBuffer>();
  private disposed = false;
  /** Settles when creating buffers and pipelines was validated (errors fail later calls). */
  readonly ready: Promise<void>;

  constructor(
    private readonly backend: WebGpuBackend,
    private readonly plan: Plan,
  ) {
    const device = backend.device;
    // ---- arena layout: every plan buffer, then scratch for partial reductions
    let end = 0;
    const region = (count: number) => {
      const o = end;
      end += Math.ceil(Math.max(1, count) / ALIGN) * ALIGN;
      return o;
    };
    this.offsets = plan.buffers.map((b) => region(b.size));
    const nScalars = plan.stepScalars.length;
    this.nScalars = nScalars;
    this.scalarNow = new Float64Array(nScalars);
    this.scratchScalars = new Float64Array(nScalars);
    const slotOf = new Map(plan.stepScalars.map((b, j) => [b, j]));

    // ---- kernels as pieces, then shaders (all before anything is allocated: a bad plan leaks nothing)
    const pieces = this.pieces(slotOf);
    this.form = megaEligible(pieces, backend.singleWorkgroupWork) ? 'single' : 'multi';
    const shaders: ShaderDispatch[] = [];
    if (this.form === 'single') {
      if (pieces.length) shaders.push({ code: megaShader(pieces, nScalars).code, x: 1, y: 1, label: 'step' });
      this.rowBytes = nScalars * 4;
    } else {
      for (const p of pieces) shaders.push(...pieceShaders(p, nScalars, region, !backend.cpuAdapter));
      const align = device.limits.minUniformBufferOffsetAlignment;
      this.rowBytes = Math.ceil((scalarVec4s(nScalars) * 16) / align) * align;
    }
    const arenaBytes = end * 4;
    if (arenaBytes > backend.maxBufferBytes) {
      throw new MatgradError(
        `WebGPU out of memory: this program needs ${arenaBytes} bytes (${mib(arenaBytes)}) of device memory in one storage buffer, more than this device allows (${backend.maxBufferBytes} bytes, ${mib(backend.maxBufferBytes)}); use a smaller batch`,
      );
    }

    // ---- device objects, each stage in its own error scopes so a failure names its stage
    const layout = this.form === 'single' ? 'single' : nScalars > 0 ? 'scalars' : 'plain';
    let compiled: Promise<GPUError | null>;
    let allocated: Promise<GPUError | null>;
    try {
      compiled = scoped(device, ['validation'], () => {
        this.shaders = shaders.map((s) => backend.pipeline(s.code, layout, s.label));
        this.passes = shaders.map((s, i) => ({ pipeline: this.shaders[i].pipeline, x: s.x, y: s.y }));
      });
      allocated = scoped(device, ['out-of-memory', 'validation'], () => {
        this.arena = this.own(backend.createBuffer(arenaBytes, STORAGE | COPY_SRC | COPY_DST, 'matgrad arena'));
        for (const c of plan.constants) {
          if (c.data.length)
            device.queue.writeBuffer(this.arena, this.offsets[c.buffer] * 4, Float32Array.from(c.data).buffer);
        }
        this.staging = plan.outputs.map((b) => [this.newStaging(b)]);
        if (this.form === 'single') {
          this.runRows = this.own(backend.createBuffer(this.runHost.byteLength, UNIFORM | COPY_DST, 'matgrad run'));
          this.dynamicOffsets = Uint32Array.from({ length: this.runHost.length / 64 }, (_, c) => c * 256);
        }
        if (nScalars > 0) this.growTable(INITIAL_STEP_CAPACITY);
        else this.bindGroup = this.makeBindGroup();
      });
    } catch (e) {
      this.dispose();
      throw e;
    }
    this.ready = Promise.all([compiled, allocated]).then(async ([c, a]) => {
      if (c) {
        const wgsl = await shaderErrors(this.shaders);
        this.failure ??= `WebGPU: compiling the program failed: ${c.message}${wgsl ? `\n${wgsl}` : ''}`;
      } else if (a) this.failure ??= `WebGPU: allocating the program's device buffers failed: ${a.message}`;
    });
  }

  /** Every kernel of the plan as a piece (validating ops first). */
  private pieces(slotOf: Map<number, number>): Piece[] {
    const plan = this.plan;
    const pieces: Piece[] = [];
    const ref = (r: { buffer: number; shape: readonly number[] }) => ({ offset: this.offsets[r.buffer], shape: r.shape });
    // step scalars read outside fused loads need their arena slots refreshed each step
    const scalarRead =
      slotOf.size > 0 &&
      (plan.kernels.some(
        (k) =>
          (k.kind === 'op' && k.ins.some((r) => slotOf.has(r.buffer))) || (k.kind === 'copy' && slotOf.has(k.from)),
      ) ||
        plan.outputs.some((b) => slotOf.has(b)));
    if (scalarRead) {
      const body = plan.stepScalars.map((b, j) => `  A[${this.offsets[b]}u] = ${scalarToken(j)};\n`).join('');
      pieces.push(mapPiece({ threads: 1, body }, 'step scalars'));
    }
    const ctx = { offset: (b: number) => this.offsets[b], scalarSlot: (b: number) => slotOf.get(b) ?? -1 };
    plan.kernels.forEach((k, i) => {
      const label = `kernel ${i}: ${describe(k)}`;
      if (k.kind === 'fused') {
        const p = fusedPiece(k, ctx, label);
        if (p) pieces.push(p);
        return;
      }
      if (k.kind === 'copy') {
        const n = plan.buffers[k.to].size;
        const body = `  A[${this.offsets[k.to]}u + i] = A[${this.offsets[k.from]}u + i];\n`;
        if (n > 0) pieces.push(mapPiece({ threads: n, body }, label));
        return;
      }
      const def = OPS[k.op];
      const entry = WGSL_OPS[k.op as NonElementwiseOpName];
      if (!entry) {
        const elementwise = k.op in WGSL_ELEMENTWISE;
        throw new MatgradError(
          `WebGPU: op '${k.op}' ${elementwise ? 'is elementwise and should have been fused' : 'has no WGSL kernel'}`,
        );
      }
      if (entry.kind === 'unsupported') throw new MatgradError(`WebGPU: op '${k.op}' is not supported yet: ${entry.reason}`);
      if (entry.kind === 'none') throw new MatgradError(`WebGPU: op '${k.op}' cannot run as a kernel`);
      const ins = k.ins.map(ref);
      const outs = k.outs.map(ref);
      if (outs.every((o) => sizeOf(o.shape) === 0)) return;
      if (entry.kind === 'reduce') {
        if (def.kind !== 'reduce') throw new MatgradError(`WebGPU: op '${k.op}' is not a reduction`);
        const axes = normalizeAxes(k.op, k.attrs.axes as number[] | undefined, ins[0].shape.length);
        const divisor = def.divisor(ins[0].shape, k.attrs);
        pieces.push(mapPiece(partialReduceWgsl(ins[0], outs[0], axes, def.reducer, divisor), label));
      } else {
        pieces.push(mapPiece(entry.wgsl({ ins, outs, attrs: k.attrs }), label));
      }
    });
    return pieces;
  }

  private own(b: GPUBuffer): GPUBuffer {
    this.owned.add(b);
    return b;
  }

  private newStaging(buffer: number): GPUBuffer {
    const bytes = Math.max(4, this.plan.buffers[buffer].size * 4);
    return this.own(this.backend.createBuffer(bytes, MAP_READ | COPY_DST, 'matgrad readback'));
  }

  private makeBindGroup(): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena } }];
    if (this.form === 'single') {
      if (this.table) entries.push({ binding: 1, resource: { buffer: this.table } });
      entries.push({ binding: 2, resource: { buffer: this.runRows!, size: 16 } });
      return this.backend.device.createBindGroup({ layout: this.backend.layout('single', this.table !== null), entries });
    }
    if (this.table) entries.push({ binding: 1, resource: { buffer: this.table, size: scalarVec4s(this.nScalars) * 16 } });
    return this.backend.device.createBindGroup({
      layout: this.backend.layout(this.table ? 'scalars' : 'plain'),
      entries,
    });
  }

  /** The step-scalar table holds one row per step of a submit; it grows by doubling. */
  private growTable(steps: number): void {
    const maxSteps = Math.min(MAX_STEPS_PER_SUBMIT, Math.floor(this.backend.device.limits.maxBufferSize / this.rowBytes));
    const cap = Math.min(maxSteps, Math.max(steps, this.capacity * 2, INITIAL_STEP_CAPACITY));
    if (cap <= this.capacity) return;
    const usage = this.form === 'single' ? STORAGE | COPY_DST : UNIFORM | COPY_DST;
    const next = this.own(this.backend.createBuffer(cap * this.rowBytes, usage, 'matgrad step scalars'));
    if (this.table) {
      this.owned.delete(this.table);
      this.backend.destroyBuffer(this.table);
    }
    this.table = next;
    this.capacity = cap;
    this.tableHost = new Float32Array((cap * this.rowBytes) / 4);
    if (this.form === 'multi') this.dynamicOffsets = Uint32Array.from({ length: cap }, (_, s) => s * this.rowBytes);
    this.bindGroup = this.makeBindGroup();
  }

  private check(): void {
    if (this.disposed) throw new MatgradError('this compiled program was disposed');
    this.backend.checkDevice();
    if (this.failure !== null) throw new MatgradError(this.failure);
  }

  write(i: number, values: ArrayLike<number>): void {
    this.check();
    const b = this.plan.inputs[i];
    if (b === undefined) throw new MatgradError(`write: program has ${this.plan.inputs.length} inputs, not ${i + 1}`);
    const size = this.plan.buffers[b].size;
    if (values.length !== size) throw new MatgradError(`write: input ${i} holds ${size} values, got ${values.length}`);
    const slot = this.plan.stepScalars.indexOf(b);
    if (slot >= 0) this.scalarNow[slot] = values[0];
    if (size === 0) return;
    const data = Float32Array.from(values);
    this.backend.device.queue.writeBuffer(this.arena, this.offsets[b] * 4, data.buffer, 0, size * 4);
  }

  /**
   * Runs up to `steps` steps in one command buffer (split only past MAX_STEPS_PER_SUBMIT) and returns
   * how many were submitted. `beforeStep` runs for every step before any is encoded (the host fills
   * the scalar table ahead of the device); returning false at step s submits steps 0..s-1 only.
   * Without a callback, step scalars keep their current values (written, or the last step's).
   */
  run(steps: number, beforeStep?: (step: number, scalars: Float64Array) => boolean | undefined): number {
    this.check();
    if (!(steps > 0)) return 0;
    if (this.nScalars === 0) {
      for (let done = 0; done < steps; done += MAX_STEPS_PER_SUBMIT)
        this.submit(Math.min(MAX_STEPS_PER_SUBMIT, steps - done), false);
      return steps;
    }
    this.growTable(Math.min(steps, MAX_STEPS_PER_SUBMIT));
    const S = this.scratchScalars;
    const n = this.nScalars;
    const stride = this.rowBytes / 4;
    const fixed = !beforeStep && this.form === 'multi';
    let done = 0;
    while (done < steps) {
      const chunk = Math.min(this.capacity, steps - done);
      let filled = 0;
      if (!beforeStep) {
        // every row holds the current values (multi: one row, reused by every step)
        const rows = fixed ? 1 : chunk;
        for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) this.tableHost[r * stride + j] = this.scalarNow[j];
        filled = chunk;
      } else {
        for (; filled < chunk; filled++) {
          if (beforeStep(done + filled, S) === false) break;
          const row = filled * stride;
          for (let j = 0; j < n; j++) this.tableHost[row + j] = S[j];
        }
        if (filled > 0) this.scalarNow.set(S);
      }
      if (filled > 0) {
        const bytes = (fixed ? 1 : filled) * this.rowBytes;
        this.backend.device.queue.writeBuffer(this.table!, 0, this.tableHost.buffer, 0, bytes);
        this.submit(filled, !fixed);
      }
      done += filled;
      if (filled < chunk) break;
    }
    return done;
  }

  /** Encodes `steps` steps (one compute pass, one command buffer) and submits them. */
  private submit(steps: number, perStepRows: boolean): void {
    if (this.passes.length === 0) return;
    const device = this.backend.device;
    const group = this.bindGroup!;
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    if (this.form === 'single') {
      // one dispatch per chunk of steps; row c of the run uniform says which steps
      const chunks = Math.ceil(steps / MEGA_CHUNK);
      for (let c = 0; c < chunks; c++) {
        this.runHost[c * 64] = c * MEGA_CHUNK;
        this.runHost[c * 64 + 1] = Math.min(MEGA_CHUNK, steps - c * MEGA_CHUNK);
      }
      device.queue.writeBuffer(this.runRows!, 0, this.runHost.buffer, 0, chunks * 256);
      pass.setPipeline(this.passes[0].pipeline);
      for (let c = 0; c < chunks; c++) {
        pass.setBindGroup(0, group, this.dynamicOffsets, c, 1);
        pass.dispatchWorkgroups(1);
      }
    } else {
      const passes = this.passes;
      const scalars = this.nScalars > 0;
      if (!scalars) pass.setBindGroup(0, group);
      else if (!perStepRows) pass.setBindGroup(0, group, this.dynamicOffsets, 0, 1);
      let last: GPUComputePipeline | null = null;
      for (let s = 0; s < steps; s++) {
        if (scalars && perStepRows) pass.setBindGroup(0, group, this.dynamicOffsets, s, 1);
        for (let k = 0; k < passes.length; k++) {
          const p = passes[k];
          if (p.pipeline !== last) {
            pass.setPipeline(p.pipeline);
            last = p.pipeline;
          }
          pass.dispatchWorkgroups(p.x, p.y);
        }
      }
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
    const scope = device.popErrorScope();
    this.pending = Promise.all([this.pending, scope]).then(([, err]) => {
      if (err) this.failure ??= `WebGPU: running the program failed: ${err.message}`;
    });
  }

  async read(o: number): Promise<Float32Array> {
    this.check();
    const b = this.plan.outputs[o];
    if (b === undefined) throw new MatgradError(`read: program has ${this.plan.outputs.length} outputs, not ${o + 1}`);
    const size = this.plan.buffers[b].size;
    if (size === 0) return new Float32Array(0);
    const free = this.staging[o];
    const staging = free.pop() ?? this.newStaging(b);
    const device = this.backend.device;
    const copied = scoped(device, ['validation'], () => {
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(this.arena, this.offsets[b] * 4, staging, 0, size * 4);
      device.queue.submit([encoder.finish()]);
    });
    const reading = this.mapAndCopy(o, staging, size, copied);
    // until it settles, disposing this program does not release the buffer to the pool
    this.backend.hold(staging, reading);
    try {
      return await reading;
    } finally {
      if (!this.disposed && staging.mapState === 'unmapped') free.push(staging);
    }
  }

  /** The second half of `read`: waits for the program and the copy, then maps, copies out and unmaps. */
  private async mapAndCopy(o: number, staging: GPUBuffer, size: number, copied: Promise<GPUError | null>): Promise<Float32Array> {
    try {
      await this.ready;
      await this.pending;
      if (this.failure !== null) throw new MatgradError(this.failure);
      const err = await copied;
      if (err) throw new MatgradError(`WebGPU: reading output ${o} back failed: ${err.message}`);
      await staging.mapAsync(MODE_READ, 0, size * 4);
    } catch (e) {
      this.backend.checkDevice();
      if (e instanceof MatgradError) throw e;
      throw new MatgradError(`WebGPU: reading output ${o} back failed: ${(e as Error).message}`);
    }
    try {
      return new Float32Array(staging.getMappedRange(0, size * 4).slice(0));
    } finally {
      staging.unmap();
    }
  }

  readSync(_o: number): Float32Array {
    throw new MatgradError('readSync is CPU-only: WebGPU readback is asynchronous; use `await exe.read(o)` instead');
  }

  view(_o: number): Float32Array {
    throw new MatgradError('view is CPU-only: WebGPU buffers live on the device; use `await exe.read(o)` for a copy');
  }

  /** Waits until every submitted step has finished on the device; throws on device errors. */
  async flush(): Promise<void> {
    this.check();
    await this.ready;
    await this.pending;
    await this.backend.device.queue.onSubmittedWorkDone();
    this.check();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.owned) this.backend.destroyBuffer(b);
    this.owned.clear();
  }
}

/** Ops without their own WGSL kernel on this backend (for docs and tests). */
export function unsupportedOps(): OpName[] {
  return (Object.keys(WGSL_OPS) as NonElementwiseOpName[]).filter((op) => WGSL_OPS[op].kind === 'unsupported');
}
