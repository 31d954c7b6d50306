// GEMM micro-kernels and packing routines of each ISA (see Kernels::gemm_kernel and Kernels::pack in
// common.h). Defined in gemm-avx512.cc, gemm-avx2.cc and gemm-scalar.cc.
#pragma once

#define GEMM_AVX512_MR 14
#define GEMM_AVX2_MR 6
#define GEMM_SCALAR_MR 4

namespace cm3 {
namespace gemm_avx512 {
void kernel(long kc, const float* a, const float* b, float* c, long ldc, float alpha, float beta, int m, int n);
void pack(const float* src, long rs, long cs, long m, long k, int width, float* dst);
}  // namespace gemm_avx512
namespace gemm_avx2 {
void kernel(long kc, const float* a, const float* b, float* c, long ldc, float alpha, float beta, int m, int n);
void pack(const float* src, long rs, long cs, long m, long k, int width, float* dst);
}  // namespace gemm_avx2
namespace gemm_scalar {
void kernel(long kc, const float* a, const float* b, float* c, long ldc, float alpha, float beta, int m, int n);
void pack(const float* src, long rs, long cs, long m, long k, int width, float* dst);
}  // namespace gemm_scalar
}  // namespace cm3
