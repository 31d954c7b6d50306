/**
 * The CPU backends. `cpu-ref` runs only the TypeScript reference kernels (the definition of every
 * op, and the only CPU path for f64). `cpu` adds the native addon's fast paths for f32 when the
 * addon loaded; otherwise it is the reference and a warning says so once.
 */
import { registerBackend, type Backend, type KernelName, type View } from '../../tensor/backend.js';
import { dtypeOf, type DType, type TypedArray } from '../../tensor/dtype.js';
import { isContiguous, sizeOf } from '../../tensor/shape.js';
import { loadNative } from './native.js';
import type { NativeAddon } from './native-api.js';
import { nativeKernels } from './native-kernels.js';
import { BufferPool } from './pool.js';
import { basicKernels } from './ref-basic.js';
import { convKernels } from './ref-conv.js';
import { nnKernels } from './ref-nn.js';

/** Kernels that read or write floats only; the rest (layout ops) accept every dtype. */
const floatOnly = new Set<KernelName>([
  'unary', 'matmul', 'softmax', 'softmaxBackward', 'layerNorm', 'layerNormBackward', 'geluBackward', 'embedding',
  'embeddingBackward', 'crossEntropy', 'crossEntropyBackward', 'attention', 'attentionBackward', 'conv2d',
  'conv2dBackward', 'upsampleNearest', 'upsampleNearestBackward', 'adamw',
]);

export interface CpuBackend extends Backend {
  readonly pool: BufferPool;
  readonly native: NativeAddon | null;
}

export function createCpuBackend(name: string, native: NativeAddon | null, pool = new BufferPool()): CpuBackend {
  const ref = { ...basicKernels(pool), ...nnKernels(pool), ...convKernels(pool) };
  const kernels = native ? nativeKernels(native, ref, pool) : ref;
  const read = (x: View): TypedArray => {
    const a = x.buf as TypedArray;
    const n = sizeOf(x.shape);
    if (isContiguous(x.shape, x.strides)) return a.slice(x.offset, x.offset + n);
    const c = ref.copy(x) as TypedArray;
    const out = c.slice(0, n);
    pool.release(c, x.dtype);
    return out;
  };
  return {
    name,
    pool,
    native,
    kernels,
    supportsOp: (op: KernelName, dtype: DType) => !(floatOnly.has(op) && dtype === 'i32'),
    fromArray(data) {
      const dtype = dtypeOf(data);
      const out = pool.alloc(dtype, data.length);
      out.set(data);
      return out;
    },
    readSync: read,
    read: async (x) => read(x),
    release: (buf, dtype) => pool.release(buf as TypedArray, dtype),
  };
}

const pool = new BufferPool();
export const cpuRef = createCpuBackend('cpu-ref', null, pool);
export const cpu = createCpuBackend('cpu', loadNative(), pool);
registerBackend(cpuRef);
registerBackend(cpu, true);

/** What the CPU backend runs on: the native kernels' instruction set and threads, or the reference. */
export function cpuInfo(): { kernels: 'native' | 'reference'; isa?: string; threads?: number } {
  const info = cpu.native?.info();
  return info ? { kernels: 'native', isa: info.isa, threads: info.threads } : { kernels: 'reference' };
}

/** Sets the native kernels' thread count (default: CM3LEON_THREADS or all cores). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`setNumThreads: expected an integer in [1, 256], got ${n}`);
  cpu.native?.setThreads(n);
}
