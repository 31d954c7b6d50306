// Shared declarations of the cm3leon native addon: the per-ISA kernel table, scratch memory and
// small helpers. Everything here is plain data or extern functions, so the ISA-specific translation
// units (compiled under #pragma GCC target) can include it without instantiating inline code that
// the linker could later pick for a CPU that lacks the instructions.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace cm3 {

enum Isa { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

// Parameters of one fused-attention call, shared by the driver (attention.cc) and the per-ISA
// block kernels (attention.inc). Element (b, t, h, d) of q is q[b*qs[0] + t*qs[1] + h*qs[2] + d].
struct AttnParams {
  const float *q, *k, *v;
  long qs[3], ks[3], vs[3];
  const float* out;   // forward: written; backward: read (B, T, H, D) contiguous
  float* outw;        // forward output
  float* lse;         // (B, H, T)
  const float* dout;  // backward: (B, T, H, D) contiguous
  float *dq, *dk, *dv;
  const float* delta; // backward: rowsum(dOut * out), (B, H, T)
  long B, T, H, D;
  float scale;
  bool causal;
  // op_attention_kv only: keys per row (>= T; the queries are the last T positions) and, when not
  // null, each row's first real key (B entries): keys before it are left padding, seen by no query.
  long Tk;
  const int32_t* kstart;
};

// Per-thread scratch of the attention block kernels; attention.cc allocates it (sizes in floats,
// Tp = T rounded up to ATTN_BK).
struct AttnScratch {
  float* kt;    // D x Tp: keys transposed
  float* vt;    // D x Tp: values transposed (backward)
  float* s;     // ATTN_BQ x ATTN_BK: scores / probabilities of a row group
  float* dp;    // ATTN_BQ x ATTN_BK
  float* acc;   // ATTN_BQ x D: output accumulator
  float* acc2;  // ATTN_BK x D: dk accumulator
  float* acc3;  // ATTN_BK x D: dv accumulator
  float* m;     // ATTN_BQ: running max
  float* l;     // ATTN_BQ: running sum
  float* zero;  // D zeros (padding rows of a row group)
  float* dummy; // D floats written by padding rows
};

constexpr int ATTN_BQ = 32;  // query rows per block
constexpr int ATTN_BK = 64;  // keys per block

// The serial kernels of one ISA. The generic code (ops.cc, gemm.cc, attention.cc) validates the
// arguments, splits the work over threads and calls these on sub-ranges.
struct Kernels {
  const char* name;
  // out[i] = f(x[i]) for i < n.
  void (*unary)(int code, const float* x, float* y, long n);
  // out[i] = f(a[i % na], b[i % nb]) for i in [i0, i1).
  void (*binary)(int code, const float* a, long na, const float* b, long nb, float* out, long i0, long i1);
  void (*gelu_backward)(const float* x, const float* dy, float* dx, long n);
  // y[r] = sum_c x[r*cols + c] for r < rows.
  void (*sum_rows)(const float* x, long rows, long cols, float* y);
  // acc[c] += sum_{r<rows} x[r*ld + c] for c < cols.
  void (*sum_cols)(const float* x, long rows, long cols, long ld, double* acc);
  double (*sum_squares)(const float* x, long n);
  void (*softmax_fwd)(const float* x, float* y, long rows, long cols, bool log);
  void (*softmax_bwd)(const float* y, const float* dy, float* dx, long rows, long cols, bool log);
  void (*layernorm_fwd)(const float* x, float* y, float* mean, float* rstd, long rows, long cols, float eps);
  void (*layernorm_bwd)(const float* x, const float* dy, const float* mean, const float* rstd, float* dx,
                        long rows, long cols);
  // Returns the sum of losses of the non-ignored rows; writes lse for every row.
  double (*xent_fwd)(const float* logits, const int32_t* tgt, float* lse, long rows, long V, long ignore);
  void (*xent_bwd)(const float* logits, const int32_t* tgt, const float* lse, float* dl, long rows, long V,
                   long ignore, float scale);
  void (*adamw)(float* p, const float* g, float* m, float* v, long n, double lr, double b1, double b2,
                double eps, double wd, double bc1, double bc2);
  // Fused attention pieces (see attention.inc). Forward: out and lse of queries [q0, q1) of head (b, h).
  void (*attn_fwd)(const AttnParams& P, long b, long h, long q0, long q1, AttnScratch& S);
  // Overwrites dk, dv of keys [k0, k1) of head (b, h); with_dq also adds this range's share into dq.
  void (*attn_bwd_kv)(const AttnParams& P, long b, long h, long k0, long k1, bool with_dq, AttnScratch& S);
  // Overwrites dq of queries [q0, q1) of head (b, h).
  void (*attn_bwd_q)(const AttnParams& P, long b, long h, long q0, long q1, AttnScratch& S);
  // GEMM micro-kernel description (see gemm.cc): C[mr x nr] = alpha * Ap Bp + beta * C.
  int mr, nr;
  void (*gemm_kernel)(long kc, const float* ap, const float* bp, float* c, long ldc, float alpha, float beta,
                      int m, int n);
  // Pack rows [0, m) x cols [0, k) of a matrix with (row stride rs, col stride cs) into panels of
  // `width` rows, each stored k-major: dst[p*k*width + kk*width + r]. Rows past m are zero.
  void (*pack)(const float* src, long rs, long cs, long m, long k, int width, float* dst);
  // Matrix-vector products (see gemv.inc): y[i] = alpha A[i,:] . x + beta y[i], and
  // y[j] = alpha sum_k x[k] A[k, j] + beta y[j]; y has stride incy, beta == 0 ignores y.
  void (*gemv_dot)(long n, long k, float alpha, const float* A, long lda, const float* x, float beta, float* y,
                   long incy);
  void (*gemv_axpy)(long n, long k, float alpha, const float* A, long lda, const float* x, float beta, float* y,
                    long incy);
  // gemv_dot for m <= 4 vectors X[r] at once (outputs Y[r]); each result is bit-identical to gemv_dot's.
  void (*gemv_dot_multi)(long n, long k, float alpha, const float* A, long lda, const float* const* X, int m,
                         float beta, float* const* Y, long incy);
  // Attention of head (b, h)'s P.T queries over P.Tk keys, one query at a time (see attention.inc);
  // s is scratch of P.Tk floats.
  void (*attn_kv)(const AttnParams& P, long b, long h, float* s);
};

extern const Kernels kernels_scalar;
extern const Kernels kernels_avx2;
extern const Kernels kernels_avx512;

// Selected at load time (cpu-features.cc).
const Kernels& K();
Isa active_isa();
const char* isa_name(Isa);
void select_isa(Isa);  // for tests; clamps to what the CPU supports
Isa best_isa();
bool amx_available();

// 64-byte aligned, grow-only scratch that belongs to the calling OS thread.
float* thread_scratch(int slot, size_t floats);

}  // namespace cm3
