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

function lastLogits(logits: T.Tensor): Float32Array {
  const [, t, v] = logits.shape as [number, number, number];
  const d = logits.dataSync() as Float32Array;
  return d.slice((t - 1) * v, t * v);
}

function prefill(model: Decoder, prompt: Int32Array, extra: number): { cache: KvCache; logits: Float32Array } {
  const total = prompt.length + extra;
  if (prompt.length === 0) throw new Error('generate: the prompt is empty');
  if (total > model.config.maxPositions) {
    throw new Error(`generate: prompt of ${prompt.length} tokens + ${extra} to generate exceeds the model's ${model.config.maxPositions} positions`);
  }
  const cache = new KvCache(model.config, 1, total);
  const logits = T.tidy(() => lastLogits(model.forwardCached(T.tensor(prompt, [1, prompt.length], { dtype: 'i32' }), cache)));
  return { cache, logits };
}

function step(model: Decoder, cache: KvCache, id: number): Float32Array {
  return T.tidy(() => lastLogits(model.forwardCached(T.tensor(Int32Array.of(id), [1, 1], { dtype: 'i32' }), cache)));
}

/** Samples exactly span.length image codes after the prompt; returns codebook indices (0-based). */
export function generateImageCodes(model: Decoder, prompt: Int32Array, span: ImageSpan, o: GenerateOptions = {}): Int32Array {
  checkSamplingOptions(o, model.config.vocabSize);
  const g = o.guidance;
  if (g && (g.cfg === undefined) === (g.cdk === undefined)) throw new Error('generate: guidance takes either a CFG scale or CD-K settings (one strategy per sample)');
  const rng = new T.Rng(o.seed ?? 0);
  const cond = prefill(model, prompt, span.length);
  const uncond = g ? prefill(model, g.uncondPrompt, span.length) : null;
  const codes = new Int32Array(span.length);
  const end = span.imageStart + span.codebookSize;
  try {
    for (let i = 0; i < span.length; i++) {
      allowRange(cond.logits, span.imageStart, end);
      let logits = cond.logits;
      if (uncond && g) {
        allowRange(uncond.logits, span.imageStart, end);
        logits = g.cdk ? cdkScores(cond.logits, uncond.logits, g.cdk.k, g.cdk.alpha) : cfgLogits(cond.logits, uncond.logits, g.cfg!);
      }
      const id = sampleLogits(logits, o, rng);
      codes[i] = id - span.imageStart;
      o.onToken?.(id, i);
      if (i + 1 < span.length) {
        cond.logits = step(model, cond.cache, id);
        if (uncond) uncond.logits = step(model, uncond.cache, id);
      }
    }
  } finally {
    cond.cache.dispose();
    uncond?.cache.dispose();
  }
  return codes;
}

export interface TextOptions extends GenerateOptions {
  maxTokens?: number;
  /** Ids that end the text (not included in the result), e.g. <eos>, <break>. */
  stop: readonly number[];
  /** Ids the text may never contain (e.g. every image code, <pad>). */
  forbidden?: (logits: Float32Array) => void;
}

/** Samples text tokens after the prompt until a stop id or maxTokens; returns the ids without the stop. */
export function generateText(model: Decoder, prompt: Int32Array, o: TextOptions): Int32Array {
  checkSamplingOptions(o, model.config.vocabSize);
  const maxTokens = o.maxTokens ?? 64;
  const rng = new T.Rng(o.seed ?? 0);
  let { cache, logits } = prefill(model, prompt, maxTokens);
  const out: number[] = [];
  try {
    for (let i = 0; i < maxTokens; i++) {
      o.forbidden?.(logits);
      const id = sampleLogits(logits, o, rng);
      if (o.stop.includes(id)) break;
      out.push(id);
      o.onToken?.(id, i);
      if (i + 1 < maxTokens) logits = step(model, cache, id);
    }
  } finally {
    cache.dispose();
  }
  return Int32Array.from(out);
}

export { forbid };
