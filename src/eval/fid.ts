/**
 * Fréchet distance between two sets of feature vectors (the FID formula):
 *   |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))
 * with tr((S_a S_b)^(1/2)) = sum sqrt(eig(S_a^(1/2) S_b S_a^(1/2))), all in float64 with a cyclic
 * Jacobi eigensolver (exact enough for the 128-dimensional features we use; no dependency).
 * The features here are the project's bi-encoder image embeddings, NOT Inception-v3 pool features:
 * numbers are comparable with each other, not with published FIDs.
 */

/** Eigen-decomposition of a symmetric n x n matrix (row-major, copied): values and column eigenvectors. */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        // The rotation that zeroes a[p][q] (Golub & Van Loan, symmetric Schur decomposition).
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!, akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!, aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!, vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/** Mean (d) and covariance (d x d, divided by N - 1) of N vectors. */
export function meanAndCovariance(xs: readonly ArrayLike<number>[]): { mean: Float64Array; cov: Float64Array; dim: number } {
  if (xs.length < 2) throw new Error(`Fréchet distance: need at least 2 vectors per set, got ${xs.length}`);
  const d = xs[0]!.length;
  const mean = new Float64Array(d);
  for (const x of xs) {
    if (x.length !== d) throw new Error(`Fréchet distance: vectors of dimension ${x.length} and ${d}`);
    for (let i = 0; i < d; i++) mean[i]! += x[i]! / xs.length;
  }
  const cov = new Float64Array(d * d);
  for (const x of xs) {
    for (let i = 0; i < d; i++) {
      const di = x[i]! - mean[i]!;
      for (let j = i; j < d; j++) cov[i * d + j]! += di * (x[j]! - mean[j]!);
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const c = cov[i * d + j]! / (xs.length - 1);
      cov[i * d + j] = c;
      cov[j * d + i] = c;
    }
  }
  return { mean, cov, dim: d };
}

/** The Fréchet distance of the Gaussians fitted to `a` and `b`. */
export function frechetDistance(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  const A = meanAndCovariance(a);
  const B = meanAndCovariance(b);
  if (A.dim !== B.dim) throw new Error(`Fréchet distance: dimension ${A.dim} vs ${B.dim}`);
  const d = A.dim;
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (A.mean[i]! - B.mean[i]!) ** 2;
  // sqrt(S_a) = V diag(sqrt(max(l, 0))) V^T
  const ea = symmetricEigen(A.cov, d);
  const rootA = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += ea.vectors[i * d + k]! * Math.sqrt(Math.max(0, ea.values[k]!)) * ea.vectors[j * d + k]!;
      rootA[i * d + j] = s;
    }
  }
  // M = sqrt(S_a) S_b sqrt(S_a), symmetric PSD; tr sqrt(S_a S_b) = sum sqrt(eig(M)).
  const tmp = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += rootA[i * d + k]! * B.cov[k * d + j]!;
    tmp[i * d + j] = s;
  }
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += tmp[i * d + k]! * rootA[k * d + j]!;
    m[i * d + j] = s;
  }
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) { const s = (m[i * d + j]! + m[j * d + i]!) / 2; m[i * d + j] = s; m[j * d + i] = s; }
  const em = symmetricEigen(m, d);
  let traceRoot = 0;
  for (let i = 0; i < d; i++) traceRoot += Math.sqrt(Math.max(0, em.values[i]!));
  let trace = 0;
  for (let i = 0; i < d; i++) trace += A.cov[i * d + i]! + B.cov[i * d + i]!;
  return Math.max(0, meanTerm + trace - 2 * traceRoot);
}
