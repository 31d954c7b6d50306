/**
 * The backend interface: what a device must provide for the engine to run on it, and the registry
 * of available backends. The engine (ops, autograd) talks to devices only through this file;
 * backends (src/backends/*) implement it and register themselves, so nothing in src/tensor imports
 * a backend. Buffers are opaque handles: a Float32Array on the CPU, a GPUBuffer on WebGPU.
 *
 * Conventions for every kernel: inputs are `View`s (buffer + shape + strides + offset, counted in
 * elements); a kernel documented "contiguous" receives views whose strides are row-major (the op
 * layer copies first when needed); outputs are freshly allocated contiguous buffers owned by the
 * caller. Kernels never keep references to their inputs.
 */
import type { DType, TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

export type Buf = unknown;

export interface View {
  readonly buf: Buf;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'sigmoid' | 'relu' | 'gelu' | 'abs';
/** greater gives 1 where a > b, else 0 (a mask; not differentiable). */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'greater';
export type ReduceOp = 'sum' | 'max';

export interface AdamWParams {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** 1 - beta1^t and 1 - beta2^t for step t (1-based). */
  bc1: number; bc2: number;
}

export interface Kernels {
  /** Strided view -> contiguous buffer of the same dtype. */
  copy(x: View): Buf;
  /** Contiguous x -> contiguous buffer of another dtype (float -> int truncates toward zero). */
  cast(x: View, dtype: DType): Buf;
  /** In place: dst (any strides, no overlap) <- src (same shape, any strides). */
  assign(dst: View, src: View): void;
  /** A new contiguous buffer of `size` elements, all `value`. */
  full(dtype: DType, size: number, value: number): Buf;
  /** Elementwise on a contiguous view. */
  unary(op: UnaryOp, x: View): Buf;
  /** a and b are already broadcast to outShape (stride 0 on broadcast dims). */
  binary(op: BinaryOp, a: View, b: View, outShape: Shape): Buf;
  /** Contiguous x; reduces the given sorted axes; output has those axes removed. */
  reduce(op: ReduceOp, x: View, axes: readonly number[]): Buf;
  /**
   * Batched matmul: a (Ba, M, K), b (Bb, K, N), each Ba/Bb either 1 or the batch B; any strides
   * (transposed operands are read in place). Output (B, M, N) contiguous.
   */
  matmul(a: View, b: View): Buf;
  /** Last-dim softmax or log-softmax of a contiguous view. */
  softmax(x: View, log: boolean): Buf;
  softmaxBackward(y: View, dy: View, log: boolean): Buf;
  /** Last-dim layer norm without affine; mean and rstd have one value per row. */
  layerNorm(x: View, eps: number): { y: Buf; mean: Buf; rstd: Buf };
  layerNormBackward(x: View, dy: View, mean: View, rstd: View): Buf;
  geluBackward(x: View, dy: View): Buf;
  /** w (V, C), ids (contiguous i32, n ids) -> (n, C). Ids are checked by the caller. */
  embedding(w: View, ids: View): Buf;
  /** dW (V, C) = scatter-add of dy (n, C) rows at ids. */
  embeddingBackward(ids: View, dy: View, vocab: number): Buf;
  /**
   * logits (N, V) contiguous, targets (N) i32. loss: scalar mean over rows whose target is not
   * ignoreIndex (NaN when there is none); lse: (N); count: scalar f32, the number of such rows.
   */
  crossEntropy(logits: View, targets: View, ignoreIndex: number): { loss: Buf; lse: Buf; count: Buf };
  /** dlogits = gy / count * (softmax - onehot) on counted rows, 0 elsewhere; gy and count are scalars. */
  crossEntropyBackward(logits: View, targets: View, lse: View, count: View, gy: View, ignoreIndex: number): Buf;
  /**
   * q: (B, Tq, H, D), k, v: (B, Tk, H, D) views with unit stride on D, Tk >= Tq (the queries are the
   * last Tq positions). out (B, Tq, H, D) contiguous, lse (B, H, Tq). keyStarts (B entries in
   * [0, Tk]), when given: row b's keys before keyStarts[b] are left padding that no query sees; a
   * query that sees no key gets out 0 and lse -inf. (Inference only: no backward with keyStarts.)
   */
  attention(q: View, k: View, v: View, scale: number, causal: boolean, keyStarts?: Int32Array): { out: Buf; lse: Buf };
  attentionBackward(q: View, k: View, v: View, out: View, lse: View, dOut: View, scale: number, causal: boolean): { dq: Buf; dk: Buf; dv: Buf };
  /** x (N, C, H, W), w (O, C, kh, kw), both contiguous -> (N, O, oh, ow). */
  conv2d(x: View, w: View, stride: number, pad: number): Buf;
  conv2dBackward(x: View, w: View, gy: View, stride: number, pad: number): { dx: Buf; dw: Buf };
  /** Nearest-neighbour upsampling of contiguous (N, C, H, W) by an integer factor, and its adjoint. */
  upsampleNearest(x: View, factor: number): Buf;
  upsampleNearestBackward(gy: View, factor: number): Buf;
  /** Fused AdamW update, in place on p, m, v (all contiguous, same size as g). */
  adamw(p: View, g: View, m: View, v: View, hp: AdamWParams): void;
}

export type KernelName = keyof Kernels;

export interface Backend {
  readonly name: string;
  /** False when this backend has no kernel for (op, dtype); the op layer then raises a clear error. */
  supportsOp(op: KernelName, dtype: DType): boolean;
  /** A new contiguous buffer holding a copy of data. */
  fromArray(data: TypedArray): Buf;
  /** Synchronous read of a view as a contiguous array, or null where the device only reads asynchronously. */
  readSync(x: View): TypedArray | null;
  read(x: View): Promise<TypedArray>;
  /** Returns a buffer to the backend (pool or device); the caller guarantees no one uses it again. */
  release(buf: Buf, dtype: DType): void;
  readonly kernels: Kernels;
}

const registry = new Map<string, Backend>();
let current: Backend | null = null;

export function registerBackend(backend: Backend, makeDefault = false): void {
  registry.set(backend.name, backend);
  if (makeDefault || current === null) current = backend;
}

export function getBackend(name?: string): Backend {
  if (name !== undefined) {
    const b = registry.get(name);
    if (!b) throw new Error(`backend '${name}' is not available (have: ${[...registry.keys()].join(', ') || 'none'})`);
    return b;
  }
  if (current === null) throw new Error('no backend registered: import the cm3leon package entry (or a backend) first');
  return current;
}

export function setBackend(name: string): Backend {
  current = getBackend(name);
  return current;
}

export function listBackends(): string[] {
  return [...registry.keys()];
}
