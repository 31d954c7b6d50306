/**
 * Tensor: a typed, shaped, strided view of a reference-counted buffer on one backend, plus the
 * autograd fields. Views (reshape, transpose, slice, expand) share the buffer; the buffer returns
 * to its backend when the last tensor using it is disposed. Every new tensor is tracked by the
 * innermost `tidy` scope (scope.ts), which disposes what the scope's function did not return.
 *
 * The ops themselves live in ops/*.ts; the methods here are thin conveniences that call them.
 */
import type { Backend, Buf, View } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { contiguousStrides, fmt, isContiguous, sizeOf, type Shape } from './shape.js';
import { trackTensor } from './scope.js';
import type { GradNode } from './autograd.js';

export class Storage {
  /** Buffers currently held by some tensor, across all backends (a leak shows up here). */
  static live = 0;
  refs = 0;
  constructor(readonly backend: Backend, readonly buf: Buf, readonly dtype: DType, readonly size: number) {
    Storage.live++;
  }
  retain(): void { this.refs++; }
  release(): void {
    if (--this.refs === 0) {
      Storage.live--;
      this.backend.release(this.buf, this.dtype);
    }
  }
}

let nextId = 1;

export class Tensor implements View {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
  readonly size: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  node: GradNode | null = null;
  /** Kept tensors survive `tidy` scopes (parameters, optimizer state, accumulated gradients). */
  kept = false;
  name: string | undefined;
  private disposedFlag = false;

  constructor(readonly storage: Storage, shape: Shape, strides?: readonly number[], offset = 0) {
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.size = sizeOf(shape);
    storage.retain();
    trackTensor(this);
  }

  get buf(): Buf { return this.storage.buf; }
  get dtype(): DType { return this.storage.dtype; }
  get backend(): Backend { return this.storage.backend; }
  get rank(): number { return this.shape.length; }
  get disposed(): boolean { return this.disposedFlag; }
  get isContiguous(): boolean { return isContiguous(this.shape, this.strides); }

  /** Frees this tensor's hold on its buffer. Idempotent. Using a disposed tensor is an error. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.node = null;
    if (this.grad && !this.grad.kept) this.grad.dispose();
    this.grad = null;
    this.storage.release();
  }

  /** Marks the tensor as surviving scopes; returns it. */
  keep(): this {
    this.kept = true;
    return this;
  }

  /** Throws, naming the op and this tensor's shape, when the tensor can no longer be used. */
  assertLive(op: string, index = 0): void {
    if (this.disposedFlag) throw new Error(`${op}: input ${index} (shape ${fmt(this.shape)}, ${this.dtype}) was disposed`);
  }

  /** A new tensor sharing this one's buffer with another layout. */
  view(shape: Shape, strides?: readonly number[], offset = this.offset): Tensor {
    return new Tensor(this.storage, shape, strides, offset);
  }

  /** Contiguous copy of the data, synchronously (CPU), as a typed array. */
  dataSync(): TypedArray {
    this.assertLive('dataSync');
    const copy = hostCopies?.get(this);
    if (copy) return copy;
    const out = this.backend.readSync(this);
    if (out === null) throw new Error(`dataSync: backend '${this.backend.name}' only reads asynchronously; use await tensor.data()`);
    return out;
  }

  async data(): Promise<TypedArray> {
    this.assertLive('data');
    return this.backend.read(this);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has ${this.size} elements (shape ${fmt(this.shape)}), expected 1`);
    return this.dataSync()[0]!;
  }

  /** The single value of a one-element tensor, on any backend (WebGPU reads only asynchronously). */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: tensor has ${this.size} elements (shape ${fmt(this.shape)}), expected 1`);
    return (await this.data())[0]!;
  }

  /** Nested arrays, for printing and tests. */
  toArray(): unknown {
    const d = this.dataSync();
    const build = (dim: number, off: number): unknown => {
      if (dim === this.rank) return d[off];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** Host copies of device tensors while `withHostCopies` runs (see there). */
let hostCopies: Map<Tensor, TypedArray> | null = null;

/**
 * Reads `tensors` to the host (asynchronously: any backend), then runs `fn` with `dataSync()` of
 * those tensors answering from the copies — so synchronous savers (checkpoints, safetensors) work
 * for a model on WebGPU. `fn` must not change the tensors.
 */
export async function withHostCopies<R>(tensors: readonly Tensor[], fn: () => R): Promise<R> {
  const copies = new Map<Tensor, TypedArray>();
  for (const t of tensors) if (t.backend.readSync(t) === null) copies.set(t, await t.data());
  const previous = hostCopies;
  hostCopies = copies;
  try {
    return fn();
  } finally {
    hostCopies = previous;
  }
}
