/**
 * A patch discriminator for the image tokenizer's decoder (PatchGAN, as in VQGAN), with hinge
 * losses. Why: an L1/L2 decoder that is unsure where an edge lies within a code's 4x4 pixels draws
 * the average of the places it could be, so a 10 px cross comes back with filled-in notches (a
 * blob the Shapes parser reads as a diamond). The adversarial term rewards pictures that look like
 * real ones patch by patch, so the decoder commits to one crisp shape.
 *
 * Shapes: x (B, 3, S, S) in [-1, 1] -> logits (B, 1, S/8, S/8), one per overlapping patch (a
 * receptive field of 31 px at S = 64 with 3 stride-2 levels).
 */
import { Module, loadSafetensors, saveSafetensors, type TensorEntry } from '../../nn/index.js';
import { maximum, mean, mul, neg, relu, sub, add, Rng, type Tensor } from '../../tensor/index.js';
import { TokenizerError } from '../errors.js';
import { Conv2d, GroupNorm } from './layers.js';

function leakyRelu(x: Tensor): Tensor {
  return maximum(x, mul(x, 0.2));
}

export class PatchDiscriminator extends Module {
  readonly convs: Conv2d[];
  readonly norms: GroupNorm[];
  readonly out: Conv2d;

  constructor(readonly width = 32, readonly levels = 3, seed = 7) {
    super();
    const rng = new Rng(seed);
    this.convs = [];
    this.norms = [];
    for (let i = 0; i < levels; i++) {
      const cin = i === 0 ? 3 : width << (i - 1);
      this.convs.push(new Conv2d(cin, width << i, rng, { stride: 2 })); // halves the side
      // No norm on the first level (VQGAN's choice: the raw colours stay comparable).
      if (i > 0) this.norms.push(new GroupNorm(width << i, 8));
    }
    this.out = new Conv2d(width << (levels - 1), 1, rng);
  }

  forward(x: Tensor): Tensor {
    let h = leakyRelu(this.convs[0]!.forward(x));
    for (let i = 1; i < this.levels; i++) h = leakyRelu(this.norms[i - 1]!.forward(this.convs[i]!.forward(h)));
    return this.out.forward(h); // (B, 1, S / 2^levels, S / 2^levels)
  }

  save(path: string): void {
    const entries = new Map<string, TensorEntry>();
    for (const [name, p] of this.namedParameters()) entries.set(name, { shape: p.shape, data: p.dataSync() });
    saveSafetensors(path, entries, { format: 'cm3leon-patch-discriminator', width: String(this.width), levels: String(this.levels) });
  }

  static load(path: string): PatchDiscriminator {
    let file;
    try {
      file = loadSafetensors(path);
    } catch (e) {
      throw new TokenizerError(`discriminator ${path}: ${(e as Error).message}`);
    }
    const d = new PatchDiscriminator(Number(file.metadata['width'] ?? 32), Number(file.metadata['levels'] ?? 3));
    try {
      d.loadStateDict(new Map([...file.tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data as Float32Array }])));
    } catch (e) {
      throw new TokenizerError(`discriminator ${path}: ${(e as Error).message}`);
    }
    return d;
  }
}

/** The discriminator's hinge loss: mean relu(1 - D(real)) + mean relu(1 + D(fake)). */
export function hingeDiscriminatorLoss(realLogits: Tensor, fakeLogits: Tensor): Tensor {
  return add(mean(relu(sub(1, realLogits))), mean(relu(add(fakeLogits, 1))));
}

/** The generator's (decoder's) hinge loss: -mean D(fake). */
export function hingeGeneratorLoss(fakeLogits: Tensor): Tensor {
  return neg(mean(fakeLogits));
}
