/**
 * The CM3leon decoder, read top to bottom like the paper's architecture: token + learned absolute
 * position embeddings, pre-LayerNorm blocks without LayerNorm parameters, no bias terms anywhere,
 * no dropout, causal multi-head attention (fused kernel), GELU MLP (4x), a final LayerNorm, and
 * output logits tied to the input embedding. Parameter names map one-to-one to Hugging Face
 * `OPTForCausalLM` names (`hfName`).
 *
 * Inference reuses past keys and values through a KvCache. Presets live in config.ts, checkpoint
 * I/O in checkpoint.ts, sampling in the decoding layer.
 */
import { add, arange, attention, crossEntropy, gelu, layerNorm, matmul, noGrad, reshape, slice, tensor, transpose, zeros, type Tensor } from '../tensor/index.js';
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
   * cache layer, this step's keys and values are written at positions [start, start + T) and the
   * queries attend over everything cached so far.
   */
  forward(x: Tensor, cache?: { k: Tensor; v: Tensor; start: number }): Tensor {
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
    const y = attention(split(this.qProj.forward(x)), k, v, { causal: true });
    return this.outProj.forward(reshape(y, [b, t, this.dim]));
  }
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

  forward(x: Tensor, cache?: { k: Tensor; v: Tensor; start: number }): Tensor {
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
   * Inference step with a KV cache: ids (B, T) are the next T tokens after the cache's `length`;
   * returns their logits (B, T, V) and advances the cache. No gradients.
   */
  forwardCached(ids: Tensor, cache: KvCache): Tensor {
    const [b, t] = ids.shape as [number, number];
    if (b > cache.batch) throw new Error(`Decoder: batch ${b} exceeds the cache's batch ${cache.batch}`);
    if (cache.length + t > cache.maxLength) throw new Error(`Decoder: ${cache.length} cached + ${t} new tokens exceed the cache length ${cache.maxLength}`);
    return noGrad(() => {
      const positions = tensor(Int32Array.from({ length: t }, (_, i) => cache.length + i), [t], { dtype: 'i32', backend: ids.backend.name });
      const logits = this.run(ids, positions, cache);
      cache.length += t;
      return logits;
    });
  }

  private run(ids: Tensor, positions: Tensor, cache?: KvCache): Tensor {
    const t = ids.shape[1]!;
    const end = cache ? cache.length + t : t;
    if (end > this.config.maxPositions) throw new Error(`Decoder: sequence of ${end} tokens exceeds maxPositions ${this.config.maxPositions}`);
    const eps = this.config.eps ?? 1e-5;
    let x = add(this.embedTokens.forward(ids), this.embedPositions.forward(positions));
    this.layers.forEach((layer, i) => {
      x = layer.forward(x, cache ? { k: cache.k[i]!, v: cache.v[i]!, start: cache.length } : undefined);
    });
    // Tied output embedding: logits = LN(x) E^T, E read transposed in place.
    return matmul(layerNorm(x, eps), transpose(this.embedTokens.weight));
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

/** Past keys and values of every layer: (batch, maxLength, H, D) buffers filled up to `length`. */
export class KvCache {
  readonly k: Tensor[];
  readonly v: Tensor[];
  length = 0;

  constructor(config: DecoderConfig, readonly batch: number, readonly maxLength = config.maxPositions, backend?: string) {
    if (maxLength > config.maxPositions) throw new Error(`KvCache: length ${maxLength} exceeds maxPositions ${config.maxPositions}`);
    const shape = [batch, maxLength, config.heads, config.dim / config.heads];
    this.k = Array.from({ length: config.layers }, () => zeros(shape, { backend }).keep());
    this.v = Array.from({ length: config.layers }, () => zeros(shape, { backend }).keep());
  }

  /** Forgets the cached positions (keeps the buffers). */
  reset(): void {
    this.length = 0;
  }

  dispose(): void {
    for (const t of [...this.k, ...this.v]) t.dispose();
  }
}
