// Kernels compiled for AVX2 + FMA. The shared kernel sources (*.inc) are included inside a namespace of
// their own so nothing compiled here can be picked by the linker for another ISA's code.
#pragma GCC target("avx2,fma,bmi,bmi2,popcnt,f16c")
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "common.h"
#include "gemm-ukernels.h"

namespace cm3 {
namespace isa_avx2 {
#include "simd-avx2.h"
#include "vecmath.inc"
#include "elementwise.inc"
#include "norm.inc"
#include "attention.inc"
#include "gemv.inc"
}  // namespace isa_avx2

#define CM3_TABLE kernels_avx2
#define CM3_ISA_NS isa_avx2
#define CM3_GEMM_NS gemm_avx2
#define CM3_GEMM_MR GEMM_AVX2_MR
#define CM3_GEMM_NR 16
#define CM3_ISA_NAME "avx2"
#include "isa-table.inc"

}  // namespace cm3
