/**
 * Guidance over two (or three) streams of logits for the same next token:
 *  - classifier-free guidance (CFG): logits = uncond + a * (cond - uncond); the unconditional
 *    stream is the same prompt with the text replaced by `<mask>`;
 *  - two-scale guidance for editing (an image stream and a text stream, paper: 1.5 and 7.5):
 *    uncond + sImage * (image - uncond) + sText * (full - image);
 *  - contrastive decoding top-k (CD-K): score = log p_cond - log p_uncond over
 *    V = {t : p_cond(t) >= alpha * (k-th largest p_cond)}, -inf elsewhere.
 * Inputs are rows of logits (V); outputs are new rows, ready for the samplers.
 */

export function checkGuidanceScale(name: string, scale: number): void {
  if (!(Number.isFinite(scale) && scale >= 0)) throw new Error(`guidance: ${name} must be a non-negative number, got ${scale}`);
}

/**
 * `range` [start, end): only those ids are computed, every other one is -Infinity; for a caller
 * whose conditional logits are already masked to the range (a span's ids): the same result, without
 * a pass over the whole vocabulary.
 */
export function cfgLogits(cond: Float32Array, uncond: Float32Array, scale: number, range?: readonly [number, number]): Float32Array {
  checkGuidanceScale('CFG scale', scale);
  if (cond.length !== uncond.length) throw new Error(`guidance: streams of ${cond.length} and ${uncond.length} logits`);
  const out = new Float32Array(cond.length);
  const [start, end] = range ? [Math.max(0, range[0]), Math.min(out.length, range[1])] : [0, out.length];
  if (range) {
    out.fill(-Infinity, 0, start);
    out.fill(-Infinity, Math.max(start, end));
  }
  for (let i = start; i < end; i++) {
    // A token masked in either stream stays masked (avoids inf - inf).
    out[i] = cond[i] === -Infinity || uncond[i] === -Infinity ? -Infinity : uncond[i]! + scale * (cond[i]! - uncond[i]!);
  }
  return out;
}

/** Two-scale guidance: uncond, conditioned on the image only, conditioned on image and text. */
export function twoScaleLogits(uncond: Float32Array, image: Float32Array, full: Float32Array, imageScale: number, textScale: number): Float32Array {
  checkGuidanceScale('image scale', imageScale);
  checkGuidanceScale('text scale', textScale);
  const out = new Float32Array(full.length);
  for (let i = 0; i < out.length; i++) {
    const masked = uncond[i] === -Infinity || image[i] === -Infinity || full[i] === -Infinity;
    out[i] = masked ? -Infinity : uncond[i]! + imageScale * (image[i]! - uncond[i]!) + textScale * (full[i]! - image[i]!);
  }
  return out;
}

function logSoftmax(x: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of x) if (v > m) m = v;
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return Float64Array.from(x, (v) => v - lse);
}

/** CD-K scores; k >= 1, alpha in (0, 1]. */
export function cdkScores(cond: Float32Array, uncond: Float32Array, k: number, alpha: number): Float32Array {
  if (!Number.isInteger(k) || k < 1 || k > cond.length) throw new Error(`CD-K: k must be an integer in [1, ${cond.length}], got ${k}`);
  if (!(alpha > 0 && alpha <= 1)) throw new Error(`CD-K: alpha must be in (0, 1], got ${alpha}`);
  const lc = logSoftmax(cond);
  const lu = logSoftmax(uncond);
  const kth = [...lc].sort((a, b) => b - a)[k - 1]!;
  const threshold = Math.log(alpha) + kth; // p >= alpha * p_k  <=>  log p >= log alpha + log p_k
  const out = new Float32Array(cond.length);
  for (let i = 0; i < out.length; i++) out[i] = lc[i]! >= threshold && lc[i]! > -Infinity ? lc[i]! - lu[i]! : -Infinity;
  return out;
}
