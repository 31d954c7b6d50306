/// <reference types="@webgpu/types" />
/**
 * Command batching: kernels are recorded into one command encoder and submitted together (many
 * dispatches per submit), with each dispatch's parameters in its own 256-byte slot of one uniform
 * buffer that is written once per batch, just before the submit (queue order keeps an earlier
 * batch's parameters intact). Also the asynchronous read-back, and device errors: a lost device
 * or an error Dawn reports (out of memory, validation) is raised, with a clear message, by the
 * next kernel call or read.
 *
 * Bind groups are cached by (pipeline, parameter slot, buffers): creating one costs more host
 * time than recording the dispatch (~18 us against ~2 us in Dawn), and a decoding or training loop
 * binds the same pooled buffers at the same slots step after step. A buffer is never reused once
 * destroyed, so stale entries cannot match; the cache is dropped when it grows past its cap.
 */
import { BufferUsage, MapModeRead } from './buffers.js';

export const PARAM_WORDS = 64;
const SLOT_BYTES = 256;
/** Dispatches per submit: enough to amortise a submit, few enough to start the GPU early. */
const MAX_SLOTS = 256;
const MAX_CACHED_BIND_GROUPS = 8192;

/** The first batch's size after a read or sync (see CommandQueue.limit); benchmarks vary it. */
export const queueTuning = { firstBatch: 16 };

export interface Pipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** The kernel's name (profiles group by it). */
  readonly name: string;
}

/** GPU time per kernel over a profiled stretch of work. */
export type KernelProfile = Map<string, { ms: number; count: number }>;

interface Profiler {
  querySet: GPUQuerySet;
  resolve: GPUBuffer;
  names: string[];
  pending: Promise<void>[];
  totals: KernelProfile;
}

export class CommandQueue {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private slots = 0;
  /**
   * Dispatches in the batch being recorded before it is submitted: `firstBatch` after a read or sync, then
   * doubling up to MAX_SLOTS, so that after waiting on the GPU (a decoding step reads its logits)
   * the GPU starts on the first kernels while the host records the rest.
   */
  private limit = queueTuning.firstBatch;
  private readonly paramWords = new Uint32Array((MAX_SLOTS * SLOT_BYTES) / 4);
  private readonly paramBuffer: GPUBuffer;
  private retired: GPUBuffer[] = [];
  private fault: Error | null = null;
  private bindGroups = new Map<string, GPUBindGroup>();
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 0;
  private pipelineIds = new WeakMap<Pipeline, number>();
  private lostInfo: string | null = null;
  private profiler: Profiler | null = null;
  /** Dispatches and submits so far (for tests and the benchmark). */
  dispatches = 0;
  submits = 0;

  constructor(private readonly device: GPUDevice) {
    this.paramBuffer = device.createBuffer({ size: MAX_SLOTS * SLOT_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    device.lost.then((info) => {
      this.lostInfo = `the device was lost (reason '${info.reason}'${info.message ? `: ${info.message}` : ''}); tensors on it are gone: call initWebGpu() again for a new device`;
    }, () => {});
    device.addEventListener('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      const kind = err.constructor?.name === 'GPUOutOfMemoryError' || /out of memory/i.test(err.message) ? 'out of memory' : 'device error';
      this.fault ??= new Error(`webgpu: ${kind}: ${err.message}`);
    });
  }

  /** Throws when the device is lost or reported an error since the last check. */
  check(): void {
    if (this.lostInfo) throw new Error(`webgpu: ${this.lostInfo}`);
    const f = this.fault;
    if (f) {
      this.fault = null;
      throw f;
    }
  }

  private computePass(): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }

  dispatch(p: Pipeline, params: Uint32Array, buffers: readonly GPUBuffer[], grid: readonly [number, number, number]): void {
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    if (this.slots >= this.limit) this.flush();
    const slot = this.slots++;
    this.paramWords.set(params, slot * PARAM_WORDS);
    const prof = this.profiler;
    if (prof) {
      // Profiling: every dispatch in its own pass, with GPU timestamps at its start and end.
      this.pass?.end();
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass({ timestampWrites: { querySet: prof.querySet, beginningOfPassWriteIndex: 2 * slot, endOfPassWriteIndex: 2 * slot + 1 } });
      prof.names[slot] = p.name;
    }
    const pass = this.computePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, this.bindGroup(p, slot, buffers));
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.dispatches++;
    if (prof) {
      pass.end();
      this.pass = null;
    }
  }

  private idOf(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) this.bufferIds.set(b, (id = this.nextBufferId++));
    return id;
  }

  private bindGroup(p: Pipeline, slot: number, buffers: readonly GPUBuffer[]): GPUBindGroup {
    let pid = this.pipelineIds.get(p);
    if (pid === undefined) this.pipelineIds.set(p, (pid = this.nextBufferId++));
    let key = `${pid}:${slot}`;
    for (const b of buffers) key += `,${this.idOf(b)}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.paramBuffer, offset: slot * SLOT_BYTES, size: SLOT_BYTES } }];
      buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
      group = this.device.createBindGroup({ layout: p.layout, entries });
      if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS) this.bindGroups.clear();
      this.bindGroups.set(key, group);
    }
    return group;
  }

  /** Records a buffer-to-buffer copy after the dispatches recorded so far. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.pass?.end();
    this.pass = null;
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submits everything recorded; then destroys buffers retired while it was being recorded. */
  flush(): void {
    if (this.encoder) {
      this.pass?.end();
      this.pass = null;
      if (this.slots > 0) this.device.queue.writeBuffer(this.paramBuffer, 0, this.paramWords, 0, this.slots * PARAM_WORDS);
      const readTimes = this.profiler && this.slots > 0 ? this.recordTimestampRead(this.encoder, this.slots) : null;
      this.device.queue.submit([this.encoder.finish()]);
      readTimes?.();
      this.encoder = null;
      this.slots = 0;
      this.submits++;
      this.limit = Math.min(MAX_SLOTS, this.limit * 2);
    }
    for (const b of this.retired) b.destroy();
    this.retired = [];
  }

  /**
   * Starts a kernel profile: until `stopProfile`, every dispatch runs in its own compute pass with
   * GPU timestamps (needs the 'timestamp-query' feature; the extra passes slow the work a little).
   */
  startProfile(): void {
    if (!this.device.features.has('timestamp-query')) throw new Error("webgpu: profiling needs the 'timestamp-query' feature, which this device lacks");
    this.flush();
    this.profiler = {
      querySet: this.device.createQuerySet({ type: 'timestamp', count: 2 * MAX_SLOTS }),
      resolve: this.device.createBuffer({ size: 2 * MAX_SLOTS * 8, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC }),
      names: [],
      pending: [],
      totals: new Map(),
    };
  }

  /** Ends the profile: GPU milliseconds and dispatch counts per kernel. */
  async stopProfile(): Promise<KernelProfile> {
    const prof = this.profiler;
    if (!prof) throw new Error('webgpu: stopProfile without startProfile');
    this.flush();
    this.profiler = null;
    await Promise.all(prof.pending);
    prof.querySet.destroy();
    prof.resolve.destroy();
    return prof.totals;
  }

  /** Resolves this batch's timestamps into a staging buffer; the returned function (called after submit) reads them. */
  private recordTimestampRead(encoder: GPUCommandEncoder, slots: number): () => void {
    const prof = this.profiler!;
    const staging = this.device.createBuffer({ size: 2 * slots * 8, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    encoder.resolveQuerySet(prof.querySet, 0, 2 * slots, prof.resolve, 0);
    encoder.copyBufferToBuffer(prof.resolve, 0, staging, 0, 2 * slots * 8);
    const names = prof.names.slice(0, slots);
    return () => {
      prof.pending.push(staging.mapAsync(MapModeRead).then(() => {
        const t = new BigUint64Array(staging.getMappedRange());
        for (let i = 0; i < slots; i++) {
          const ns = Number(t[2 * i + 1]! - t[2 * i]!);
          const e = prof.totals.get(names[i]!) ?? { ms: 0, count: 0 };
          e.ms += ns / 1e6;
          e.count++;
          prof.totals.set(names[i]!, e);
        }
        staging.unmap();
        staging.destroy();
      }));
    };
  }

  /** Destroys b after the batch being recorded (which may use it) is submitted. */
  retire(b: GPUBuffer): void {
    if (this.encoder) this.retired.push(b);
    else b.destroy();
  }

  /** Copies `bytes` bytes of src from byteOffset to the host, after all recorded work. */
  async read(src: GPUBuffer, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    this.check();
    const staging = this.device.createBuffer({ size: Math.max(4, bytes), usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    if (bytes > 0) this.copy(src, byteOffset, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(MapModeRead);
    } catch (e) {
      staging.destroy();
      this.check();
      throw new Error(`webgpu: read-back failed: ${(e as Error).message}`);
    }
    this.limit = queueTuning.firstBatch;
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.check();
    return out;
  }

  /** Resolves when the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.limit = queueTuning.firstBatch;
    this.check();
  }
}
