// AVX2 + FMA GEMM micro-kernel: a 6 x 16 tile in 12 ymm accumulators.
#pragma GCC target("avx2,fma,bmi,bmi2,popcnt,f16c")
#include <immintrin.h>
#include <stdint.h>

#include "gemm-ukernels.h"

namespace cm3 {
namespace gemm_avx2 {

constexpr int MR = GEMM_AVX2_MR, NR = 16;

static inline __m256i tail(long n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n < 0 ? 0 : n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline void store8(float* c, __m256 acc, __m256 va, __m256 vb, bool beta0, long n) {
  if (n >= 8) {
    __m256 r = _mm256_mul_ps(acc, va);
    if (!beta0) r = _mm256_fmadd_ps(_mm256_loadu_ps(c), vb, r);
    _mm256_storeu_ps(c, r);
  } else if (n > 0) {
    __m256i m = tail(n);
    __m256 r = _mm256_mul_ps(acc, va);
    if (!beta0) r = _mm256_fmadd_ps(_mm256_maskload_ps(c, m), vb, r);
    _mm256_maskstore_ps(c, m, r);
  }
}

__attribute__((noinline)) void kernel(long kc, const float* a, const float* b, float* c, long ldc, float alpha,
                                      float beta, int m, int n) {
  __m256 acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int r = 0; r < MR && r < m; r++) _mm_prefetch((const char*)(c + r * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (long k = 0; k < kc; k++) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      __m256 av = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
    a += MR;
    b += NR;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const bool beta0 = beta == 0.0f;
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++) {
    if (r >= m) break;
    store8(c + r * ldc, acc[r][0], va, vb, beta0, n);
    store8(c + r * ldc + 8, acc[r][1], va, vb, beta0, n - 8);
  }
}

void pack(const float* src, long rs, long cs, long m, long k, int width, float* dst) {
  gemm_scalar::pack(src, rs, cs, m, k, width, dst);
}

}  // namespace gemm_avx2
}  // namespace cm3
