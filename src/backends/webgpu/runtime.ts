/// <reference types="@webgpu/types" />
/**
 * What every kernel wrapper needs: allocation, launching a WGSL kernel with its parameter block,
 * grid sizes, and the layout helpers that bring strided views down to the rank the kernels take
 * (8) by merging dimensions that are contiguous with each other in every operand.
 */
import type { View } from '../../tensor/backend.js';
import type { DType } from '../../tensor/dtype.js';
import type { GpuBuf, GpuBufferPool } from './buffers.js';
import type { PipelineCache, Subs } from './pipelines.js';
import { PARAM_WORDS, type CommandQueue } from './queue.js';

export const MAX_RANK = 8;
const MAX_GROUPS = 65535;

export type Grid = readonly [number, number, number];

/** A kernel's parameter block: 64 32-bit words; floats as bits. */
export class Params {
  readonly words = new Uint32Array(PARAM_WORDS);
  private readonly f = new Float32Array(this.words.buffer);
  private readonly s = new Int32Array(this.words.buffer);
  u(i: number, v: number): this { this.words[i] = v; return this; }
  f32(i: number, v: number): this { this.f[i] = v; return this; }
  i32(i: number, v: number): this { this.s[i] = v; return this; }
  list(at: number, vs: readonly number[]): this { vs.forEach((v, j) => (this.words[at + j] = v)); return this; }
}

/** Workgroups in a 2-D grid (x at most 65535), for kernels indexed by groupId/threadId. */
export function groups2d(groups: number): Grid {
  if (groups <= 0) return [0, 0, 0];
  const x = Math.min(groups, MAX_GROUPS);
  return [x, Math.ceil(groups / x), 1];
}

/** The grid for one thread per element, 256 threads a workgroup. */
export const threads1d = (n: number): Grid => groups2d(Math.ceil(n / 256));

export const gpuBuffer = (v: View): GPUBuffer => (v.buf as GpuBuf).buffer;

export class Runtime {
  constructor(readonly queue: CommandQueue, readonly pool: GpuBufferPool, readonly pipelines: PipelineCache) {}

  /** A contiguous device buffer of n 4-byte elements (stale contents). */
  alloc(n: number): GpuBuf {
    return this.pool.alloc(n * 4);
  }

  run(kernel: string, subs: Subs, buffers: readonly (GpuBuf | View)[], params: Params, grid: Grid): void {
    this.queue.check();
    const bufs = buffers.map((b) => ('buffer' in b ? b.buffer : gpuBuffer(b)));
    this.queue.dispatch(this.pipelines.get(kernel, subs), params.words, bufs, grid);
  }

  /** A buffer of n elements, all `value`. */
  fill(dtype: DType, n: number, value: number): GpuBuf {
    const out = this.alloc(n);
    const p = new Params().u(0, n).u(1, 0);
    if (dtype === 'i32') p.i32(2, value);
    else p.f32(2, value);
    this.run('fill', {}, [out], p, threads1d(n));
    return out;
  }
}

/**
 * Merges adjacent dimensions that are contiguous in every view (stride[i] = stride[i+1] * size[i+1])
 * and drops size-1 ones, so a (B, T, H, D) slice becomes a low-rank view when it can.
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last]! *= n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

export function checkRank(op: string, shape: readonly number[]): void {
  if (shape.length > MAX_RANK) throw new Error(`webgpu ${op}: views of rank ${shape.length} after merging dimensions are not supported (at most ${MAX_RANK})`);
}
