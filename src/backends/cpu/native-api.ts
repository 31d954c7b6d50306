/**
 * The contract between the TypeScript engine and the native CPU addon (native/, built by node-gyp
 * at install time into build/Release/cm3leon_native.node).
 *
 * Every function works on caller-allocated typed arrays (no allocation inside the addon), row-major,
 * offsets and strides counted in elements. All float arrays are f32. Each kernel computes exactly
 * what the TypeScript reference kernel of the same name computes (src/backends/cpu/reference*.ts);
 * the conformance suite holds them to that. Work is split over the addon's own thread pool.
 *
 * This file is types only: it deliberately holds no logic, so the addon and the engine can change
 * independently behind it.
 */
export type F32 = Float32Array;
export type I32 = Int32Array;

/** Unary op codes for `unary`. gelu is the exact erf form: 0.5 x (1 + erf(x / sqrt 2)). */
export const UnaryCode = { neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, sigmoid: 5, relu: 6, gelu: 7, abs: 8 } as const;
/** Binary op codes for `binary`. */
export const BinaryCode = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4 } as const;

export interface NativeAddon {
  /** Instruction set chosen at load time, thread count, whether AMX tiles were granted. */
  info(): { isa: 'avx512' | 'avx2' | 'scalar'; threads: number; amx: boolean };
  /** Resize the thread pool (1..256). Default: CM3LEON_THREADS or all online cores. */
  setThreads(n: number): void;

  /**
   * Batched GEMM, for b < batch:
   *   C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b]
   * op(A) is M x K: stored M x K with leading dim lda, or (transA) stored K x M with leading dim lda.
   * op(B) is K x N: stored K x N (ldb), or (transB) stored N x K (ldb).
   * C is M x N with leading dim ldc. Matrix b starts at aOff + b * strideA (likewise B, C).
   * strideA or strideB may be 0 (the same matrix for every batch). beta = 0 means C is write-only
   * (its old contents, even NaN, are ignored).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: F32, aOff: number, lda: number, strideA: number,
    B: F32, bOff: number, ldb: number, strideB: number,
    beta: number, C: F32, cOff: number, ldc: number, strideC: number, batch: number,
  ): void;

  /** y[i] = f(x[xOff + i]) for i < n. */
  unary(code: number, x: F32, xOff: number, y: F32, n: number): void;
  /**
   * out[i] = f(a[aOff + i % na], b[bOff + i % nb]) for i < n; na and nb divide n
   * (na = nb = n: same shape; nb = 1: scalar; nb = row length: row broadcast).
   */
  binary(code: number, a: F32, aOff: number, na: number, b: F32, bOff: number, nb: number, out: F32, n: number): void;
  /** dx[i] = dy[i] * gelu'(x[i]) (exact erf form). */
  geluBackward(x: F32, dy: F32, dx: F32, n: number): void;
  /** x is rows x cols contiguous; y[r] = sum_c x[r, c]. */
  sumRows(x: F32, xOff: number, rows: number, cols: number, y: F32): void;
  /** x is rows x cols contiguous; y[c] = sum_r x[r, c]. */
  sumCols(x: F32, xOff: number, rows: number, cols: number, y: F32): void;

  /** Row-wise (last dim) softmax, or log-softmax when log; numerically stable (max subtracted). */
  softmaxForward(x: F32, xOff: number, y: F32, rows: number, cols: number, log: boolean): void;
  /**
   * Given the forward output y and upstream dy, dx for softmax: y * (dy - sum(dy * y));
   * for log-softmax: dy - exp(y) * sum(dy).
   */
  softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, log: boolean): void;

  /** LayerNorm without affine over the last dim: y = (x - mean) * rstd, rstd = 1/sqrt(var + eps), biased var. mean, rstd: rows. */
  layerNormForward(x: F32, xOff: number, y: F32, mean: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  /** dx = rstd * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat = (x - mean) * rstd. */
  layerNormBackward(x: F32, xOff: number, dy: F32, mean: F32, rstd: F32, dx: F32, rows: number, cols: number): void;

  /**
   * Cross-entropy over rows of logits (rows x V, contiguous). For each row r whose target t != ignoreIndex:
   * loss_r = lse_r - logits[r, t]. Writes lse (rows) for every row; returns the sum of loss_r over
   * non-ignored rows. Targets outside [0, V) other than ignoreIndex are the caller's error (checked in TS).
   */
  crossEntropyForward(logits: F32, targets: I32, lse: F32, rows: number, V: number, ignoreIndex: number): number;
  /** dlogits[r, :] = scale * (softmax(logits[r]) - onehot(t_r)) for non-ignored rows, 0 for ignored rows. */
  crossEntropyBackward(logits: F32, targets: I32, lse: F32, dlogits: F32, rows: number, V: number, ignoreIndex: number, scale: number): void;

  /** Gather: y[i, :] = W[ids[i], :] for i < n, W is (vocab x C). */
  embeddingForward(W: F32, ids: I32, y: F32, n: number, C: number): void;
  /** Scatter-add: dW[ids[i], :] += dy[i, :] (dW is not cleared first). */
  embeddingBackward(ids: I32, dy: F32, dW: F32, n: number, C: number): void;

  /**
   * Fused causal (or full) multi-head attention, flash style: scores are never materialised beyond a
   * block. q, k, v are (B, T, H, D) views: element (b, t, h, d) of q is at
   * qOff + b*qs[0] + t*qs[1] + h*qs[2] + d. out is (B, T, H, D) contiguous; lse is (B, H, T), the
   * log-sum-exp of each row of scaled scores (kept for the backward pass).
   *   out[b,t,h,:] = sum_s softmax_s(scale * q[b,t,h,:] . k[b,s,h,:]) v[b,s,h,:], s <= t when causal.
   */
  attentionForward(
    q: F32, qOff: number, qs: number[], k: F32, kOff: number, ks: number[], v: F32, vOff: number, vs: number[],
    out: F32, lse: F32, B: number, T: number, H: number, D: number, scale: number, causal: boolean,
  ): void;
  /**
   * Attention of Tq queries over Tk >= Tq keys (a KV cache: the queries are the last Tq positions),
   * one query at a time; views as in attentionForward, out (B, Tq, H, D), lse (B, H, Tq). kstart is
   * empty, or B indices in [0, Tk]: row b's keys before kstart[b] are left padding (masked); a query
   * that sees no key gets out 0, lse -inf. Each row's sums run over its own keys in order, so its
   * result does not depend on its padding or on the other rows of the batch.
   */
  attentionKv(
    q: F32, qOff: number, qs: number[], k: F32, kOff: number, ks: number[], v: F32, vOff: number, vs: number[],
    out: F32, lse: F32, B: number, Tq: number, H: number, D: number, scale: number, causal: boolean, Tk: number, kstart: I32,
  ): void;
  /** Gradients of attentionForward; dOut is (B, T, H, D) contiguous; dq, dk, dv are (B, T, H, D) contiguous and overwritten. */
  attentionBackward(
    q: F32, qOff: number, qs: number[], k: F32, kOff: number, ks: number[], v: F32, vOff: number, vs: number[],
    out: F32, lse: F32, dOut: F32, dq: F32, dk: F32, dv: F32,
    B: number, T: number, H: number, D: number, scale: number, causal: boolean,
  ): void;

  /**
   * im2col for one image x (C, H, W) at xOff: cols is (C*kh*kw, outH*outW), row index (c*kh + i)*kw + j,
   * zero where the window falls in the padding. outH = floor((H + 2*pad - kh)/stride) + 1 (same for W).
   */
  im2col(x: F32, xOff: number, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, cols: F32): void;
  /** The adjoint of im2col: dx (C, H, W) at dxOff += fold(cols). */
  col2im(cols: F32, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, dx: F32, dxOff: number): void;

  /**
   * Fused AdamW step on n parameters, exactly as torch.optim.AdamW:
   *   p *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
   *   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)      with bc1 = 1 - b1^t, bc2 = 1 - b2^t.
   */
  adamw(p: F32, g: F32, m: F32, v: F32, n: number, lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number): void;
  /** Sum of squares of x[0..n) in double precision (for gradient-norm clipping). */
  sumSquares(x: F32, n: number): number;

  /**
   * (Added by the addon, for tests and benchmarks.) Switch the kernels to a lower instruction set at
   * run time, like CM3LEON_ISA at load time; a request above what the CPU supports is clamped.
   * Returns the ISA now in use (also what `info().isa` reports).
   */
  setIsa(isa: 'avx512' | 'avx2' | 'scalar'): 'avx512' | 'avx2' | 'scalar';
}
