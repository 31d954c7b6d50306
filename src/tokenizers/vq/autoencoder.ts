/**
 * The image autoencoder around the codebook: a convolutional encoder that maps a (B, 3, S, S)
 * image in [-1, 1] to (B, D, S/f, S/f) code-space vectors, and a decoder that maps quantised
 * vectors back to pixels. log2(f) stride-2 convs go down, as many nearest-upsample + conv steps go
 * up; residual blocks (group norm + swish) at each level, as in VQGAN without its attention.
 */
import { Module } from '../../nn/index.js';
import { Rng, type Tensor } from '../../tensor/index.js';
import type { VqConfig } from './config.js';
import { Conv2d, Downsample, GroupNorm, ResBlock, Upsample, swish } from './layers.js';

/** One resolution level: residual blocks, then (optionally) a change of resolution. */
class Level extends Module {
  readonly blocks: ResBlock[];
  readonly resample: Downsample | Upsample | undefined;

  constructor(blocks: ResBlock[], resample: Downsample | Upsample | undefined) {
    super();
    this.blocks = blocks;
    this.resample = resample;
  }

  forward(x: Tensor): Tensor {
    for (const b of this.blocks) x = b.forward(x);
    return this.resample ? this.resample.forward(x) : x;
  }
}

/** (B, 3, S, S) -> (B, D, S/f, S/f). */
export class Encoder extends Module {
  readonly convIn: Conv2d;
  readonly levels: Level[];
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(c: VqConfig, rng: Rng) {
    super();
    const ch = c.channels;
    const last = ch.length - 1;
    this.convIn = new Conv2d(3, ch[0]!, rng);
    this.levels = ch.map((width, i) => new Level(
      Array.from({ length: c.resBlocks[i]! }, () => new ResBlock(width, width, c.groups, rng)),
      i < last ? new Downsample(width, ch[i + 1]!, rng) : undefined,
    ));
    this.normOut = new GroupNorm(ch[last]!, c.groups);
    this.convOut = new Conv2d(ch[last]!, c.codeDim, rng, { kernel: 1 });
  }

  forward(x: Tensor): Tensor {
    let h = this.convIn.forward(x); // (B, ch0, S, S)
    for (const level of this.levels) h = level.forward(h); // ... (B, chL, S/f, S/f)
    return this.convOut.forward(swish(this.normOut.forward(h))); // (B, D, S/f, S/f)
  }
}

/** (B, D, S/f, S/f) -> (B, 3, S, S), unbounded (trained towards [-1, 1]; clamp when writing pixels). */
export class Decoder extends Module {
  readonly convIn: Conv2d;
  readonly levels: Level[];
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(c: VqConfig, rng: Rng) {
    super();
    const ch = c.channels;
    const last = ch.length - 1;
    this.convIn = new Conv2d(c.codeDim, ch[last]!, rng);
    // Coarsest level first; each level's blocks run at its width, then upsample to the next.
    this.levels = ch.map((_, j) => {
      const i = last - j;
      return new Level(
        Array.from({ length: (c.decoderResBlocks ?? c.resBlocks)[i]! }, () => new ResBlock(ch[i]!, ch[i]!, c.groups, rng)),
        i > 0 ? new Upsample(ch[i]!, ch[i - 1]!, rng) : undefined,
      );
    });
    this.normOut = new GroupNorm(ch[0]!, c.groups);
    this.convOut = new Conv2d(ch[0]!, 3, rng);
  }

  forward(z: Tensor): Tensor {
    let h = this.convIn.forward(z); // (B, chL, S/f, S/f)
    for (const level of this.levels) h = level.forward(h); // ... (B, ch0, S, S)
    return this.convOut.forward(swish(this.normOut.forward(h))); // (B, 3, S, S)
  }
}
