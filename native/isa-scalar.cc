// Kernels compiled for portable scalar code. The shared kernel sources (*.inc) are included inside a namespace of
// their own so nothing compiled here can be picked by the linker for another ISA's code.
// No target pragma: baseline x86-64 (or whatever the compiler targets by default).

#include <math.h>
#include <stdint.h>

#include "common.h"
#include "gemm-ukernels.h"

namespace cm3 {
namespace isa_scalar {
#include "simd-scalar.h"
#include "vecmath.inc"
#include "elementwise.inc"
#include "norm.inc"
#include "attention.inc"
#include "gemv.inc"
}  // namespace isa_scalar

#define CM3_TABLE kernels_scalar
#define CM3_ISA_NS isa_scalar
#define CM3_GEMM_NS gemm_scalar
#define CM3_GEMM_MR GEMM_SCALAR_MR
#define CM3_GEMM_NR 8
#define CM3_ISA_NAME "scalar"
#include "isa-table.inc"

}  // namespace cm3
