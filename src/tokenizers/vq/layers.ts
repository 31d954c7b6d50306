/**
 * The convolutional building blocks of the image autoencoder: a biased Conv2d, GroupNorm with
 * affine parameters, swish, and the pre-norm residual block of VQGAN / the diffusion U-Net
 * (norm -> swish -> conv -> norm -> swish -> conv, plus the input). Initialisation is seeded and
 * host-side so a config and a seed always give the same weights.
 * Not here: attention blocks (at a 16x16 or 8x8 grid the convolutions already see the whole image).
 */
import { Module, parameter } from '../../nn/index.js';
import { add, contiguous, conv2d, expand, groupNorm, mul, ones, reshape, sigmoid, tensor, upsampleNearest2d, zeros, Rng, type Tensor } from '../../tensor/index.js';

/** swish(x) = x * sigmoid(x) (a.k.a. SiLU). */
export function swish(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

/**
 * A per-channel vector v (C) laid out as a contiguous (1, C, H, W) map. Why: the CPU backend's fast
 * elementwise path takes operands broadcast over leading dims only, and sums gradients over a prefix
 * or suffix of axes natively; a (1, C, 1, 1) operand broadcast over (B, C, H, W) falls back to the
 * strided reference kernels, which cost more than the convolutions themselves (measured: 50% of a
 * training step). The map costs one small copy; its gradient is two native reductions.
 */
export function channelMap(v: Tensor, h: number, w: number): Tensor {
  const c = v.shape[0]!;
  return contiguous(expand(reshape(v, [1, c, 1, 1]), [1, c, h, w]));
}

/** PyTorch's default conv init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), times `gain`. */
function convWeight(shape: [number, number, number, number], rng: Rng, gain: number): Tensor {
  const fanIn = shape[1] * shape[2] * shape[3];
  const bound = gain / Math.sqrt(fanIn);
  const a = new Float32Array(shape[0] * fanIn);
  for (let i = 0; i < a.length; i++) a[i] = (rng.uniform() * 2 - 1) * bound;
  return tensor(a, shape);
}

export interface ConvOptions {
  kernel?: number;
  stride?: number;
  /** Scales the initial weights (a small gain on a residual branch's last conv starts it near identity). */
  gain?: number;
}

/** x (B, C, H, W) -> (B, O, H', W'), 'same' padding for odd kernels. */
export class Conv2d extends Module {
  readonly weight: Tensor; // (O, C, k, k)
  readonly bias: Tensor; //   (O)
  private readonly stride: number;
  private readonly padding: number;

  constructor(readonly inChannels: number, readonly outChannels: number, rng: Rng, o: ConvOptions = {}) {
    super();
    const k = o.kernel ?? 3;
    this.stride = o.stride ?? 1;
    this.padding = (k - 1) >> 1;
    this.weight = parameter(convWeight([outChannels, inChannels, k, k], rng, o.gain ?? 1));
    this.bias = parameter(zeros([outChannels]));
  }

  forward(x: Tensor): Tensor {
    const y = conv2d(x, this.weight, { stride: this.stride, padding: this.padding }); // (B, O, H', W')
    return add(y, channelMap(this.bias, y.shape[2]!, y.shape[3]!));
  }
}

export class GroupNorm extends Module {
  readonly weight: Tensor; // (C)
  readonly bias: Tensor; //   (C)

  constructor(readonly channels: number, readonly groups: number) {
    super();
    this.weight = parameter(ones([channels]));
    this.bias = parameter(zeros([channels]));
  }

  forward(x: Tensor): Tensor {
    const [, , h, w] = x.shape as [number, number, number, number];
    const y = groupNorm(x, this.groups, undefined, undefined, 1e-6);
    return add(mul(y, channelMap(this.weight, h, w)), channelMap(this.bias, h, w));
  }
}

/** (B, Cin, H, W) -> (B, Cout, H, W): x + conv(swish(norm(conv(swish(norm(x)))))), 1x1 skip when Cin != Cout. */
export class ResBlock extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly skip: Conv2d | undefined;

  constructor(inChannels: number, outChannels: number, groups: number, rng: Rng) {
    super();
    this.norm1 = new GroupNorm(inChannels, groups);
    this.conv1 = new Conv2d(inChannels, outChannels, rng);
    this.norm2 = new GroupNorm(outChannels, groups);
    this.conv2 = new Conv2d(outChannels, outChannels, rng, { gain: 0.1 });
    this.skip = inChannels !== outChannels ? new Conv2d(inChannels, outChannels, rng, { kernel: 1 }) : undefined;
  }

  forward(x: Tensor): Tensor {
    let h = this.conv1.forward(swish(this.norm1.forward(x)));
    h = this.conv2.forward(swish(this.norm2.forward(h)));
    return add(this.skip ? this.skip.forward(x) : x, h);
  }
}

/** (B, C, H, W) -> (B, O, H/2, W/2): a stride-2 3x3 conv. */
export class Downsample extends Module {
  readonly conv: Conv2d;
  constructor(inChannels: number, outChannels: number, rng: Rng) {
    super();
    this.conv = new Conv2d(inChannels, outChannels, rng, { stride: 2 });
  }
  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
}

/** (B, C, H, W) -> (B, O, 2H, 2W): nearest-neighbour upsampling then a 3x3 conv (no checkerboard). */
export class Upsample extends Module {
  readonly conv: Conv2d;
  constructor(inChannels: number, outChannels: number, rng: Rng) {
    super();
    this.conv = new Conv2d(inChannels, outChannels, rng);
  }
  forward(x: Tensor): Tensor {
    return this.conv.forward(upsampleNearest2d(x, 2));
  }
}
