// N-API functions for the element-wise, reduction, normalisation, loss and optimiser kernels.
#include "addon-args.h"
#include "ops.h"

using namespace cm3;

CM3_NAPI(js_unary, "unary", 5) {
  long code = a.integer(0, "code", 0, 8);
  F32 x = a.f32(1, "x"), y = a.f32(3, "y");
  long xOff = a.integer(2, "xOff"), n = a.integer(4, "n");
  a.range("x", x.len, xOff, n);
  a.range("y", y.len, 0, n);
  if (n > 0) op_unary((int)code, x.p + xOff, y.p, n);
  return make_undefined(a.env);
}

CM3_NAPI(js_binary, "binary", 9) {
  long code = a.integer(0, "code", 0, 4);
  F32 A = a.f32(1, "a"), B = a.f32(4, "b"), out = a.f32(7, "out");
  long aOff = a.integer(2, "aOff"), na = a.integer(3, "na");
  long bOff = a.integer(5, "bOff"), nb = a.integer(6, "nb");
  long n = a.integer(8, "n");
  if (n == 0) return make_undefined(a.env);
  if (na < 1 || nb < 1 || n % na != 0 || n % nb != 0) a.range_error("na and nb must divide n");
  a.range("a", A.len, aOff, na);
  a.range("b", B.len, bOff, nb);
  a.range("out", out.len, 0, n);
  op_binary((int)code, A.p + aOff, na, B.p + bOff, nb, out.p, n);
  return make_undefined(a.env);
}

CM3_NAPI(js_gelu_backward, "geluBackward", 4) {
  F32 x = a.f32(0, "x"), dy = a.f32(1, "dy"), dx = a.f32(2, "dx");
  long n = a.integer(3, "n");
  a.range("x", x.len, 0, n);
  a.range("dy", dy.len, 0, n);
  a.range("dx", dx.len, 0, n);
  if (n > 0) op_gelu_backward(x.p, dy.p, dx.p, n);
  return make_undefined(a.env);
}

CM3_NAPI(js_sum_rows, "sumRows", 5) {
  F32 x = a.f32(0, "x"), y = a.f32(4, "y");
  long xOff = a.integer(1, "xOff"), rows = a.integer(2, "rows"), cols = a.integer(3, "cols");
  a.range("x", x.len, xOff, (double)rows * cols);
  a.range("y", y.len, 0, rows);
  if (rows > 0) op_sum_rows(x.p + (cols > 0 ? xOff : 0), rows, cols, y.p);
  return make_undefined(a.env);
}

CM3_NAPI(js_sum_cols, "sumCols", 5) {
  F32 x = a.f32(0, "x"), y = a.f32(4, "y");
  long xOff = a.integer(1, "xOff"), rows = a.integer(2, "rows"), cols = a.integer(3, "cols");
  a.range("x", x.len, xOff, (double)rows * cols);
  a.range("y", y.len, 0, cols);
  if (cols > 0) op_sum_cols(x.p + (rows > 0 ? xOff : 0), rows, cols, y.p);
  return make_undefined(a.env);
}

CM3_NAPI(js_softmax_fwd, "softmaxForward", 6) {
  F32 x = a.f32(0, "x"), y = a.f32(2, "y");
  long xOff = a.integer(1, "xOff"), rows = a.integer(3, "rows"), cols = a.integer(4, "cols");
  bool log = a.boolean(5, "log");
  double n = (double)rows * cols;
  a.range("x", x.len, xOff, n);
  a.range("y", y.len, 0, n);
  if (n > 0) op_softmax_fwd(x.p + xOff, y.p, rows, cols, log);
  return make_undefined(a.env);
}

CM3_NAPI(js_softmax_bwd, "softmaxBackward", 6) {
  F32 y = a.f32(0, "y"), dy = a.f32(1, "dy"), dx = a.f32(2, "dx");
  long rows = a.integer(3, "rows"), cols = a.integer(4, "cols");
  bool log = a.boolean(5, "log");
  double n = (double)rows * cols;
  a.range("y", y.len, 0, n);
  a.range("dy", dy.len, 0, n);
  a.range("dx", dx.len, 0, n);
  if (n > 0) op_softmax_bwd(y.p, dy.p, dx.p, rows, cols, log);
  return make_undefined(a.env);
}

CM3_NAPI(js_layernorm_fwd, "layerNormForward", 8) {
  F32 x = a.f32(0, "x"), y = a.f32(2, "y"), mean = a.f32(3, "mean"), rstd = a.f32(4, "rstd");
  long xOff = a.integer(1, "xOff"), rows = a.integer(5, "rows"), cols = a.integer(6, "cols");
  double eps = a.number(7, "eps");
  double n = (double)rows * cols;
  a.range("x", x.len, xOff, n);
  a.range("y", y.len, 0, n);
  a.range("mean", mean.len, 0, rows);
  a.range("rstd", rstd.len, 0, rows);
  if (rows > 0) op_layernorm_fwd(x.p + (n > 0 ? xOff : 0), y.p, mean.p, rstd.p, rows, cols, (float)eps);
  return make_undefined(a.env);
}

CM3_NAPI(js_layernorm_bwd, "layerNormBackward", 8) {
  F32 x = a.f32(0, "x"), dy = a.f32(2, "dy"), mean = a.f32(3, "mean"), rstd = a.f32(4, "rstd");
  F32 dx = a.f32(5, "dx");
  long xOff = a.integer(1, "xOff"), rows = a.integer(6, "rows"), cols = a.integer(7, "cols");
  double n = (double)rows * cols;
  a.range("x", x.len, xOff, n);
  a.range("dy", dy.len, 0, n);
  a.range("mean", mean.len, 0, rows);
  a.range("rstd", rstd.len, 0, rows);
  a.range("dx", dx.len, 0, n);
  if (n > 0) op_layernorm_bwd(x.p + xOff, dy.p, mean.p, rstd.p, dx.p, rows, cols);
  return make_undefined(a.env);
}

// rows, V and ignoreIndex are arguments at, at + 1, at + 2.
static void xent_common(Args& a, int at, F32& logits, I32& tgt, long& rows, long& V, long& ignore) {
  logits = a.f32(0, "logits");
  tgt = a.i32(1, "targets");
  rows = a.integer(at, "rows");
  V = a.integer(at + 1, "V");
  ignore = a.integer(at + 2, "ignoreIndex", -9007199254740991.0);
  a.range("logits", logits.len, 0, (double)rows * V);
  a.range("targets", tgt.len, 0, rows);
}

CM3_NAPI(js_xent_fwd, "crossEntropyForward", 6) {
  F32 logits, lse;
  I32 tgt;
  long rows, V, ignore;
  xent_common(a, 3, logits, tgt, rows, V, ignore);
  lse = a.f32(2, "lse");
  a.range("lse", lse.len, 0, rows);
  double loss = rows > 0 ? op_xent_fwd(logits.p, tgt.p, lse.p, rows, V, ignore) : 0.0;
  return make_number(a.env, loss);
}

CM3_NAPI(js_xent_bwd, "crossEntropyBackward", 8) {
  F32 logits, lse, dl;
  I32 tgt;
  long rows, V, ignore;
  xent_common(a, 4, logits, tgt, rows, V, ignore);
  lse = a.f32(2, "lse");
  dl = a.f32(3, "dlogits");
  double scale = a.number(7, "scale");
  a.range("lse", lse.len, 0, rows);
  a.range("dlogits", dl.len, 0, (double)rows * V);
  if (rows > 0 && V > 0) op_xent_bwd(logits.p, tgt.p, lse.p, dl.p, rows, V, ignore, (float)scale);
  return make_undefined(a.env);
}

CM3_NAPI(js_adamw, "adamw", 12) {
  F32 p = a.f32(0, "p"), g = a.f32(1, "g"), m = a.f32(2, "m"), v = a.f32(3, "v");
  long n = a.integer(4, "n");
  double h[7];
  const char* names[7] = {"lr", "b1", "b2", "eps", "wd", "bc1", "bc2"};
  for (int i = 0; i < 7; i++) h[i] = a.number(5 + i, names[i]);
  a.range("p", p.len, 0, n);
  a.range("g", g.len, 0, n);
  a.range("m", m.len, 0, n);
  a.range("v", v.len, 0, n);
  if (n > 0) op_adamw(p.p, g.p, m.p, v.p, n, h[0], h[1], h[2], h[3], h[4], h[5], h[6]);
  return make_undefined(a.env);
}

CM3_NAPI(js_sum_squares, "sumSquares", 2) {
  F32 x = a.f32(0, "x");
  long n = a.integer(1, "n");
  a.range("x", x.len, 0, n);
  return make_number(a.env, n > 0 ? op_sum_squares(x.p, n) : 0.0);
}

namespace cm3 {
void register_ops(napi_env env, napi_value exports) {
#define P(name, fn) {name, nullptr, fn, nullptr, nullptr, nullptr, napi_enumerable, nullptr}
  napi_property_descriptor props[] = {
      P("unary", js_unary),
      P("binary", js_binary),
      P("geluBackward", js_gelu_backward),
      P("sumRows", js_sum_rows),
      P("sumCols", js_sum_cols),
      P("softmaxForward", js_softmax_fwd),
      P("softmaxBackward", js_softmax_bwd),
      P("layerNormForward", js_layernorm_fwd),
      P("layerNormBackward", js_layernorm_bwd),
      P("crossEntropyForward", js_xent_fwd),
      P("crossEntropyBackward", js_xent_bwd),
      P("adamw", js_adamw),
      P("sumSquares", js_sum_squares),
  };
#undef P
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
}  // namespace cm3
