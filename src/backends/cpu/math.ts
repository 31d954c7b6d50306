/** Scalar math the reference kernels need beyond Math: erf (double precision) and exact GELU. */

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/** erf(x) to ~1e-14: Maclaurin series below |x| = 3, continued fraction for erfc above. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated from the tail.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * INV_SQRT2));
}

/** d/dx gelu(x) = Phi(x) + x phi(x). */
export function geluGrad(x: number): number {
  return 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}
