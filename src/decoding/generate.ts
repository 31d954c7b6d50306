/**
 * The generation loop over a decoder with a KV cache: prefill the prompt, then one token at a time,
 * with the modality constraints CM3leon needs: an image span is exactly grid*grid image codes (every
 * other id masked), a text span stops at `<eos>` (or another stop id) and never emits image codes.
 * Tokens can be streamed to a callback as they come.
 */
import * as T from '../tensor/index.js';
import { Decoder, KvCache } from '../model/decoder.js';
import { allowRange, checkSamplingOptions, forbid, sampleLogits, type SamplingOptions } from './sampling.js';
import { cdkScores, cfgLogits } from './guidance.js';

export interface ImageSpan {
  /** First image id and codebook size: ids [imageStart, imageStart + codebookSize). */
  imageStart: number;
  codebookSize: number;
  /** Number of codes (grid * grid). */
  length: number;
}

export interface GenerateOptions extends SamplingOptions {
  seed?: number;
  onToken?: (id: number, index: number) => void;
  /**
   * Guidance: a second, unconditional prompt (the same prompt with the text replaced by `<mask>`)
   * runs beside the first; `cfg` mixes the two streams' logits, `cdk` scores tokens contrastively.
   */
  guidance?: { uncondPrompt: Int32Array; cfg?: number; cdk?: { k: number; alpha: number } };
}

/**
 * The loops are written once, as generators that yield what they need — the last position's
 * logits after feeding `ids` to a stream (a KV cache) — and receive them back; `drive` runs one
 * synchronously (CPU backends: `dataSync`), `driveAsync` with `await data()` (any backend,
 * WebGPU included).
 */
interface Need {
  cache: KvCache;
  ids: Int32Array;
}
type Loop<R> = Generator<Need, R, Float32Array>;

function feed(model: Decoder, need: Need): T.Tensor {
  return T.tidy(() => {
    const logits = model.forwardCached(T.tensor(need.ids, [1, need.ids.length], { dtype: 'i32', backend: need.cache.k[0]!.backend.name }), need.cache);
    const t = logits.shape[1]!;
    return T.slice(logits, 1, t - 1, t).keep();
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

function drive<R>(model: Decoder, loop: Loop<R>): R {
  let r = loop.next();
  try {
    while (!r.done) r = loop.next(answer(model, r.value, (t) => Float32Array.from(t.dataSync() as Float32Array)));
  } catch (err) {
    loop.return(undefined as R); // runs the loop's finally: its caches are freed
    throw err;
  }
  return r.value;
}

async function driveAsync<R>(model: Decoder, loop: Loop<R>): Promise<R> {
  let r = loop.next();
  try {
    while (!r.done) r = loop.next(await answer(model, r.value, async (t) => Float32Array.from((await t.data()) as Float32Array)));
  } catch (err) {
    loop.return(undefined as R);
    throw err;
  }
  return r.value;
}

/** A KV cache for `prompt` + `extra` tokens on the model's backend (checks the length). */
function newCache(model: Decoder, prompt: Int32Array, extra: number): KvCache {
  const total = prompt.length + extra;
  if (prompt.length === 0) throw new Error('generate: the prompt is empty');
  if (total > model.config.maxPositions) {
    throw new Error(`generate: prompt of ${prompt.length} tokens + ${extra} to generate exceeds the model's ${model.config.maxPositions} positions`);
  }
  return new KvCache(model.config, 1, total, model.embedTokens.weight.backend.name);
}

function* imageLoop(model: Decoder, prompt: Int32Array, span: ImageSpan, o: GenerateOptions): Loop<Int32Array> {
  checkSamplingOptions(o, model.config.vocabSize);
  const g = o.guidance;
  if (g && (g.cfg === undefined) === (g.cdk === undefined)) throw new Error('generate: guidance takes either a CFG scale or CD-K settings (one strategy per sample)');
  const rng = new T.Rng(o.seed ?? 0);
  const cond = newCache(model, prompt, span.length);
  const uncond = g ? newCache(model, g.uncondPrompt, span.length) : null;
  const codes = new Int32Array(span.length);
  const end = span.imageStart + span.codebookSize;
  try {
    let condLogits = yield { cache: cond, ids: prompt };
    let uncondLogits = uncond && g ? yield { cache: uncond, ids: g.uncondPrompt } : null;
    for (let i = 0; i < span.length; i++) {
      allowRange(condLogits, span.imageStart, end);
      let logits = condLogits;
      if (uncondLogits && g) {
        allowRange(uncondLogits, span.imageStart, end);
        logits = g.cdk ? cdkScores(condLogits, uncondLogits, g.cdk.k, g.cdk.alpha) : cfgLogits(condLogits, uncondLogits, g.cfg!);
      }
      const id = sampleLogits(logits, o, rng);
      codes[i] = id - span.imageStart;
      o.onToken?.(id, i);
      if (i + 1 < span.length) {
        condLogits = yield { cache: cond, ids: Int32Array.of(id) };
        if (uncond) uncondLogits = yield { cache: uncond, ids: Int32Array.of(id) };
      }
    }
  } finally {
    cond.dispose();
    uncond?.dispose();
  }
  return codes;
}

/** Samples exactly span.length image codes after the prompt; returns codebook indices (0-based). CPU backends. */
export function generateImageCodes(model: Decoder, prompt: Int32Array, span: ImageSpan, o: GenerateOptions = {}): Int32Array {
  return drive(model, imageLoop(model, prompt, span, o));
}

/** generateImageCodes on any backend (WebGPU reads asynchronously); the same samples as the sync one for the same seed. */
export function generateImageCodesAsync(model: Decoder, prompt: Int32Array, span: ImageSpan, o: GenerateOptions = {}): Promise<Int32Array> {
  return driveAsync(model, imageLoop(model, prompt, span, o));
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
    let logits = yield { cache, ids: prompt };
    for (let i = 0; i < maxTokens; i++) {
      o.forbidden?.(logits);
      const id = sampleLogits(logits, o, rng);
      if (o.stop.includes(id)) break;
      out.push(id);
      o.onToken?.(id, i);
      if (i + 1 < maxTokens) logits = yield { cache, ids: Int32Array.of(id) };
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
