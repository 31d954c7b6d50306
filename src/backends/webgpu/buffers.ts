/// <reference types="@webgpu/types" />
/**
 * Device buffers and their pool. A `GpuBuf` is the backend's opaque buffer handle: one storage
 * buffer of at least `bytes` bytes. Released buffers are kept by size class (a quarter-octave
 * above 4 KiB, so a training step reuses last step's buffers and a growing KV cache still finds
 * one). The pool keeps released buffers while what it holds plus what is in use stays within the
 * larger of its byte cap and the high-water mark of bytes in use, so a loop whose working set is
 * larger than the cap (a training step's activations) reuses its buffers instead of creating and
 * destroying them every step; past that they are destroyed, after the batch that may still use
 * them. `trim()` gives everything pooled back.
 * Pooled buffers hold stale data: kernels write every element of their outputs.
 */

export const BufferUsage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80, QUERY_RESOLVE: 0x200 } as const;
export const MapModeRead = 0x1;

export interface GpuBuf {
  readonly buffer: GPUBuffer;
  /** The buffer's size class in bytes (>= what was asked). */
  readonly bytes: number;
}

/** Rounds a request up to its size class: 256-byte steps to 4 KiB, then four classes per octave. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const step = 2 ** (Math.floor(Math.log2(b)) - 2);
  return Math.ceil(b / step) * step;
}

export class GpuBufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private pooled = 0;
  /** Bytes in buffers handed out and not yet released. */
  inUse = 0;
  live = 0;
  /** The most bytes ever in use at once (the working set the pool may keep for reuse). */
  peakInUse = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxPooledBytes: number,
    /** Destroys a buffer once no batch still being recorded can use it. */
    private readonly retire: (b: GPUBuffer) => void,
  ) {}

  alloc(bytes: number): GpuBuf {
    const size = sizeClass(bytes);
    const limit = Math.min(this.device.limits.maxBufferSize, this.device.limits.maxStorageBufferBindingSize);
    if (size > limit) {
      throw new Error(`webgpu: out of memory: a buffer of ${size} bytes exceeds this device's limit of ${limit} bytes per buffer`);
    }
    this.inUse += size;
    this.live++;
    this.peakInUse = Math.max(this.peakInUse, this.inUse);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.pooled -= size;
      return { buffer: reused, bytes: size };
    }
    const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
    return { buffer: this.device.createBuffer({ size, usage }), bytes: size };
  }

  /** A fresh buffer holding `data` (written at creation: no ordering with queued work to worry about). */
  allocWith(data: ArrayBufferView): GpuBuf {
    const size = sizeClass(data.byteLength);
    this.inUse += size;
    this.live++;
    this.peakInUse = Math.max(this.peakInUse, this.inUse);
    const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
    const buffer = this.device.createBuffer({ size, usage, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    return { buffer, bytes: size };
  }

  release(b: GpuBuf): void {
    this.inUse -= b.bytes;
    this.live--;
    if (this.pooled + this.inUse + b.bytes > Math.max(this.maxPooledBytes, this.peakInUse)) {
      this.retire(b.buffer);
      return;
    }
    let list = this.free.get(b.bytes);
    if (!list) this.free.set(b.bytes, (list = []));
    list.push(b.buffer);
    this.pooled += b.bytes;
  }

  get pooledBytes(): number {
    return this.pooled;
  }

  /** Destroys every pooled buffer (through `retire`). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.retire(b);
    this.free.clear();
    this.pooled = 0;
    this.peakInUse = this.inUse;
  }
}
