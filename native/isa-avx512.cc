// Kernels compiled for AVX-512 (F/BW/DQ/VL + FMA). The shared kernel sources (*.inc) are included inside a namespace of
// their own so nothing compiled here can be picked by the linker for another ISA's code.
// GCC 12's avx512fintrin.h trips -W(maybe-)uninitialized on its own "undefined" vectors (GCC bug
// 105593); the same kernels are also compiled for AVX2 and scalar, where these warnings stay on.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi,bmi2,popcnt,f16c")
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "common.h"
#include "gemm-ukernels.h"

namespace cm3 {
namespace isa_avx512 {
#include "simd-avx512.h"
#include "vecmath.inc"
#include "elementwise.inc"
#include "norm.inc"
#include "attention.inc"
#include "gemv.inc"
}  // namespace isa_avx512

#define CM3_TABLE kernels_avx512
#define CM3_ISA_NS isa_avx512
#define CM3_GEMM_NS gemm_avx512
#define CM3_GEMM_MR GEMM_AVX512_MR
#define CM3_GEMM_NR 32
#define CM3_ISA_NAME "avx512"
#include "isa-table.inc"

}  // namespace cm3
