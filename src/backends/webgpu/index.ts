/**
 * The WebGPU backend: the engine's kernels in WGSL on a GPU, through Dawn in Node (npm `webgpu`)
 * or `navigator.gpu` in browsers. `await initWebGpu()` creates the device and registers the
 * backend 'webgpu'. Buffers live on the device; kernels are queued and submitted in batches;
 * `readSync` returns null (only `await tensor.data()` reads). f32 everywhere, i32 for ids and
 * layout ops; no f64 (gradient checks stay on cpu-ref).
 *
 * Nothing here imports Node modules: the browser loads this file as it is.
 */
import { registerBackend, type Backend, type KernelName, type View } from '../../tensor/backend.js';
import { dtypeOf, type DType, type TypedArray } from '../../tensor/dtype.js';
import { isContiguous, sizeOf } from '../../tensor/shape.js';
import { GpuBufferPool, type GpuBuf } from './buffers.js';
import { createContext, requestAdapter, type GpuContext, type WebGpuOptions } from './device.js';
import { attentionKernels } from './kernels-attention.js';
import { basicKernels } from './kernels-basic.js';
import { nnKernels } from './kernels-nn.js';
import { PipelineCache } from './pipelines.js';
import { CommandQueue } from './queue.js';
import { Params, Runtime, threads1d } from './runtime.js';

export type { WebGpuOptions } from './device.js';
export { matmulTuning } from './matmul.js';
export { attentionTuning } from './kernels-attention.js';
export { queueTuning } from './queue.js';

/** Kernels that also take i32 data (the rest are float-only, as on the CPU). */
const intOps = new Set<KernelName>(['copy', 'cast', 'assign', 'full', 'binary', 'reduce']);
/** Uploads up to this many elements ride in a kernel's parameters (ordered with queued work). */
const INLINE_UPLOAD = 48;

export interface WebGpuBackend extends Backend {
  readonly context: GpuContext;
  readonly queue: CommandQueue;
  readonly pool: GpuBufferPool;
  readonly pipelines: PipelineCache;
  /** Submits queued work and resolves when the GPU has finished it. */
  sync(): Promise<void>;
  /** Frees pooled buffers and destroys the device; tensors on it become unusable. */
  destroy(): void;
}

let active: WebGpuBackend | null = null;
let pending: Promise<WebGpuBackend> | null = null;

/** True when a WebGPU adapter can be had here (a GPU, or a software Vulkan driver). */
export async function webGpuAvailable(options: WebGpuOptions = {}): Promise<boolean> {
  if (active) return true;
  try {
    return (await requestAdapter(options)) !== null;
  } catch {
    return false;
  }
}

/** Creates the device (once) and registers the backend 'webgpu'. Throws with a clear message when there is no adapter. */
export async function initWebGpu(options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  if (active) {
    if (options.makeDefault) registerBackend(active, true);
    return active;
  }
  pending ??= createWebGpuBackend(options).finally(() => (pending = null));
  const backend = await pending;
  registerBackend(backend, options.makeDefault ?? false);
  active = backend;
  return backend;
}

export async function createWebGpuBackend(options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const context = await createContext(options);
  const device = context.device;
  const queue = new CommandQueue(device);
  const pool = new GpuBufferPool(device, options.poolBytes ?? 512 * 2 ** 20, (b) => queue.retire(b));
  const pipelines = new PipelineCache(device);
  const rt = new Runtime(queue, pool, pipelines);
  const kernels = { ...basicKernels(rt), ...nnKernels(rt), ...attentionKernels(rt) };

  const read = async (x: View): Promise<TypedArray> => {
    const n = sizeOf(x.shape);
    const wrap = (ab: ArrayBuffer): TypedArray => (x.dtype === 'i32' ? new Int32Array(ab) : new Float32Array(ab));
    if (n === 0) return wrap(new ArrayBuffer(0));
    if (isContiguous(x.shape, x.strides)) return wrap(await queue.read((x.buf as GpuBuf).buffer, x.offset * 4, n * 4));
    const tmp = kernels.copy(x) as GpuBuf;
    const data = queue.read(tmp.buffer, 0, n * 4);
    pool.release(tmp);
    return wrap(await data);
  };

  const backend: WebGpuBackend = {
    name: 'webgpu',
    context,
    queue,
    pool,
    pipelines,
    kernels,
    supportsOp: (op: KernelName, dtype: DType) => dtype === 'f32' || (dtype === 'i32' && intOps.has(op)),
    fromArray(data) {
      const dtype = dtypeOf(data);
      if (dtype === 'f64') throw new Error('webgpu: f64 tensors are not supported on WebGPU (use f32; f64 is for cpu-ref gradient checks)');
      queue.check();
      if (data.length > INLINE_UPLOAD) return pool.allocWith(data);
      const out = rt.alloc(data.length);
      if (data.length > 0) {
        const p = new Params().u(0, data.length).u(1, 1).list(16, [...new Uint32Array(data.buffer, data.byteOffset, data.length)]);
        rt.run('fill', {}, [out], p, threads1d(data.length));
      }
      return out;
    },
    readSync: () => null,
    read,
    release: (buf) => pool.release(buf as GpuBuf),
    sync: () => queue.sync(),
    destroy() {
      queue.flush();
      pool.trim();
      device.destroy();
      if (active === backend) active = null;
    },
  };
  return backend;
}

/** The registered WebGPU backend, or null before initWebGpu. */
export function webGpuBackend(): WebGpuBackend | null {
  return active;
}
