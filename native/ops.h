// Threaded operations behind the N-API functions (arguments already validated, pointers already
// offset). Implemented in ops.cc, conv.cc, attention.cc and gemm.cc.
#pragma once
#include <stdint.h>

#include "common.h"

namespace cm3 {

void op_unary(int code, const float* x, float* y, long n);
void op_binary(int code, const float* a, long na, const float* b, long nb, float* out, long n);
void op_gelu_backward(const float* x, const float* dy, float* dx, long n);
void op_sum_rows(const float* x, long rows, long cols, float* y);
void op_sum_cols(const float* x, long rows, long cols, float* y);
double op_sum_squares(const float* x, long n);
void op_softmax_fwd(const float* x, float* y, long rows, long cols, bool log);
void op_softmax_bwd(const float* y, const float* dy, float* dx, long rows, long cols, bool log);
void op_layernorm_fwd(const float* x, float* y, float* mean, float* rstd, long rows, long cols, float eps);
void op_layernorm_bwd(const float* x, const float* dy, const float* mean, const float* rstd, float* dx, long rows,
                      long cols);
double op_xent_fwd(const float* logits, const int32_t* tgt, float* lse, long rows, long V, long ignore);
void op_xent_bwd(const float* logits, const int32_t* tgt, const float* lse, float* dl, long rows, long V,
                 long ignore, float scale);
void op_adamw(float* p, const float* g, float* m, float* v, long n, double lr, double b1, double b2, double eps,
              double wd, double bc1, double bc2);

// conv.cc
void op_embedding_fwd(const float* W, const int32_t* ids, float* y, long n, long C);
void op_embedding_bwd(const int32_t* ids, const float* dy, float* dW, long n, long C);
void op_im2col(const float* x, long C, long H, long W, long kh, long kw, long stride, long pad, float* cols);
void op_col2im(const float* cols, long C, long H, long W, long kh, long kw, long stride, long pad, float* dx);

// attention.cc (P.lse/out/dq/dk/dv etc. as in AttnParams; P.delta is filled internally)
void op_attention_fwd(AttnParams& P);
void op_attention_bwd(AttnParams& P);
// Queries over a longer run of keys (P.Tk >= P.T: a KV cache), with optional left padding (P.kstart).
void op_attention_kv(AttnParams& P);

}  // namespace cm3
