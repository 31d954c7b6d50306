/**
 * The CM3leon decoder, read top to bottom like the paper's architecture: token + learned absolute
 * position embeddings, pre-LayerNorm blocks without LayerNorm parameters, no bias terms anywhere,
 * no dropout, causal multi-head attention (fused kernel), GELU MLP (4x), a final LayerNorm, and
 * output logits tied to the input embedding. Parameter names map one-to-one to Hugging Face
 * `OPTForCausalLM` names (`hfName`).
 *
 * Deliberately not here yet: KV cache, config presets and checkpoint I/O (the model issue).
 */
import { add, arange, attention, crossEntropy, gelu, layerNorm, matmul, reshape, transpose, type Tensor } from '../tensor/index.js';
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

  /** x (B, T, C) -> (B, T, C). q, k, v are (B, T, H, D) views of the projections: no copies. */
  forward(x: Tensor): Tensor {
    const [b, t] = x.shape as [number, number, number];
    const split = (y: Tensor): Tensor => reshape(y, [b, t, this.heads, this.dim / this.heads]);
    const y = attention(split(this.qProj.forward(x)), split(this.kProj.forward(x)), split(this.vProj.forward(x)), { causal: true });
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

  forward(x: Tensor): Tensor {
    const h = add(x, this.selfAttn.forward(layerNorm(x, this.eps)));
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
    const t = ids.shape[1]!;
    if (t > this.config.maxPositions) throw new Error(`Decoder: sequence of ${t} tokens exceeds maxPositions ${this.config.maxPositions}`);
    const eps = this.config.eps ?? 1e-5;
    let x = add(this.embedTokens.forward(ids), this.embedPositions.forward(arange(t, { backend: ids.backend.name })));
    for (const layer of this.layers) x = layer.forward(x);
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
