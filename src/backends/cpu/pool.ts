import type * as WorkerThreads from 'node:worker_threads';

/**
 * A Node built-in module loaded synchronously without a static import (so that bundles for the
 * browser, where there is none, still load this file); undefined where unavailable.
 */
export function nodeBuiltin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.(name) as T | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Worker threads for batch-tiled programs, and the protocol both sides share.
 *
 * A program lives in one shared WebAssembly.Memory. Every thread instantiates it once ('load') into a
 * `tile(t)` function over its own views. A run is lockstep: the host thread writes the step's scalars,
 * publishes a fresh work word `epoch << 20 | 0` and bumps GEN; every thread (the host included) then
 * claims tiles by compare-and-swap on that word until none is left, counting finished tiles in DONE.
 * The host waits for DONE = tiles, combines the reductions' partials, and goes on to the next step.
 * Tiles are claimed dynamically, so a late or descheduled worker never holds a step up, and the
 * epoch in the work word keeps a stale worker from ever claiming a tile of another step or run.
 */

/** ctrl slots (Int32Array over a SharedArrayBuffer) */
export const GEN = 0;
export const CMD = 1;
export const WORK = 2;
export const DONE = 3;
export const ERR = 4;
/** 0: the published work is one step of every tile; S > 0: S steps of every tile, tile by tile */
export const STEPS = 5;
const CTRL_SLOTS = 8;
/** Memory of dropped programs the workers may hold before they are restarted (see WorkerPool.retained). */
export const RECYCLE_BYTES = 32 * 2 ** 20;
/** bits of the work word below the epoch: tile indices; at most 2^20 − 1 tiles a step */
export const MAX_TILES = (1 << 20) - 1;

/** Plain JS (no TypeScript, no imports): evaluated on the host thread and inside every worker. */
export const RUNTIME_SOURCE = `
const GEN = ${GEN}, CMD = ${CMD}, WORK = ${WORK}, DONE = ${DONE}, ERR = ${ERR}, STEPS = ${STEPS};
const SHIFT = 20, INDEX = ${MAX_TILES}, EPOCH = 0x7ff;
/** Builds tile(t) of a program for thread \`thread\` (its views, its scratch, its wasm instance). */
function instantiate(p, thread) {
  const buf = p.memory.buffer;
  const tmp = p.tmpBase + thread * p.tmpStride;
  const V = p.views.map((v) =>
    v === null ? null : new (v.f64 ? Float64Array : Float32Array)(buf, v.local ? tmp + v.offset : v.offset, v.length));
  const X = p.module ? new WebAssembly.Instance(p.module, { env: { mem: p.memory } }).exports : null;
  const PT = new Float64Array(buf, p.ptOffset, p.ptLength);
  const TB = new Float64Array(buf, p.tableOffset, p.tableLength);
  const code = new Function('V', 'X', 'PT', 'TMP', 'PTB', 'TB', p.source)(V, X, PT, tmp, p.ptOffset, TB);
  return { tile: code.tile, steps: code.steps, V, PT, TB };
}
/**
 * Claims and runs tiles of epoch ep until none is left, then adds the tiles it ran to DONE. For one
 * step of every tile (count 0), guided chunks (a share of what is left, smaller towards the end) keep
 * claims few and the threads balanced; for count > 0 steps of every tile, a claim is one tile.
 */
function drain(ctrl, ep, tiles, code, count, threads, guard) {
  let done = 0;
  for (;;) {
    const w = Atomics.load(ctrl, WORK);
    if ((w >>> SHIFT) !== ep) break;
    const t = w & INDEX;
    if (t >= tiles) break;
    let c = count > 0 ? 1 : ((tiles - t) / (3 * threads)) | 0;
    if (c < 1) c = 1;
    if (Atomics.compareExchange(ctrl, WORK, w, w + c) !== w) continue;
    for (let i = t; i < t + c; i++) {
      try {
        if (count > 0) code.steps(i, count);
        else code.tile(i);
      } catch (e) {
        if (!guard) throw e;
        guard(e);
      }
    }
    done += c;
  }
  if (done > 0 && Atomics.add(ctrl, DONE, done) + done === tiles) Atomics.notify(ctrl, DONE);
}
return { instantiate, drain, SHIFT, EPOCH };
`;

/** A program instantiated on one thread: see tiledSource. */
export interface TileCode {
  tile(t: number): void;
  steps(t: number, count: number): void;
}

export interface Runtime {
  instantiate(
    p: LoadedProgram,
    thread: number,
  ): TileCode & { V: (Float32Array | Float64Array | null)[]; PT: Float64Array; TB: Float64Array };
  drain(ctrl: Int32Array, ep: number, tiles: number, code: TileCode, count: number, threads: number): void;
  readonly SHIFT: number;
  readonly EPOCH: number;
}

export const runtime = new Function(RUNTIME_SOURCE)() as Runtime;

/** What a thread needs to instantiate a program (structured-cloneable: memory and module are shared). */
export interface LoadedProgram {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module | null;
  readonly source: string;
  /** Per plan buffer: where its view lies (`local`: relative to the thread's scratch), or null. */
  readonly views: readonly ({ offset: number; length: number; f64: boolean; local: boolean } | null)[];
  readonly tmpBase: number;
  readonly tmpStride: number;
  readonly ptOffset: number;
  readonly ptLength: number;
  /** The step-scalar table: up to `tableLength / scalars` steps ahead. */
  readonly tableOffset: number;
  readonly tableLength: number;
  readonly tiles: number;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const rt = new Function(${JSON.stringify(RUNTIME_SOURCE)})();
const programs = new Map();
let ctrl = null, thread = 0, threads = 1, errors = null;
const SPIN = 20000;
function report(e) {
  Atomics.store(ctrl, ${ERR}, 1);
  errors.postMessage(String((e && e.stack) || e));
}
function loop(p, token, seen) {
  for (;;) {
    let g, spins = 0;
    while ((g = Atomics.load(ctrl, ${GEN})) === seen) {
      if (++spins > SPIN) { Atomics.wait(ctrl, ${GEN}, seen); spins = 0; }
    }
    seen = g;
    if (Atomics.load(ctrl, ${CMD}) !== token) return;
    rt.drain(ctrl, g & rt.EPOCH, p.tiles, p.code, Atomics.load(ctrl, ${STEPS}), threads, report);
  }
}
parentPort.on('message', (m) => {
  if (m.type === 'init') {
    ctrl = new Int32Array(m.ctrl);
    thread = m.thread;
    threads = m.threads;
    errors = m.errors;
  } else if (m.type === 'load') {
    try {
      programs.set(m.id, { code: rt.instantiate(m.program, thread), tiles: m.program.tiles });
    } catch (e) {
      report(e);
    }
  } else if (m.type === 'drop') {
    programs.delete(m.id);
  } else if (m.type === 'run') {
    const p = programs.get(m.id);
    if (p) loop(p, m.token, m.gen);
  }
});
`;

/**
 * Lazily started worker threads (unref'd: they never keep the process alive), shared by every batched
 * program of one backend. Each program is loaded into every worker once; the pool shuts down when the
 * last program using it is disposed.
 */
export class WorkerPool {
  readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL_SLOTS * 4));
  private workers: WorkerThreads.Worker[] = [];
  private errorPorts: WorkerThreads.MessagePort[] = [];
  private nextId = 1;
  private token = 0;
  /** Programs loaded into the running workers, with their memory's bytes. */
  private readonly loaded = new Map<number, number>();
  /**
   * Bytes of memories of programs dropped since the workers started. A worker lets go of a dropped
   * program at once, but its memory is freed only when that worker's isolate collects garbage, which
   * an idle worker (it allocates next to nothing) may never do: past RECYCLE_BYTES the workers are
   * restarted, which frees everything they held.
   */
  private retained = 0;
  /** Between begin() and stop(): workers are inside a run and must not be stopped. */
  private inRun = false;
  private recycleDue = false;

  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * `size` workers beside the host thread (the host is thread 0, workers are 1..size); they stop
   * `idleMs` after the last program using them is dropped (0: at once).
   */
  private constructor(
    private readonly wt: typeof WorkerThreads,
    readonly size: number,
    private readonly idleMs: number,
  ) {}

  /** A pool of `size` workers, or null where worker threads or shared memory are unavailable. */
  static create(size: number, idleMs: number): WorkerPool | null {
    const wt = nodeBuiltin<typeof WorkerThreads>('node:worker_threads');
    if (!wt || size < 1 || typeof SharedArrayBuffer === 'undefined') return null;
    return new WorkerPool(wt, size, idleMs);
  }

  get running(): number {
    return this.workers.length;
  }

  newId(): number {
    return this.nextId++;
  }

  private start(): void {
    if (this.workers.length) return;
    for (let i = 0; i < this.size; i++) {
      const { port1, port2 } = new this.wt.MessageChannel();
      port1.unref();
      this.errorPorts.push(port1);
      const w = new this.wt.Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      // a worker error reaches the host through ERR and the error port; keep 'error' from throwing
      w.on('error', () => {});
      w.postMessage(
        { type: 'init', ctrl: this.ctrl.buffer, thread: i + 1, threads: this.size + 1, errors: port2 },
        [port2],
      );
      this.workers.push(w);
    }
  }

  load(id: number, program: LoadedProgram): void {
    if (this.recycleDue) this.shutdown(); // a drop during a run asked for it
    if (this.loaded.has(id)) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.start();
    for (const w of this.workers) w.postMessage({ type: 'load', id, program });
    this.loaded.set(id, program.memory.buffer.byteLength);
  }

  /** Tells the workers to join the steps of program `id` until `stop()`; returns the run's token. */
  begin(id: number): number {
    const token = ++this.token;
    this.inRun = true;
    Atomics.store(this.ctrl, CMD, token);
    Atomics.store(this.ctrl, ERR, 0);
    const gen = Atomics.load(this.ctrl, GEN);
    for (const w of this.workers) w.postMessage({ type: 'run', id, token, gen });
    return token;
  }

  stop(): void {
    this.inRun = false;
    Atomics.store(this.ctrl, CMD, 0);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
  }

  /** The first error a worker reported since `begin`, if any. */
  error(): string | null {
    if (Atomics.load(this.ctrl, ERR) === 0) return null;
    for (const port of this.errorPorts) {
      const m = this.wt.receiveMessageOnPort(port);
      if (m) return String(m.message);
    }
    return 'a worker failed';
  }

  drop(id: number): void {
    const bytes = this.loaded.get(id);
    if (bytes === undefined) return;
    this.loaded.delete(id);
    for (const w of this.workers) w.postMessage({ type: 'drop', id });
    this.retained += bytes;
    if (this.retained >= RECYCLE_BYTES) {
      if (this.inRun) this.recycleDue = true;
      else this.shutdown();
      return;
    }
    if (this.loaded.size > 0) return;
    if (this.idleMs <= 0) this.shutdown();
    else if (!this.idleTimer) {
      this.idleTimer = setTimeout(() => this.shutdown(), this.idleMs);
      this.idleTimer.unref();
    }
  }

  /** Stops every worker now (programs still loaded restart them on their next parallel run). */
  shutdown(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    for (const w of this.workers) void w.terminate();
    this.workers = [];
    for (const port of this.errorPorts) port.close();
    this.errorPorts = [];
    this.loaded.clear();
    this.retained = 0;
    this.recycleDue = false;
  }
}
