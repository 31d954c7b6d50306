/**
 * The CM3leon decoder, read top to bottom like the paper's architecture: token + learned absolute
 * position embeddings, pre-LayerNorm blocks without LayerNorm parameters, no bias terms anywhere,
 * no dropout, causal multi-head attention (fused kernel), GELU MLP (4x), a final LayerNorm, and
 * output logits tied to the input embedding. Parameter names map one-to-one to Hugging Face
 * `OPTForCausalLM` names (`hfName`).
 *
 * Inference reuses past keys and values through a KvCache. Streams of different lengths (a prompt
 * and its guidance prompt, or many prompts) share one cache left-padded and aligned at the end:
 * each row keeps the slot of its first real token, its positions count from there, and attention
 * masks the padding, so every step is one batched forward. Presets live in config.ts, checkpoint
 * I/O in checkpoint.ts, sampling in the decoding layer.
 */
import { add, arange, attention, concat, crossEntropy, gelu, layerNorm, matmul, noGrad, reshape, slice, tensor, transpose, zeros, type Tensor } from '../tensor/index.js';
import { Embedding, Linear, Module, truncatedNormal_, zeros_ } from '../nn/index.js';
import { Rng } from '../tensor/index.js';
import { validateConfig, type DecoderConfig } from './config.js';

export type { DecoderConfig } from './config.js';

class SelfAttention extends Module {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;

  constructor(readonly dim: number, readonly heads: number) {
    super();
    this.qProj = new Linear(dim, dim);
    this.kProj = new Linear(dim, dim);
    this.vProj = new Linear(dim, dim);
    this.outProj = new Linear(dim, dim);
  }

  /**
   * x (B, T, C) -> (B, T, C). q, k, v are (B, T, H, D) views of the projections: no copies. With a
   * cache layer, this step's keys and values are written at slots [start, start + T) of every row
   * and the queries attend over everything cached so far; keyStarts (B) masks each row's left
   * padding (slots before its first real token).
   */
  forward(x: Tensor, cache?: CacheLayer): Tensor {
    const [b, t] = x.shape as [number, number, number];
    const split = (y: Tensor): Tensor => reshape(y, [b, t, this.heads, this.dim / this.heads]);
    let k = split(this.kProj.forward(x));
    let v = split(this.vProj.forward(x));
    if (cache) {
      const end = cache.start + t;
      const kDst = slice(slice(cache.k, 1, cache.start, end), 0, 0, b);
      const vDst = slice(slice(cache.v, 1, cache.start, end), 0, 0, b);
      k.backend.kernels.assign(kDst, k);
      v.backend.kernels.assign(vDst, v);
      k = slice(slice(cache.k, 1, 0, end), 0, 0, b);
      v = slice(slice(cache.v, 1, 0, end), 0, 0, b);
    }
    const y = attention(split(this.qProj.forward(x)), k, v, { causal: true, keyStarts: cache?.keyStarts });
    return this.outProj.forward(reshape(y, [b, t, this.dim]));
  }
}

/** One layer's cache buffers (B, maxLength, H, D), the slot this call writes at, the rows' padding. */
interface CacheLayer {
  k: Tensor;
  v: Tensor;
  start: number;
  keyStarts?: Int32Array;
}

class DecoderLayer extends Module {
  readonly selfAttn: SelfAttention;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, heads: number, private readonly eps: number) {
    super();
    this.selfAttn = new SelfAttention(dim, heads);
    this.fc1 = new Linear(dim, 4 * dim);
    this.fc2 = new Linear(4 * dim, dim);
  }

  forward(x: Tensor, cache?: CacheLayer): Tensor {
    const h = add(x, this.selfAttn.forward(layerNorm(x, this.eps), cache));
    return add(h, this.fc2.forward(gelu(this.fc1.forward(layerNorm(h, this.eps)))));
  }
}

export class Decoder extends Module {
  readonly embedTokens: Embedding;
  readonly embedPositions: Embedding;
  readonly layers: DecoderLayer[];

  constructor(readonly config: DecoderConfig) {
    super();
    const { vocabSize, dim, heads, layers, maxPositions } = validateConfig(config);
    this.embedTokens = new Embedding(vocabSize, dim);
    this.embedPositions = new Embedding(maxPositions, dim);
    this.layers = Array.from({ length: layers }, () => new DecoderLayer(dim, heads, config.eps ?? 1e-5));
    this.initialize();
  }

  /** The paper's init: truncated normal (std 0.006, cut 3), output layers zero, positions std 0.0002. */
  initialize(): void {
    const rng = new Rng(this.config.seed ?? 0);
    const std = this.config.initStd ?? 0.006;
    for (const [name, p] of this.namedParameters()) {
      if (name.startsWith('embedPositions')) truncatedNormal_(p, this.config.positionStd ?? 0.0002, rng);
      else if ((this.config.zeroOutputLayers ?? true) && (name.includes('outProj') || name.includes('fc2'))) zeros_(p);
      else truncatedNormal_(p, std, rng);
    }
  }

  /** ids (B, T) i32 -> logits (B, T, V). */
  forward(ids: Tensor): Tensor {
    return this.run(ids, arange(ids.shape[1]!, { backend: ids.backend.name }));
  }

  /**
   * Inference step with a KV cache: ids (B, T) are the next T tokens of every row after the cache's
   * `length` filled slots; returns their logits (B, T, V) and advances the cache. No gradients.
   *
   * Rows of different lengths share the cache left-padded (aligned at the end). `o.pad` (B entries,
   * on a cache's first call only) says how many of each row's T ids are padding (any valid ids:
   * they are masked); the cache keeps them in `starts`. Row b's slot j holds position
   * j - starts[b] (learned positions start at 0 at the row's first real token) and its slots
   * before starts[b] are masked in attention, so every row's logits equal the unpadded row's up to
   * float rounding (the logits of padding positions are meaningless). prefillRows fills a padded
   * cache one row at a time instead, bit-identical to the unbatched prompts.
   */
  forwardCached(ids: Tensor, cache: KvCache, o: { pad?: ArrayLike<number>; vocab?: readonly [number, number] } = {}): Tensor {
    const [b, t] = ids.shape as [number, number];
    if (b > cache.batch) throw new Error(`Decoder: batch ${b} exceeds the cache's batch ${cache.batch}`);
    if (cache.length + t > cache.maxLength) throw new Error(`Decoder: ${cache.length} cached + ${t} new tokens exceed the cache length ${cache.maxLength}`);
    if (o.pad !== undefined) {
      if (cache.length !== 0) throw new Error(`Decoder: left padding (pad) goes with a cache's first call; this cache holds ${cache.length} tokens`);
      if (o.pad.length !== b) throw new Error(`Decoder: pad has ${o.pad.length} entries for a batch of ${b}`);
      for (let r = 0; r < b; r++) {
        const p = o.pad[r]!;
        if (!Number.isInteger(p) || p < 0 || p >= t) throw new Error(`Decoder: pad[${r}] = ${p} must be an integer in [0, ${t - 1}] (each row keeps at least one real token)`);
      }
    }
    return noGrad(() => {
      if (o.pad !== undefined) cache.starts.set(Array.from(o.pad), 0);
      const padded = cache.padded;
      // Positions: (T) shared by every row, or (B, T) per row when rows are padded (padding slots at 0).
      const positions = padded
        ? tensor(Int32Array.from({ length: b * t }, (_, i) => Math.max(0, cache.length + (i % t) - cache.starts[Math.floor(i / t)]!)), [b, t], { dtype: 'i32', backend: ids.backend.name })
        : tensor(Int32Array.from({ length: t }, (_, i) => cache.length + i), [t], { dtype: 'i32', backend: ids.backend.name });
      const logits = this.run(ids, positions, cache, padded ? cache.starts.slice(0, b) : undefined, o.vocab);
      cache.length += t;
      return logits;
    });
  }

  /**
   * Prefills an empty cache with one prompt per row (prompts.length <= cache.batch, any lengths):
   * left-padded and aligned at the end, each row run alone at batch 1 into its slots (a `rows`
   * view), so its keys, values and logits are exactly those of the prompt run unbatched. Returns
   * the logits of each row's last prompt token (R, 1, V); the cache then holds the longest
   * prompt's length and each row's padding in `starts`, ready for batched forwardCached steps.
   */
  prefillRows(prompts: readonly Int32Array[], cache: KvCache): Tensor {
    if (cache.length !== 0) throw new Error(`Decoder: prefillRows needs an empty cache; this one holds ${cache.length} tokens`);
    if (prompts.length === 0 || prompts.length > cache.batch) throw new Error(`Decoder: ${prompts.length} prompts for a cache of ${cache.batch} rows`);
    const longest = Math.max(...prompts.map((p) => p.length));
    prompts.forEach((p, r) => {
      if (p.length === 0) throw new Error(`Decoder: prompt ${r} is empty`);
    });
    if (longest > cache.maxLength) throw new Error(`Decoder: a prompt of ${longest} tokens exceeds the cache length ${cache.maxLength}`);
    const backend = this.embedTokens.weight.backend.name;
    return noGrad(() => {
      const last = prompts.map((p, r) => {
        const view = cache.rows(r, 1, longest - p.length);
        try {
          const logits = this.forwardCached(tensor(p, [1, p.length], { dtype: 'i32', backend }), view);
          return slice(logits, 1, p.length - 1, p.length);
        } finally {
          view.dispose();
        }
      });
      prompts.forEach((p, r) => (cache.starts[r] = longest - p.length));
      cache.length = longest;
      return last.length === 1 ? last[0]! : concat(last, 0);
    });
  }

  /**
   * `vocab` [start, end): only those ids' logits, (B, T, end - start). Decoding an image span needs
   * just the image codes' logits (every other id is masked), and the output product is the largest
   * of a decoding step: this skips 4/5 of it for `small`.
   */
  private run(ids: Tensor, positions: Tensor, cache?: KvCache, keyStarts?: Int32Array, vocab?: readonly [number, number]): Tensor {
    const t = ids.shape[1]!;
    const end = cache ? cache.length + t : t;
    if (end > this.config.maxPositions) throw new Error(`Decoder: sequence of ${end} tokens exceeds maxPositions ${this.config.maxPositions}`);
    const eps = this.config.eps ?? 1e-5;
    // Token (B, T, C) + position embeddings ((T, C) broadcast, or (B, T, C) per row).
    let x = add(this.embedTokens.forward(ids), this.embedPositions.forward(positions));
    this.layers.forEach((layer, i) => {
      x = layer.forward(x, cache ? { k: cache.k[i]!, v: cache.v[i]!, start: cache.length, keyStarts } : undefined);
    });
    // Tied output embedding: logits = LN(x) E^T, E read transposed in place.
    const table = vocab ? slice(this.embedTokens.weight, 0, vocab[0], vocab[1]) : this.embedTokens.weight;
    return matmul(layerNorm(x, eps), transpose(table));
  }

  /** Mean next-token cross-entropy of logits for ids against targets (-100 = ignored). */
  loss(ids: Tensor, targets: Tensor): Tensor {
    return crossEntropy(this.forward(ids), targets);
  }
}

/** Our parameter name -> Hugging Face OPTForCausalLM name (camelCase fields become snake_case). */
export function hfName(name: string): string {
  return `model.decoder.${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/**
 * Past keys and values of every layer: (batch, maxLength, H, D) buffers whose slots [0, length)
 * are filled in every row. Rows of different lengths are left-padded: row b's real tokens start
 * at slot starts[b] (0 without padding), and attention masks the slots before it.
 */
export class KvCache {
  readonly k: Tensor[];
  readonly v: Tensor[];
  length = 0;
  /** Per row (batch): the slot of its first real token; the slots before it are padding. */
  readonly starts: Int32Array;

  /** `views` is for `rows` only: the cache then shares those tensors' buffers instead of allocating. */
  constructor(private readonly config: DecoderConfig, readonly batch: number, readonly maxLength = config.maxPositions, private readonly backend?: string, views?: { k: Tensor[]; v: Tensor[] }) {
    if (maxLength > config.maxPositions) throw new Error(`KvCache: length ${maxLength} exceeds maxPositions ${config.maxPositions}`);
    const shape = [batch, maxLength, config.heads, config.dim / config.heads];
    this.k = views?.k ?? Array.from({ length: config.layers }, () => zeros(shape, { backend }).keep());
    this.v = views?.v ?? Array.from({ length: config.layers }, () => zeros(shape, { backend }).keep());
    this.starts = new Int32Array(batch);
  }

  /** Whether some row is left-padded. */
  get padded(): boolean {
    return this.starts.some((s) => s > 0);
  }

  /**
   * Rows [row, row + n) from slot `slot` on, as an empty cache of their own (batch n, maxLength -
   * slot) over the same buffers: filling it fills those rows here, with positions counted from
   * `slot`. Dispose the view when done (its buffers stay with this cache).
   */
  rows(row: number, n: number, slot: number): KvCache {
    if (!(Number.isInteger(row) && Number.isInteger(n) && Number.isInteger(slot)) || row < 0 || n < 1 || row + n > this.batch || slot < 0 || slot >= this.maxLength) {
      throw new Error(`KvCache: rows [${row}, ${row + n}) from slot ${slot} are outside a cache of ${this.batch} rows and ${this.maxLength} slots`);
    }
    const view = (t: Tensor): Tensor => slice(slice(t, 0, row, row + n), 1, slot, this.maxLength).keep();
    return new KvCache(this.config, n, this.maxLength - slot, this.backend, { k: this.k.map(view), v: this.v.map(view) });
  }

  /** Forgets the cached positions and the padding (keeps the buffers). */
  reset(): void {
    this.length = 0;
    this.starts.fill(0);
  }

  dispose(): void {
    for (const t of [...this.k, ...this.v]) t.dispose();
  }
}
