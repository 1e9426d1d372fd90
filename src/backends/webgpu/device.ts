/// <reference types="@webgpu/types" />
import { MatgradError } from '../../errors.js';

/** Where a WebGPU device comes from: `navigator.gpu` in browsers, the npm `webgpu` package (Dawn) in Node. */
export interface AcquireOptions {
  /** A GPU object to use instead of `navigator.gpu` / Dawn (tests, custom setups). */
  readonly gpu?: GPU;
  readonly powerPreference?: GPUPowerPreference;
  /** Dawn flags for `create(flags)` in Node (e.g. `['adapter=SwiftShader']`). */
  readonly dawnFlags?: readonly string[];
}

/** The Vulkan ICD of Debian's Chromium package: SwiftShader, a CPU implementation of Vulkan. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions?.node;

let nodeGpu: Promise<GPU | null> | null = null;

/**
 * Node: loads Dawn once per process. When no Vulkan driver is configured and Chromium's SwiftShader
 * ICD is installed, points Vulkan at it (VK_ICD_FILENAMES, XDG_RUNTIME_DIR) so CPU-only machines get
 * an adapter without the user exporting anything.
 */
async function loadNodeGpu(flags: readonly string[]): Promise<GPU | null> {
  const env = process.env;
  if (env.VK_ICD_FILENAMES === undefined && env.VK_DRIVER_FILES === undefined) {
    const fsName = 'node:fs'; // a variable specifier: browser bundles never try to resolve it
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
    if (fs.existsSync(SWIFTSHADER_ICD) && !hasOtherVulkanDriver(fs)) env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  env.XDG_RUNTIME_DIR ??= '/tmp';
  const specifier = 'webgpu';
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as typeof mod;
  } catch {
    return null; // the optional native module is missing or does not load on this platform
  }
  Object.assign(globalThis, mod.globals);
  return mod.create([...flags]);
}

/**
 * A hardware Vulkan driver is likely usable (an NVIDIA ICD, or a DRM render node for Mesa's drivers):
 * then leave the Vulkan loader's choice alone. Mesa ICDs without a render node cannot open a device.
 */
function hasOtherVulkanDriver(fs: typeof import('node:fs')): boolean {
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const list = (d: string) => {
    try {
      return fs.readdirSync(d);
    } catch {
      return [];
    }
  };
  if (dirs.some((d) => list(d).some((f) => /nvidia/i.test(f)))) return true;
  return list('/dev/dri').some((f) => f.startsWith('renderD'));
}

/** The platform's GPU object, or null when WebGPU is not available at all. */
export async function platformGpu(opts: AcquireOptions = {}): Promise<GPU | null> {
  if (opts.gpu) return opts.gpu;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode()) return null;
  nodeGpu ??= loadNodeGpu(opts.dawnFlags ?? []);
  return nodeGpu;
}

/** "vendor / architecture / description" of an adapter, e.g. "google / swiftshader / SwiftShader driver 5.0.0". */
export function describeAdapterInfo(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  const parts = [info.vendor, info.architecture, info.description].filter(
    (p): p is string => typeof p === 'string' && p.length > 0,
  );
  return parts.length ? [...new Set(parts)].join(' / ') : 'unknown adapter';
}

export interface Acquired {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly description: string;
}

/**
 * Requests an adapter and a device with the adapter's own storage-buffer limits (so large batches
 * fit); null when there is no adapter.
 */
export async function acquireDevice(opts: AcquireOptions = {}): Promise<Acquired | null> {
  const gpu = await platformGpu(opts);
  if (!gpu) return null;
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(
      opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined,
    );
  } catch {
    return null;
  }
  if (!adapter) return null;
  const l = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      },
    });
  } catch (e) {
    throw new MatgradError(`WebGPU: the adapter refused to create a device: ${(e as Error).message}`);
  }
  return { adapter, device, description: describeAdapterInfo(adapter.info) };
}
