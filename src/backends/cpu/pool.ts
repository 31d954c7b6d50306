/**
 * A pool of typed arrays keyed by dtype and length, so a training step reuses last step's buffers
 * instead of allocating (and zero-filling) fresh ones. Pooled arrays hold stale data: kernels
 * write every element of their outputs, and `alloc(..., true)` zeroes when a kernel accumulates.
 */
import { typedArrayFor, type DType, type TypedArray } from '../../tensor/dtype.js';

export class BufferPool {
  private free = new Map<string, TypedArray[]>();
  private pooledBytes = 0;

  constructor(private readonly maxBytes = 2 ** 31) {}

  alloc(dtype: DType, size: number, zero = false): TypedArray {
    const list = this.free.get(`${dtype}:${size}`);
    const a = list?.pop();
    if (a) {
      this.pooledBytes -= a.byteLength;
      if (zero) a.fill(0);
      return a;
    }
    return typedArrayFor(dtype, size);
  }

  release(a: TypedArray, dtype: DType): void {
    if (a.length === 0 || this.pooledBytes + a.byteLength > this.maxBytes) return;
    const key = `${dtype}:${a.length}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(a);
    this.pooledBytes += a.byteLength;
  }

  get bytes(): number {
    return this.pooledBytes;
  }

  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }
}
