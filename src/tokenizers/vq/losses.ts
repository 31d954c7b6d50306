/**
 * The image tokenizer's training losses (its recipe for the training loop is
 * src/train/image-tokenizer.ts): L1 reconstruction, image-gradient (edge) L1, MSE, outline- and
 * contrast-weighted L1, and the seeded per-step choice of training images.
 */
import { abs, add, mean, mul, slice, sub, tensor, Rng, type Tensor } from '../../tensor/index.js';

export interface LossWeights {
  l1: number;
  /** L1 between the horizontal and vertical pixel differences of output and input (sharp edges). */
  edge: number;
  mse: number;
  codebook: number;
  commit: number;
  /**
   * Extra L1 on the pixels near an outline of the input (see outlineMask): small objects are
   * almost all outline, so this weights them up against flat background.
   */
  outline: number;
  /**
   * Extra L1 near outlines divided by the outline's colour contrast (see contrastMask): the error
   * in units of the step between object and background, so a faint pink-on-grey edge counts as much
   * as a black-on-white one. Reading a shape back (and seeing it) depends on that fraction, not on
   * the raw pixel error.
   */
  contrast: number;
  /** Weight of the patch discriminator's hinge term (0: no discriminator). See discriminator.ts. */
  adversarial: number;
}

export const DEFAULT_LOSS_WEIGHTS: LossWeights = { l1: 1, edge: 0.5, mse: 0, codebook: 1, commit: 0.25, outline: 0, contrast: 0, adversarial: 0 };


/**
 * For each pixel of x (B, 3, S, S floats in [-1, 1]), the largest step to a pixel of its 3x3
 * neighbourhood: `metric` 'max' takes the largest channel difference, 'euclid' the RGB distance.
 * (B, S, S).
 */
function neighbourSteps(x: Float32Array, batch: number, size: number, metric: 'max' | 'euclid'): Float32Array {
  const plane = size * size;
  const out = new Float32Array(batch * plane);
  for (let b = 0; b < batch; b++) {
    const base = b * 3 * plane;
    for (let y = 0; y < size; y++) {
      for (let xx = 0; xx < size; xx++) {
        const p = y * size + xx;
        let e = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= size) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xq = xx + dx;
            if (xq < 0 || xq >= size || (dx === 0 && dy === 0)) continue;
            const q = yy * size + xq;
            let d = 0;
            for (let c = 0; c < 3; c++) {
              const v = Math.abs(x[base + c * plane + q]! - x[base + c * plane + p]!);
              d = metric === 'max' ? Math.max(d, v) : d + v * v;
            }
            e = Math.max(e, metric === 'max' ? d : Math.sqrt(d));
          }
        }
        out[b * plane + p] = e;
      }
    }
  }
  return out;
}

/** (B, S, S) per-pixel values -> (B, 3, S, S), the same value on all three channels. */
function toChannels(m: Float32Array, batch: number, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(batch * 3 * plane);
  for (let b = 0; b < batch; b++) for (let c = 0; c < 3; c++) out.set(m.subarray(b * plane, (b + 1) * plane), (b * 3 + c) * plane);
  return out;
}

/**
 * (B, 3, S, S) weights in [0, 1] of x (B, 3, S, S floats in [-1, 1]): for each pixel, the largest
 * difference, over the channels and the 3x3 neighbourhood, to its neighbours, reaching 1 at a step
 * of 0.25 (32 grey levels). Flat areas get 0, both sides of every outline get 1. The same value on
 * all three channels.
 */
export function outlineMask(x: Float32Array, batch: number, size: number): Float32Array {
  return toChannels(neighbourSteps(x, batch, size, 'max').map((e) => Math.min(1, e / 0.25)), batch, size);
}

/**
 * (B, 3, S, S) weights of x (B, 3, S, S floats in [-1, 1]) that turn an L1 error into a fraction of
 * the local outline's contrast: e = the largest RGB distance to a 3x3 neighbour, weight
 * min(1, e / 0.25) x min(2, 1 / e). Flat areas get 0; a step of distance e >= 0.5 gets 1 / e (pink
 * on grey, e = 0.78: 1.28; green on white, e = 1.77: 0.57); fainter steps are capped at 2, so
 * shading and anti-aliasing are not blown up. The same value on all three channels.
 */
export function contrastMask(x: Float32Array, batch: number, size: number): Float32Array {
  return toChannels(neighbourSteps(x, batch, size, 'euclid').map((e) => Math.min(1, e / 0.25) * Math.min(2, 1 / Math.max(e, 1e-6))), batch, size);
}

/** mean |d/dx a - d/dx b| + mean |d/dy a - d/dy b| for (B, C, H, W). */
function edgeLoss(a: Tensor, b: Tensor): Tensor {
  const dx = (t: Tensor): Tensor => sub(slice(t, 3, 1), slice(t, 3, 0, -1));
  const dy = (t: Tensor): Tensor => sub(slice(t, 2, 1), slice(t, 2, 0, -1));
  return add(mean(abs(sub(dx(a), dx(b)))), mean(abs(sub(dy(a), dy(b)))));
}

/**
 * The pixel terms of the loss for recon and x (B, 3, S, S; `x` also on the host, for the outline
 * masks): w.l1 x L1 + w.edge x edge L1 + w.mse x MSE + w.outline x outline L1 + w.contrast x
 * contrast-normalised outline L1, and each term (null where its weight is 0; MSE always, for the
 * PSNR it reports).
 */
export function pixelLoss(recon: Tensor, xt: Tensor, x: Float32Array, w: LossWeights): { total: Tensor; l1: Tensor; edge: Tensor | null; mse: Tensor; outline: Tensor | null; contrast: Tensor | null } {
  const [batch, , size] = xt.shape as [number, number, number, number];
  const diff = sub(recon, xt);
  const l1 = mean(abs(diff));
  const edge = w.edge > 0 ? edgeLoss(recon, xt) : null;
  const mse = mean(mul(diff, diff));
  const outline = w.outline > 0 ? mean(mul(abs(diff), tensor(outlineMask(x, batch, size), [batch, 3, size, size]))) : null;
  const contrast = w.contrast > 0 ? mean(mul(abs(diff), tensor(contrastMask(x, batch, size), [batch, 3, size, size]))) : null;
  let total = mul(l1, w.l1);
  if (edge) total = add(total, mul(edge, w.edge));
  if (w.mse > 0) total = add(total, mul(mse, w.mse));
  if (outline) total = add(total, mul(outline, w.outline));
  if (contrast) total = add(total, mul(contrast, w.contrast));
  return { total, l1, edge, mse, outline, contrast };
}

/** The images of one step: a seeded draw depending only on (seed, step), with random mirroring. */
export function batchFor(seed: number, step: number, count: number, batchSize: number): { index: number[]; flip: boolean[] } {
  const rng = new Rng((seed * 1_000_003 + step * 7919 + 17) >>> 0);
  const index: number[] = [];
  const flip: boolean[] = [];
  for (let i = 0; i < batchSize; i++) {
    index.push(Math.floor(rng.uniform() * count));
    flip.push(rng.uniform() < 0.5);
  }
  return { index, flip };
}
