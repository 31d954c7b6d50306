/**
 * Helpers every op uses: wrapping a kernel's output buffer as a Tensor, checking inputs (live, same
 * backend, dtype), and making inputs contiguous for kernels that require it.
 */
import { getBackend, type Backend, type Buf, type KernelName } from '../backend.js';
import { isFloat, type DType } from '../dtype.js';
import { fmt, type Shape } from '../shape.js';
import { Storage, Tensor } from '../tensor.js';

export function wrap(backend: Backend, buf: Buf, dtype: DType, shape: Shape): Tensor {
  let size = 1;
  for (const d of shape) size *= d;
  return new Tensor(new Storage(backend, buf, dtype, size), shape);
}

export function describe(ts: readonly Tensor[]): string {
  return ts.map((t) => `${fmt(t.shape)} ${t.dtype}`).join(', ');
}

/** Checks inputs are live tensors on one backend that supports the kernel; returns that backend. */
export function checkInputs(op: string, inputs: readonly Tensor[], kernel?: KernelName, dtype?: DType): Backend {
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${op}: input ${i} is not a Tensor`);
    t.assertLive(op, i);
  });
  const backend = inputs[0]!.backend;
  for (const t of inputs) {
    if (t.backend !== backend) throw new Error(`${op}: inputs live on different backends (${backend.name} and ${t.backend.name})`);
  }
  if (kernel && !backend.supportsOp(kernel, dtype ?? inputs[0]!.dtype)) {
    throw new Error(`${op}: backend '${backend.name}' does not support ${kernel} for ${dtype ?? inputs[0]!.dtype} (inputs ${describe(inputs)})`);
  }
  return backend;
}

export function checkFloat(op: string, ...inputs: Tensor[]): void {
  inputs.forEach((t, i) => {
    if (!isFloat(t.dtype)) throw new Error(`${op}: input ${i} must be a float tensor, got ${t.dtype} (shape ${fmt(t.shape)})`);
  });
}

export function checkSameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) throw new Error(`${op}: dtypes differ (${fmt(a.shape)} ${a.dtype} vs ${fmt(b.shape)} ${b.dtype})`);
}

/** The tensor itself when contiguous, else a contiguous copy (not recorded: callers record the op that uses it). */
export function contiguousData(t: Tensor): Tensor {
  if (t.isContiguous) return t;
  return wrap(t.backend, t.backend.kernels.copy(t), t.dtype, t.shape);
}

export function defaultBackend(name?: string): Backend {
  return getBackend(name);
}
