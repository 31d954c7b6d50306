/**
 * The project's CLIP-style bi-encoder (none can be downloaded): an image tower over pixels and a
 * text tower over BPE tokens, each projected to one L2-normalised space of `embedDim`, trained
 * contrastively (symmetric InfoNCE with a learned temperature, src/train/bi-encoder.ts).
 *
 *   image (B, 3, S, S) in [-1, 1] -> 4 stride-2 3x3 convs with swish (S -> S/16) -> flatten (keeps
 *         where things are: Shapes captions name positions) -> LayerNorm -> MLP -> (B, E)
 *   text  ids (B, L) -> token + position embeddings -> `textLayers` causal pre-LN blocks -> mean over
 *         the real tokens -> LayerNorm -> Linear -> (B, E)
 *
 * Why causal: texts are right-padded to a fixed L; with a causal mask no real token ever attends to
 * padding, so an embedding does not depend on what else is in the batch. With `textLayers: 0` the
 * text tower is a bag of words (mean of token embeddings, no positions): the baseline it must beat.
 * Not here: training (src/train/bi-encoder.ts) and the BiEncoder wrapper with load/save (clip-encoder.ts).
 */
import { Embedding, LayerNorm, Linear, Module, parameter } from '../nn/index.js';
import {
  add, arange, attention, bmm, div, gelu, layerNorm, mul, reshape, slice, sqrt, sum, tensor, Rng, type Tensor,
} from '../tensor/index.js';
import { Conv2d, swish } from '../tokenizers/vq/layers.js';

export interface ClipConfig {
  /** Side of the (square) input images; other sizes are resized to it. */
  imageSize: number;
  /** Output channels of the four stride-2 convolutions. */
  channels: [number, number, number, number];
  /** Ids of the text tokenizer (its vocabulary size). */
  textVocab: number;
  /** Longest text in tokens (longer texts are cut). */
  textMaxLen: number;
  textWidth: number;
  textHeads: number;
  /** 0: bag of words (the baseline). */
  textLayers: number;
  /** Hidden width of the image head's MLP. */
  hidden: number;
  embedDim: number;
  seed: number;
}

export function defaultClipConfig(textVocab: number, o: Partial<ClipConfig> = {}): ClipConfig {
  return { imageSize: 64, channels: [32, 64, 128, 128], textVocab, textMaxLen: 40, textWidth: 128, textHeads: 4, textLayers: 2, hidden: 256, embedDim: 128, seed: 0, ...o };
}

export function validateClipConfig(c: ClipConfig): ClipConfig {
  const int = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;
  const ok = int(c.imageSize, 16) && c.imageSize % 16 === 0 && Array.isArray(c.channels) && c.channels.length === 4 && c.channels.every((v) => int(v, 1))
    && int(c.textVocab, 2) && int(c.textMaxLen, 1) && int(c.textWidth, 1) && int(c.textHeads, 1) && c.textWidth % c.textHeads === 0
    && int(c.textLayers, 0) && int(c.hidden, 1) && int(c.embedDim, 1);
  if (!ok) throw new Error(`bi-encoder config is invalid: ${JSON.stringify(c)}`);
  return c;
}

/** x / |x| along the last axis; x (N, E). */
export function l2Normalise(x: Tensor): Tensor {
  return div(x, sqrt(add(sum(mul(x, x), -1, true), 1e-12)));
}

class TextBlock extends Module {
  readonly qkv: Linear;
  readonly out: Linear;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(readonly width: number, readonly heads: number, seed: number) {
    super();
    this.qkv = new Linear(width, 3 * width, { bias: true, seed });
    this.out = new Linear(width, width, { bias: true, seed: seed + 1 });
    this.fc1 = new Linear(width, 4 * width, { bias: true, seed: seed + 2 });
    this.fc2 = new Linear(4 * width, width, { bias: true, seed: seed + 3 });
  }

  /** x (B, L, W) -> (B, L, W); causal self-attention then a GELU MLP, both pre-LN residual. */
  forward(x: Tensor): Tensor {
    const [b, l, w] = x.shape as [number, number, number];
    const qkv = reshape(this.qkv.forward(layerNorm(x)), [b, l, 3, this.heads, w / this.heads]);
    const pick = (i: number): Tensor => reshape(slice(qkv, 2, i, i + 1), [b, l, this.heads, w / this.heads]);
    const y = attention(pick(0), pick(1), pick(2), { causal: true }); // (B, L, H, D)
    const h = add(x, this.out.forward(reshape(y, [b, l, w])));
    return add(h, this.fc2.forward(gelu(this.fc1.forward(layerNorm(h)))));
  }
}

class ImageTower extends Module {
  readonly convs: Conv2d[];
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(c: ClipConfig, rng: Rng) {
    super();
    const ins = [3, ...c.channels.slice(0, 3)];
    this.convs = c.channels.map((out, i) => new Conv2d(ins[i]!, out, rng, { kernel: 3, stride: 2 }));
    const side = c.imageSize / 16;
    this.fc1 = new Linear(c.channels[3] * side * side, c.hidden, { bias: true, std: 0.02, seed: c.seed + 11 });
    this.fc2 = new Linear(c.hidden, c.embedDim, { bias: true, std: 0.02, seed: c.seed + 12 });
  }

  /** x (B, 3, S, S) -> unnormalised (B, E). */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const conv of this.convs) h = swish(conv.forward(h)); // (B, C_i, S / 2^i, S / 2^i)
    const b = h.shape[0]!;
    const flat = layerNorm(reshape(h, [b, h.size / b]));
    return this.fc2.forward(swish(this.fc1.forward(flat)));
  }
}

class TextTower extends Module {
  readonly tokens: Embedding;
  readonly positions: Embedding | undefined;
  readonly blocks: TextBlock[];
  readonly proj: Linear;

  constructor(c: ClipConfig) {
    super();
    this.tokens = new Embedding(c.textVocab, c.textWidth, { std: 0.02, seed: c.seed + 21 });
    this.positions = c.textLayers > 0 ? new Embedding(c.textMaxLen, c.textWidth, { std: 0.01, seed: c.seed + 22 }) : undefined;
    this.blocks = Array.from({ length: c.textLayers }, (_, i) => new TextBlock(c.textWidth, c.textHeads, c.seed + 100 + 10 * i));
    this.proj = new Linear(c.textWidth, c.embedDim, { bias: true, std: 0.02, seed: c.seed + 23 });
  }

  /**
   * ids (B, L) i32, right-padded; pool (B, 1, L) f32: 1/n on each row's n real tokens, 0 on padding.
   * Returns unnormalised (B, E).
   */
  forward(ids: Tensor, pool: Tensor): Tensor {
    const [b, l] = ids.shape as [number, number];
    let h = this.tokens.forward(ids); // (B, L, W)
    if (this.positions) h = add(h, this.positions.forward(arange(l, { dtype: 'i32' })));
    for (const block of this.blocks) h = block.forward(h);
    const mean = reshape(bmm(pool, h), [b, h.shape[2]!]); // (B, W): the mean over real tokens
    return this.proj.forward(layerNorm(mean));
  }
}

export class ClipModel extends Module {
  readonly image: ImageTower;
  readonly text: TextTower;
  /** log of the inverse temperature; CLIP starts at log(1 / 0.07) and caps the scale at 100. */
  readonly logitScale: Tensor;

  constructor(readonly config: ClipConfig) {
    super();
    validateClipConfig(config);
    this.image = new ImageTower(config, new Rng(config.seed * 7 + 1));
    this.text = new TextTower(config);
    this.logitScale = parameter(tensor([Math.log(1 / 0.07)], [1]));
  }

  /** images (B, 3, S, S) -> unit (B, E). */
  embedImages(images: Tensor): Tensor {
    return l2Normalise(this.image.forward(images));
  }

  /** ids (B, L), pool (B, 1, L) (see TextTower) -> unit (B, E). */
  embedTexts(ids: Tensor, pool: Tensor): Tensor {
    return l2Normalise(this.text.forward(ids, pool));
  }
}

/** Right-pads token lists to L (cutting longer ones) and builds the mean-pooling weights. */
export function textBatch(tokenLists: readonly (readonly number[])[], maxLen: number): { ids: Tensor; pool: Tensor } {
  const b = tokenLists.length;
  const ids = new Int32Array(b * maxLen);
  const pool = new Float32Array(b * maxLen);
  tokenLists.forEach((list, i) => {
    const n = Math.max(1, Math.min(list.length, maxLen));
    for (let j = 0; j < Math.min(list.length, maxLen); j++) ids[i * maxLen + j] = list[j]!;
    for (let j = 0; j < n; j++) pool[i * maxLen + j] = 1 / n;
  });
  return { ids: tensor(ids, [b, maxLen], { dtype: 'i32' }), pool: tensor(pool, [b, 1, maxLen]) };
}
