/**
 * Small float32 vector helpers shared by the encoders, the rules and the memory bank: dot product,
 * L2 normalisation, mean. Plain loops over Float32Array; not a tensor library and not meant for
 * anything bigger than one embedding at a time.
 */

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** v / |v|, in a new array; a zero vector stays zero (it then scores 0 against everything). */
export function normalise(v: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (n === 0) return out;
  const inv = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

/** normalise(mean(normalise(v) for v in vs)): how a document's text and image embeddings combine. */
export function normalisedMean(vs: readonly ArrayLike<number>[]): Float32Array {
  if (vs.length === 0) throw new Error('normalisedMean: no vectors');
  const dim = vs[0]!.length;
  const sum = new Float32Array(dim);
  for (const v of vs) {
    if (v.length !== dim) throw new Error(`normalisedMean: dims ${dim} and ${v.length} differ`);
    const u = normalise(v);
    for (let i = 0; i < dim; i++) sum[i] += u[i]!;
  }
  return normalise(sum);
}

export function isUnitLength(v: ArrayLike<number>, tol = 1e-3): boolean {
  return Math.abs(Math.sqrt(dot(v, v)) - 1) <= tol;
}
