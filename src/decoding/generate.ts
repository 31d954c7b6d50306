/**
 * The generation loops over a decoder with a KV cache: prefill the prompt, then one token at a time,
 * with the modality constraints CM3leon needs: an image span is exactly grid*grid image codes (every
 * other id masked), a text span stops at `<eos>` (or another stop id) and never emits image codes.
 * Tokens can be streamed to a callback as they come.
 *
 * Guidance (CFG, CD-K) runs two streams, the prompt and its unconditional prompt; they run as two
 * rows of one batch: one KV cache, left-padded since the prompts differ in length (decoder.ts), and
 * one batch-2 forward per step. Many prompts batch the same way (generateImageBatch): N prompts
 * with their guidance streams are up to 2N rows, each sample with its own seed and sampler state.
 * The prompts are prefilled one row at a time (Decoder.prefillRows) and every step's row is
 * computed independently of the others (the native small-M GEMM and attention kernels sum each
 * row as the batch-1 product does), so on the CPU a row's logits are bit-identical to the unbatched
 * stream's and batching never changes the tokens; on WebGPU they agree up to float rounding.
 */
import * as T from '../tensor/index.js';
import { Decoder, KvCache } from '../model/decoder.js';
import { allowRange, checkSamplingOptions, forbid, sampleLogits, type SamplingOptions } from './sampling.js';
import { cdkScores, cfgLogits, checkGuidanceScale } from './guidance.js';

export interface ImageSpan {
  /** First image id and codebook size: ids [imageStart, imageStart + codebookSize). */
  imageStart: number;
  codebookSize: number;
  /** Number of codes (grid * grid). */
  length: number;
}

export interface GenerateOptions extends SamplingOptions {
  seed?: number;
  /**
   * Streaming: called with each sampled id (a vocabulary id), its index in the span or text, and
   * the sample's row: its index in generateImageBatch's requests (0 for a single prompt).
   */
  onToken?: (id: number, index: number, row: number) => void;
  /**
   * Guidance: a second, unconditional prompt (the same prompt with the text replaced by `<mask>`)
   * runs beside the first; `cfg` mixes the two streams' logits, `cdk` scores tokens contrastively.
   */
  guidance?: { uncondPrompt: Int32Array; cfg?: number; cdk?: { k: number; alpha: number } };
  /**
   * How the guidance streams run: 'batch' (default) as two rows of one forward per step;
   * 'sequential' one after the other, two batch-1 forwards per step (the earlier loop, kept to
   * compare: the same tokens for the same seed).
   */
  streams?: 'batch' | 'sequential';
}

/**
 * The loops are written once, as generators that yield what they need and receive the answer:
 * the last position's logits of each row, (rows, V) flattened, after feeding `ids` (rows, T) to a
 * cache, or after prefilling an empty cache with one prompt per row. `drive` runs a loop
 * synchronously (CPU backends: `dataSync`), `driveAsync` with `await data()` (any backend,
 * WebGPU included).
 */
type Need = { cache: KvCache; ids: Int32Array; rows: number; vocab?: readonly [number, number] } | { cache: KvCache; prompts: readonly Int32Array[] };
type Loop<R> = Generator<Need, R, Float32Array>;

function feed(model: Decoder, need: Need): T.Tensor {
  return T.tidy(() => {
    if ('prompts' in need) return model.prefillRows(need.prompts, need.cache).keep(); // (rows, 1, V)
    const t = need.ids.length / need.rows;
    const logits = model.forwardCached(T.tensor(need.ids, [need.rows, t], { dtype: 'i32', backend: need.cache.k[0]!.backend.name }), need.cache, { vocab: need.vocab });
    return T.slice(logits, 1, t - 1, t).keep(); // (rows, 1, V)
  });
}

/** The last position's logits for `need`, read with `read` (sync or async); the tensor is freed either way. */
function answer<D>(model: Decoder, need: Need, read: (t: T.Tensor) => D): D {
  const last = feed(model, need);
  let out: D | undefined;
  try {
    out = read(last);
    return out;
  } finally {
    if (out instanceof Promise) void out.finally(() => last.dispose()).catch(() => {});
    else last.dispose();
  }
}

/**
 * The logits the loop asked for (a host copy), as full rows of V: ids outside `need.vocab` (when
 * only a range was computed) are -Infinity, which is what the span mask would make them anyway.
 */
function widen(model: Decoder, need: Need, data: Float32Array): Float32Array {
  if ('prompts' in need || !need.vocab) return data;
  const v = model.config.vocabSize;
  const [start, end] = need.vocab;
  const n = end - start;
  const out = new Float32Array(need.rows * v).fill(-Infinity);
  for (let r = 0; r < need.rows; r++) out.set(data.subarray(r * n, (r + 1) * n), r * v + start);
  return out;
}

function drive<R>(model: Decoder, loop: Loop<R>): R {
  let r = loop.next();
  try {
    while (!r.done) r = loop.next(widen(model, r.value, answer(model, r.value, (t) => Float32Array.from(t.dataSync() as Float32Array))));
  } catch (err) {
    loop.return(undefined as R); // runs the loop's finally: its caches are freed
    throw err;
  }
  return r.value;
}

async function driveAsync<R>(model: Decoder, loop: Loop<R>): Promise<R> {
  let r = loop.next();
  try {
    while (!r.done) r = loop.next(widen(model, r.value, await answer(model, r.value, async (t) => Float32Array.from((await t.data()) as Float32Array))));
  } catch (err) {
    loop.return(undefined as R);
    throw err;
  }
  return r.value;
}

/** Checks a prompt and the tokens to generate after it fit the model. */
function checkLength(model: Decoder, prompt: Int32Array, extra: number): void {
  if (prompt.length === 0) throw new Error('generate: the prompt is empty');
  if (prompt.length + extra > model.config.maxPositions) {
    throw new Error(`generate: prompt of ${prompt.length} tokens + ${extra} to generate exceeds the model's ${model.config.maxPositions} positions`);
  }
}

/** A batch-1 KV cache for `prompt` + `extra` tokens on the model's backend (checks the length). */
function newCache(model: Decoder, prompt: Int32Array, extra: number): KvCache {
  checkLength(model, prompt, extra);
  return new KvCache(model.config, 1, prompt.length + extra, model.embedTokens.weight.backend.name);
}

function checkSpan(model: Decoder, span: ImageSpan): void {
  const { imageStart, codebookSize, length } = span;
  if (!Number.isInteger(length) || length < 1) throw new Error(`generate: the image span's length must be a positive integer, got ${length}`);
  if (!Number.isInteger(imageStart) || !Number.isInteger(codebookSize) || imageStart < 0 || codebookSize < 1 || imageStart + codebookSize > model.config.vocabSize) {
    throw new Error(`generate: image ids [${imageStart}, ${imageStart + codebookSize}) are outside the model's ${model.config.vocabSize} ids`);
  }
}

/** Every option of one image request, checked before anything runs. */
function checkImageOptions(model: Decoder, o: GenerateOptions): void {
  checkSamplingOptions(o, model.config.vocabSize);
  if (o.streams !== undefined && o.streams !== 'batch' && o.streams !== 'sequential') throw new Error(`generate: streams must be 'batch' or 'sequential', got '${String(o.streams)}'`);
  if (o.seed !== undefined && !Number.isFinite(o.seed)) throw new Error(`generate: the seed must be a number, got ${o.seed}`);
  const g = o.guidance;
  if (!g) return;
  if ((g.cfg === undefined) === (g.cdk === undefined)) throw new Error('generate: guidance takes either a CFG scale or CD-K settings (one strategy per sample)');
  if (g.cfg !== undefined) checkGuidanceScale('CFG scale', g.cfg);
  if (g.cdk) {
    const { k, alpha } = g.cdk;
    if (!Number.isInteger(k) || k < 1 || k > model.config.vocabSize) throw new Error(`CD-K: k must be an integer in [1, ${model.config.vocabSize}], got ${k}`);
    if (!(alpha > 0 && alpha <= 1)) throw new Error(`CD-K: alpha must be in (0, 1], got ${alpha}`);
  }
  if (!(g.uncondPrompt instanceof Int32Array)) throw new Error('generate: guidance needs the unconditional prompt (an Int32Array of ids)');
}

/** One step of one sample: its row's logits (and its unconditional row's), guided, masked to the span, sampled. */
function guidedPick(cond: Float32Array, uncond: Float32Array | null, span: ImageSpan, o: GenerateOptions, rng: T.Rng): number {
  const end = span.imageStart + span.codebookSize;
  allowRange(cond, span.imageStart, end);
  let logits = cond;
  const g = o.guidance;
  if (uncond && g && g.cdk) {
    allowRange(uncond, span.imageStart, end);
    logits = cdkScores(cond, uncond, g.cdk.k, g.cdk.alpha);
  } else if (uncond && g) {
    // cond is -Infinity outside the span, so is the guided row: CFG over the span's ids only.
    logits = cfgLogits(cond, uncond, g.cfg!, [span.imageStart, end]);
  }
  return sampleLogits(logits, o, rng);
}

/**
 * The earlier loop: the conditional and unconditional streams one after the other, each a batch-1
 * cache and forward (two forwards per step). streams: 'sequential'.
 */
function* sequentialImageLoop(model: Decoder, prompt: Int32Array, span: ImageSpan, o: GenerateOptions): Loop<Int32Array> {
  const g = o.guidance;
  const rng = new T.Rng(o.seed ?? 0);
  const cond = newCache(model, prompt, span.length);
  const uncond = g ? newCache(model, g.uncondPrompt, span.length) : null;
  const codes = new Int32Array(span.length);
  try {
    let condLogits = yield { cache: cond, ids: prompt, rows: 1 };
    let uncondLogits = uncond && g ? yield { cache: uncond, ids: g.uncondPrompt, rows: 1 } : null;
    for (let i = 0; i < span.length; i++) {
      const id = guidedPick(condLogits, uncondLogits, span, o, rng);
      codes[i] = id - span.imageStart;
      o.onToken?.(id, i, 0);
      if (i + 1 < span.length) {
        condLogits = yield { cache: cond, ids: Int32Array.of(id), rows: 1 };
        if (uncond) uncondLogits = yield { cache: uncond, ids: Int32Array.of(id), rows: 1 };
      }
    }
  } finally {
    cond.dispose();
    uncond?.dispose();
  }
  return codes;
}

/** One sample of a batch: its options, sampler state, codes and its rows in the cache. */
interface Sample {
  o: GenerateOptions;
  rng: T.Rng;
  codes: Int32Array;
  cond: number;
  uncond: number | null;
}

/**
 * The batched loop: every sample's conditional stream, and its unconditional stream under
 * guidance, is a row of one KV cache (rows cond0, uncond0, cond1, ...: R <= 2N rows), prefilled
 * one row at a time and left-padded to the longest prompt; then each step is one forward of the
 * R last tokens (ids (R, 1) -> logits (R, V)), and each sample picks its token from its rows with
 * its own options and generator, in sample order. A sample's tokens are those it gets alone.
 */
function* batchImageLoop(model: Decoder, samples: readonly { prompt: Int32Array; o: GenerateOptions }[], span: ImageSpan): Loop<Int32Array[]> {
  const prompts: Int32Array[] = [];
  const state: Sample[] = samples.map(({ prompt, o }) => {
    const cond = prompts.push(prompt) - 1;
    const uncond = o.guidance ? prompts.push(o.guidance.uncondPrompt) - 1 : null;
    return { o, rng: new T.Rng(o.seed ?? 0), codes: new Int32Array(span.length), cond, uncond };
  });
  for (const p of prompts) checkLength(model, p, span.length);
  const longest = Math.max(...prompts.map((p) => p.length));
  // (R, longest + span, H, D) per layer: the longest prompt and the codes fit, as they do alone.
  const cache = new KvCache(model.config, prompts.length, longest + span.length, model.embedTokens.weight.backend.name);
  const v = model.config.vocabSize;
  const rowOf = (logits: Float32Array, r: number): Float32Array => logits.subarray(r * v, (r + 1) * v);
  try {
    let logits = yield { cache, prompts };
    for (let i = 0; i < span.length; i++) {
      const next = new Int32Array(prompts.length);
      state.forEach((s, n) => {
        const id = guidedPick(rowOf(logits, s.cond), s.uncond === null ? null : rowOf(logits, s.uncond), span, s.o, s.rng);
        s.codes[i] = id - span.imageStart;
        next[s.cond] = id;
        if (s.uncond !== null) next[s.uncond] = id; // both streams continue with the sampled code
        s.o.onToken?.(id, i, n);
      });
      if (i + 1 < span.length) logits = yield { cache, ids: next, rows: prompts.length, vocab: [span.imageStart, span.imageStart + span.codebookSize] };
    }
  } finally {
    cache.dispose();
  }
  return state.map((s) => s.codes);
}

/** (Generators check their options on the first step: the async entry points reject instead of throwing.) */
function* imageLoop(model: Decoder, prompt: Int32Array, span: ImageSpan, o: GenerateOptions): Loop<Int32Array> {
  checkSpan(model, span);
  checkImageOptions(model, o);
  if (o.streams === 'sequential') return yield* sequentialImageLoop(model, prompt, span, o);
  return (yield* batchImageLoop(model, [{ prompt, o }], span))[0]!;
}

/** Samples exactly span.length image codes after the prompt; returns codebook indices (0-based). CPU backends. */
export function generateImageCodes(model: Decoder, prompt: Int32Array, span: ImageSpan, o: GenerateOptions = {}): Int32Array {
  return drive(model, imageLoop(model, prompt, span, o));
}

/** generateImageCodes on any backend (WebGPU reads asynchronously); the same samples as the sync one for the same seed. */
export function generateImageCodesAsync(model: Decoder, prompt: Int32Array, span: ImageSpan, o: GenerateOptions = {}): Promise<Int32Array> {
  return driveAsync(model, imageLoop(model, prompt, span, o));
}

/** One prompt of a batch, with options of its own over the batch's (its seed, its guidance, ...). */
export type ImageRequest = Int32Array | ({ prompt: Int32Array } & GenerateOptions);

/**
 * Each request's options: the batch's, overridden by the request's own; the seed defaults to the
 * batch's seed + the request's index, so a batch of one prompt repeated gives the samples of
 * seeds seed, seed + 1, ... (what `--samples N` generates one at a time).
 */
function resolveRequests(model: Decoder, requests: readonly ImageRequest[], span: ImageSpan, o: GenerateOptions): { prompt: Int32Array; o: GenerateOptions }[] {
  if (requests.length === 0) throw new Error('generate: the batch has no prompts');
  checkSpan(model, span);
  return requests.map((r, i) => {
    const { prompt, ...own } = r instanceof Int32Array ? { prompt: r } : r;
    if (!(prompt instanceof Int32Array)) throw new Error(`generate: request ${i} has no prompt (an Int32Array of ids)`);
    const merged: GenerateOptions = { ...o, ...own, seed: own.seed ?? (o.seed ?? 0) + i };
    try {
      checkImageOptions(model, merged);
    } catch (err) {
      throw new Error(`request ${i}: ${(err as Error).message}`);
    }
    return { prompt, o: merged };
  });
}

function* batchLoop(model: Decoder, requests: readonly ImageRequest[], span: ImageSpan, o: GenerateOptions): Loop<Int32Array[]> {
  const samples = resolveRequests(model, requests, span, o);
  if (o.streams !== 'sequential') return yield* batchImageLoop(model, samples, span);
  // One sample after the other, each through the sequential loop: for comparison only.
  const out: Int32Array[] = [];
  for (const [n, s] of samples.entries()) {
    const onToken = s.o.onToken;
    out.push(yield* sequentialImageLoop(model, s.prompt, span, { ...s.o, onToken: onToken && ((id, i) => onToken(id, i, n)) }));
  }
  return out;
}

/**
 * Image codes for many prompts at once: every prompt (and its unconditional stream under guidance)
 * is a row of one batch, one forward per step for all of them. Returns each request's codes, in
 * order, equal to what generateImageCodes gives that request alone with its resolved options
 * (request options over `o`; seed: (o.seed ?? 0) + index unless the request sets one). onToken
 * gets the request's index as its row. CPU backends.
 */
export function generateImageBatch(model: Decoder, requests: readonly ImageRequest[], span: ImageSpan, o: GenerateOptions = {}): Int32Array[] {
  return drive(model, batchLoop(model, requests, span, o));
}

/** generateImageBatch on any backend (WebGPU included). */
export function generateImageBatchAsync(model: Decoder, requests: readonly ImageRequest[], span: ImageSpan, o: GenerateOptions = {}): Promise<Int32Array[]> {
  return driveAsync(model, batchLoop(model, requests, span, o));
}

export interface TextOptions extends GenerateOptions {
  maxTokens?: number;
  /** Ids that end the text (not included in the result), e.g. <eos>, <break>. */
  stop: readonly number[];
  /** Ids the text may never contain (e.g. every image code, <pad>). */
  forbidden?: (logits: Float32Array) => void;
}

function* textLoop(model: Decoder, prompt: Int32Array, o: TextOptions): Loop<Int32Array> {
  checkSamplingOptions(o, model.config.vocabSize);
  const maxTokens = o.maxTokens ?? 64;
  const rng = new T.Rng(o.seed ?? 0);
  const cache = newCache(model, prompt, maxTokens);
  const out: number[] = [];
  try {
    let logits = yield { cache, ids: prompt, rows: 1 };
    for (let i = 0; i < maxTokens; i++) {
      o.forbidden?.(logits);
      const id = sampleLogits(logits, o, rng);
      if (o.stop.includes(id)) break;
      out.push(id);
      o.onToken?.(id, i, 0);
      if (i + 1 < maxTokens) logits = yield { cache, ids: Int32Array.of(id), rows: 1 };
    }
  } finally {
    cache.dispose();
  }
  return Int32Array.from(out);
}

/** Samples text tokens after the prompt until a stop id or maxTokens; returns the ids without the stop. CPU backends. */
export function generateText(model: Decoder, prompt: Int32Array, o: TextOptions): Int32Array {
  return drive(model, textLoop(model, prompt, o));
}

/** generateText on any backend (WebGPU reads asynchronously). */
export function generateTextAsync(model: Decoder, prompt: Int32Array, o: TextOptions): Promise<Int32Array> {
  return driveAsync(model, textLoop(model, prompt, o));
}

export { forbid };
