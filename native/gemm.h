// Batched SGEMM entry point (gemm.cc); arguments already validated by the caller.
#pragma once

namespace cm3 {

struct GemmArgs {
  bool transA, transB;
  long M, N, K;
  float alpha, beta;
  const float* A;
  long lda, sA;
  const float* B;
  long ldb, sB;
  float* C;
  long ldc, sC;
  long batch;
};

// C[b] = alpha op(A[b]) op(B[b]) + beta C[b] for b < batch; beta == 0 ignores C's old contents.
void gemm(const GemmArgs& g);

}  // namespace cm3
