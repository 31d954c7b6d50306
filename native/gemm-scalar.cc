// Portable GEMM micro-kernel (4 x 8 tile) and packing; the fallback when the CPU has no AVX2/FMA.
// Also the packing used by the AVX2 path for strided sources.
#include <string.h>

#include "gemm-ukernels.h"

namespace cm3 {
namespace gemm_scalar {

constexpr int MR = GEMM_SCALAR_MR, NR = 8;

void kernel(long kc, const float* a, const float* b, float* c, long ldc, float alpha, float beta, int m, int n) {
  float acc[MR][NR];
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NR; j++) acc[r][j] = 0.0f;
  for (long k = 0; k < kc; k++, a += MR, b += NR)
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++) acc[r][j] += a[r] * b[j];
  for (int r = 0; r < m; r++) {
    float* cr = c + r * ldc;
    if (beta == 0.0f)
      for (int j = 0; j < n; j++) cr[j] = alpha * acc[r][j];
    else
      for (int j = 0; j < n; j++) cr[j] = alpha * acc[r][j] + beta * cr[j];
  }
}

void pack(const float* src, long rs, long cs, long m, long k, int width, float* dst) {
  for (long p0 = 0; p0 < m; p0 += width, dst += k * width) {
    long rows = m - p0 < width ? m - p0 : width;
    const float* s = src + p0 * rs;
    if (rs == 1) {
      for (long kk = 0; kk < k; kk++) {
        float* d = dst + kk * width;
        memcpy(d, s + kk * cs, rows * sizeof(float));
        for (long r = rows; r < width; r++) d[r] = 0.0f;
      }
    } else {
      // Walk each source row contiguously (cs == 1 is the common case).
      for (long r = 0; r < width; r++) {
        float* d = dst + r;
        if (r < rows) {
          const float* sr = s + r * rs;
          for (long kk = 0; kk < k; kk++) d[kk * width] = sr[kk * cs];
        } else {
          for (long kk = 0; kk < k; kk++) d[kk * width] = 0.0f;
        }
      }
    }
  }
}

}  // namespace gemm_scalar
}  // namespace cm3
