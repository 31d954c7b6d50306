/// <reference types="@webgpu/types" />
/**
 * Getting a WebGPU device: `navigator.gpu` in browsers, the npm package `webgpu` (Dawn) in Node,
 * loaded by a dynamic import that browsers never reach. Also the reason Dawn aborted processes:
 * the object `create()` returns owns Dawn's instance, yet adapters and devices do not keep it
 * alive; once the garbage collector took it, the next event poll (any pending mapAsync) locked a
 * freed mutex and the process died with std::system_error ("Invalid argument") or a futex error.
 * `gpuRoots` holds every such object for the life of the process, which removes the cause.
 *
 * Not here: buffers, kernels, the queue (see the other files of this folder).
 */

export interface WebGpuOptions {
  /** Use this device instead of requesting one (its adapter's features are then unknown). */
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /** Features the caller needs; initWebGpu fails with a clear message when the adapter lacks one. */
  requiredFeatures?: GPUFeatureName[];
  /** Dawn flags for the Node package's create(), e.g. ['backend=vulkan', 'adapter=llvmpipe']. */
  dawnFlags?: string[];
  /** Bytes of released buffers kept for reuse (default 512 MiB). */
  poolBytes?: number;
  /** Ask for GPU timestamps when the adapter has them (kernel profiles: queue.startProfile). */
  timestamps?: boolean;
  /** Register as the default backend (default false; selectDevice does it). */
  makeDefault?: boolean;
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly features: ReadonlySet<string>;
  readonly limits: GPUSupportedLimits;
}

/** The objects that own Dawn's instances, by flags: referenced forever (see the header). */
const gpuRoots = new Map<string, GPU>();

/** Features used when present: subgroup operations (a kernel may pick a subgroup path). */
const optionalFeatures: GPUFeatureName[] = ['subgroups' as GPUFeatureName];

async function loadGpu(flags: string[]): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (!isNode) return null;
  // A variable specifier keeps bundlers from following it into a browser build.
  const specifier = 'webgpu';
  let mod: { create: (flags: string[]) => GPU };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (e) {
    throw new Error(`webgpu: the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}`);
  }
  const known = gpuRoots.get(flags.join(' '));
  if (known) return known;
  const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  // Mesa's lavapipe wants a runtime directory; an unset one only produces warnings, but noisy ones.
  if (proc && !proc.env.XDG_RUNTIME_DIR) proc.env.XDG_RUNTIME_DIR = '/tmp';
  const gpu = mod.create(flags);
  gpuRoots.set(flags.join(' '), gpu);
  return gpu;
}

/** The adapter, or null when this environment has none (no GPU, no Vulkan driver). */
export async function requestAdapter(options: WebGpuOptions = {}): Promise<GPUAdapter | null> {
  const gpu = await loadGpu(options.dawnFlags ?? []);
  if (!gpu) return null;
  try {
    return await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : {});
  } catch {
    return null;
  }
}

function adapterName(adapter: GPUAdapter): string {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  return [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(' ') || 'unknown adapter';
}

export async function createContext(options: WebGpuOptions = {}): Promise<GpuContext> {
  if (options.device) {
    return { device: options.device, adapterName: 'caller-provided device', features: new Set(options.device.features), limits: options.device.limits };
  }
  const adapter = await requestAdapter(options);
  if (!adapter) throw new Error('webgpu: no WebGPU adapter is available (no GPU, or no Vulkan driver such as Mesa lavapipe); use the cpu backend');
  const missing = (options.requiredFeatures ?? []).filter((f) => !adapter.features.has(f));
  if (missing.length > 0) throw new Error(`webgpu: adapter '${adapterName(adapter)}' lacks required feature(s) ${missing.join(', ')}`);
  const wanted = options.timestamps ? [...optionalFeatures, 'timestamp-query' as GPUFeatureName] : optionalFeatures;
  const features = [...new Set([...(options.requiredFeatures ?? []), ...wanted.filter((f) => adapter.features.has(f))])];
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 10),
    },
  });
  return { device, adapterName: adapterName(adapter), features: new Set(device.features), limits: device.limits };
}
