// AVX-512 GEMM micro-kernel (MR x 32 tile held in MR*2 zmm accumulators) and panel packing with
// in-register 16x16 transposes. Compiled for AVX-512 only; called through the kernel table after
// the runtime CPU check.
// GCC 12's avx512fintrin.h trips -W(maybe-)uninitialized on its own "undefined" vectors (GCC bug
// 105593); the same kernels are also compiled for AVX2 and scalar, where these warnings stay on.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi,bmi2,popcnt,f16c")
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "gemm-ukernels.h"

namespace cm3 {
namespace gemm_avx512 {

constexpr int MR = GEMM_AVX512_MR, NV = 2, NR = 16 * NV;

static inline __mmask16 tail(long n) {
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

static inline void store_row(float* c, const __m512* acc, __m512 va, __m512 vb, bool beta0, int n) {
  for (int j = 0; j < NV; j++) {
    __mmask16 m = tail(n - 16 * j);
    if (m == 0xFFFF) {
      __m512 r = _mm512_mul_ps(acc[j], va);
      if (!beta0) r = _mm512_fmadd_ps(_mm512_loadu_ps(c + 16 * j), vb, r);
      _mm512_storeu_ps(c + 16 * j, r);
    } else if (m) {
      __m512 r = _mm512_mul_ps(acc[j], va);
      if (!beta0) r = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, c + 16 * j), vb, r);
      _mm512_mask_storeu_ps(c + 16 * j, m, r);
    }
  }
}

// C[R x n] = alpha * A B + beta * C for the first R rows of an MR-row A panel.
template <int R>
__attribute__((noinline)) static void kernel_rows(long kc, const float* a, const float* b, float* c, long ldc,
                                                  float alpha, float beta, int n) {
  __m512 acc[R][NV];
#pragma GCC unroll 32
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int j = 0; j < NV; j++) acc[r][j] = _mm512_setzero_ps();
  // C is needed only at the end: ask for it in L2 now (the B stream would evict it from L1) and in
  // L1 a few iterations before the end.
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) {
    _mm_prefetch((const char*)(c + r * ldc), _MM_HINT_T1);
    _mm_prefetch((const char*)(c + r * ldc + 16), _MM_HINT_T1);
  }
  auto step = [&](long kn) {
#pragma GCC unroll 2
    for (long k = 0; k < kn; k++) {
      __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
      _mm_prefetch((const char*)(b + 8 * NR), _MM_HINT_T0);
#pragma GCC unroll 32
      for (int r = 0; r < R; r++) {
        __m512 av = _mm512_set1_ps(a[r]);
        acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
      }
      a += MR;
      b += NR;
    }
  };
  const long tail_k = kc < 16 ? kc : 16;
  step(kc - tail_k);
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) {
    _mm_prefetch((const char*)(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch((const char*)(c + r * ldc + 16), _MM_HINT_T0);
  }
  step(tail_k);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const bool beta0 = beta == 0.0f;
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) store_row(c + r * ldc, acc[r], va, vb, beta0, n);
}

typedef void (*RowsKernel)(long, const float*, const float*, float*, long, float, float, int);
static const RowsKernel rows_kernels[MR] = {kernel_rows<1>,  kernel_rows<2>,  kernel_rows<3>,  kernel_rows<4>,
                                            kernel_rows<5>,  kernel_rows<6>,  kernel_rows<7>,  kernel_rows<8>,
                                            kernel_rows<9>,  kernel_rows<10>, kernel_rows<11>, kernel_rows<12>,
                                            kernel_rows<13>, kernel_rows<14>};

// Partial panels (m < MR rows) run a kernel sized to them, so edge rows cost what they compute.
void kernel(long kc, const float* a, const float* b, float* c, long ldc, float alpha, float beta, int m, int n) {
  if (m > 0) rows_kernels[(m > MR ? MR : m) - 1](kc, a, b, c, ldc, alpha, beta, n);
}

// In-place transpose of 16 rows of 16 floats.
static inline void transpose16(__m512* r) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  // r[4g + q] now holds, for rows 4g..4g+3, column q of each 128-bit lane.
  for (int i = 0; i < 4; i++) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
    r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
    r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xDD);
  }
}

// See Kernels::pack. Rows of the source are either contiguous in k (cs == 1: transposed here 16 x 16
// at a time) or the panel's rows are contiguous (rs == 1: plain copies).
// Copies for a source whose panel rows are contiguous (rs == 1): k outer so that the reads of all
// the panels of this call walk each source row contiguously. Masked loads are cheap but masked
// stores are not (AMD), so a partial vector is stored whole, spilling into the next k's slot that
// the next iteration rewrites; only each panel's last k uses a masked store.
static void pack_rows_contiguous(const float* src, long cs, long m, long k, int width, float* dst) {
  const long npan = (m + width - 1) / width;
  for (long kk = 0; kk < k; kk++) {
    const float* sp = src + kk * cs;
    for (long p = 0; p < npan; p++) {
      const long rows = m - p * width < width ? m - p * width : width;
      float* d = dst + p * k * width + kk * width;
      for (int r0 = 0; r0 < width; r0 += 16) {
        const float* q = sp + p * width + r0;
        __m512 v = rows - r0 >= 16 ? _mm512_loadu_ps(q) : _mm512_maskz_loadu_ps(tail(rows - r0), q);
        if (width - r0 >= 16 || kk + 1 < k) _mm512_storeu_ps(d + r0, v);
        else _mm512_mask_storeu_ps(d + r0, tail(width - r0), v);
      }
    }
  }
}

// See Kernels::pack. Rows of the source are either contiguous in k (cs == 1: transposed here 16 x 16
// at a time) or the panels' rows are contiguous (rs == 1: plain copies).
void pack(const float* src, long rs, long cs, long m, long k, int width, float* dst) {
  if (rs == 1) {
    pack_rows_contiguous(src, cs, m, k, width, dst);
    return;
  }
  for (long p0 = 0; p0 < m; p0 += width, dst += k * width) {
    long rows = m - p0 < width ? m - p0 : width;
    const float* s = src + p0 * rs;
    if (cs == 1) {
      for (int r0 = 0; r0 < width; r0 += 16) {
        int nr = width - r0 < 16 ? width - r0 : 16;   // rows of this 16-row slab in the panel
        long valid = rows - r0;                       // rows that exist in the source
        __mmask16 mst = tail(nr);
        for (long k0 = 0; k0 < k; k0 += 16) {
          __mmask16 mk = tail(k - k0);
          __m512 v[16];
          for (int i = 0; i < 16; i++)
            v[i] = i < valid ? _mm512_maskz_loadu_ps(mk, s + (r0 + i) * rs + k0) : _mm512_setzero_ps();
          transpose16(v);
          long kn = k - k0 < 16 ? k - k0 : 16;
          for (long i = 0; i < kn; i++) _mm512_mask_storeu_ps(dst + (k0 + i) * width + r0, mst, v[i]);
        }
      }
    } else {
      for (long kk = 0; kk < k; kk++)
        for (int r = 0; r < width; r++) dst[kk * width + r] = r < rows ? s[r * rs + kk * cs] : 0.0f;
    }
  }
}

}  // namespace gemm_avx512
}  // namespace cm3
