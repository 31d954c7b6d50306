// N-API module: registration, info / setThreads / setIsa, gemm, fused attention, embedding and
// im2col / col2im. The remaining kernels are in addon-ops.cc. See src/backends/cpu/native-api.ts.
#include <math.h>

#include "addon-args.h"
#include "common.h"
#include "gemm.h"
#include "ops.h"
#include "thread-pool.h"

using namespace cm3;

namespace cm3 {
void register_ops(napi_env env, napi_value exports);  // addon-ops.cc
}

// Elements spanned by `batch` matrices of rows x cols (leading dim ld) placed `stride` apart.
static double span(double batch, double stride, double rows, double ld, double cols) {
  if (batch <= 0 || rows <= 0 || cols <= 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

CM3_NAPI(js_info, "info", 0) {
  napi_env env = a.env;
  napi_value obj, isa, threads, amx;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, isa_name(active_isa()), NAPI_AUTO_LENGTH, &isa);
  napi_create_int32(env, pool_size(), &threads);
  napi_get_boolean(env, amx_available(), &amx);
  napi_set_named_property(env, obj, "isa", isa);
  napi_set_named_property(env, obj, "threads", threads);
  napi_set_named_property(env, obj, "amx", amx);
  return obj;
}

CM3_NAPI(js_set_threads, "setThreads", 1) {
  pool_resize((int)a.integer(0, "n", 1, 256));
  return make_undefined(a.env);
}

CM3_NAPI(js_set_isa, "setIsa", 1) {
  char buf[16] = {0};
  size_t len = 0;
  if (napi_get_value_string_utf8(a.env, a.argv[0], buf, sizeof buf, &len) != napi_ok)
    a.type_error("argument 0 (isa) must be a string");
  std::string s(buf);
  if (s != "avx512" && s != "avx2" && s != "scalar") a.range_error("isa must be 'avx512', 'avx2' or 'scalar'");
  select_isa(s == "avx512" ? ISA_AVX512 : s == "avx2" ? ISA_AVX2 : ISA_SCALAR);
  napi_value r;
  napi_create_string_utf8(a.env, isa_name(active_isa()), NAPI_AUTO_LENGTH, &r);
  return r;
}

CM3_NAPI(js_gemm, "gemm", 20) {
  GemmArgs g;
  g.transA = a.boolean(0, "transA");
  g.transB = a.boolean(1, "transB");
  g.M = a.integer(2, "M");
  g.N = a.integer(3, "N");
  g.K = a.integer(4, "K");
  g.alpha = (float)a.number(5, "alpha");
  F32 A = a.f32(6, "A");
  long aOff = a.integer(7, "aOff");
  g.lda = a.integer(8, "lda");
  g.sA = a.integer(9, "strideA");
  F32 B = a.f32(10, "B");
  long bOff = a.integer(11, "bOff");
  g.ldb = a.integer(12, "ldb");
  g.sB = a.integer(13, "strideB");
  g.beta = (float)a.number(14, "beta");
  F32 C = a.f32(15, "C");
  long cOff = a.integer(16, "cOff");
  g.ldc = a.integer(17, "ldc");
  g.sC = a.integer(18, "strideC");
  g.batch = a.integer(19, "batch");
  if (g.M > 1 && g.N > 0 && g.ldc < g.N) a.range_error("ldc must be >= N");
  const bool readsAB = g.M > 0 && g.N > 0 && g.K > 0 && g.alpha != 0.0f;
  if (readsAB) {
    a.range("A", A.len, aOff, span(g.batch, g.sA, g.transA ? g.K : g.M, g.lda, g.transA ? g.M : g.K));
    a.range("B", B.len, bOff, span(g.batch, g.sB, g.transB ? g.N : g.K, g.ldb, g.transB ? g.K : g.N));
  }
  a.range("C", C.len, cOff, span(g.batch, g.sC, g.M, g.ldc, g.N));
  g.A = A.p + (readsAB ? aOff : 0);
  g.B = B.p + (readsAB ? bOff : 0);
  g.C = C.p + cOff;
  gemm(g);
  return make_undefined(a.env);
}

// Shared by attentionForward / attentionBackward: q, k, v views and the shape.
static void attn_common(Args& a, AttnParams& P, int shape_at) {
  F32 q = a.f32(0, "q"), k = a.f32(3, "k"), v = a.f32(6, "v");
  long qOff = a.integer(1, "qOff"), kOff = a.integer(4, "kOff"), vOff = a.integer(7, "vOff");
  a.strides3(2, "qs", P.qs);
  a.strides3(5, "ks", P.ks);
  a.strides3(8, "vs", P.vs);
  P.B = a.integer(shape_at, "B");
  P.T = a.integer(shape_at + 1, "T");
  P.H = a.integer(shape_at + 2, "H");
  P.D = a.integer(shape_at + 3, "D");
  P.scale = (float)a.number(shape_at + 4, "scale");
  P.causal = a.boolean(shape_at + 5, "causal");
  const double n = (double)P.B * P.T * P.H * P.D;
  if (n > 0) {
    auto view = [&](const char* name, F32 x, long off, const long* s) {
      a.range(name, x.len, off, (P.B - 1.0) * s[0] + (P.T - 1.0) * s[1] + (P.H - 1.0) * s[2] + P.D);
    };
    view("q", q, qOff, P.qs);
    view("k", k, kOff, P.ks);
    view("v", v, vOff, P.vs);
  }
  P.q = q.p + (n > 0 ? qOff : 0);
  P.k = k.p + (n > 0 ? kOff : 0);
  P.v = v.p + (n > 0 ? vOff : 0);
}

CM3_NAPI(js_attention_fwd, "attentionForward", 17) {
  AttnParams P{};
  attn_common(a, P, 11);
  F32 out = a.f32(9, "out"), lse = a.f32(10, "lse");
  a.range("out", out.len, 0, (double)P.B * P.T * P.H * P.D);
  a.range("lse", lse.len, 0, (double)P.B * P.H * P.T);
  P.outw = out.p;
  P.out = out.p;
  P.lse = lse.p;
  op_attention_fwd(P);
  return make_undefined(a.env);
}

CM3_NAPI(js_attention_bwd, "attentionBackward", 21) {
  AttnParams P{};
  attn_common(a, P, 15);
  const double n = (double)P.B * P.T * P.H * P.D;
  F32 out = a.f32(9, "out"), lse = a.f32(10, "lse"), dout = a.f32(11, "dOut");
  F32 dq = a.f32(12, "dq"), dk = a.f32(13, "dk"), dv = a.f32(14, "dv");
  a.range("out", out.len, 0, n);
  a.range("lse", lse.len, 0, (double)P.B * P.H * P.T);
  a.range("dOut", dout.len, 0, n);
  a.range("dq", dq.len, 0, n);
  a.range("dk", dk.len, 0, n);
  a.range("dv", dv.len, 0, n);
  P.out = out.p;
  P.lse = lse.p;
  P.dout = dout.p;
  P.dq = dq.p;
  P.dk = dk.p;
  P.dv = dv.p;
  op_attention_bwd(P);
  return make_undefined(a.env);
}

// attentionKv(q, qOff, qs, k, kOff, ks, v, vOff, vs, out, lse, B, Tq, H, D, scale, causal, Tk, kstart):
// queries (B, Tq, H, D) over keys (B, Tk, H, D), Tk >= Tq; kstart is empty or holds B first-real-key
// indices in [0, Tk] (left padding).
CM3_NAPI(js_attention_kv, "attentionKv", 19) {
  AttnParams P{};
  attn_common(a, P, 11);
  F32 out = a.f32(9, "out"), lse = a.f32(10, "lse");
  P.Tk = a.integer(17, "Tk");
  if (P.Tk < P.T) a.range_error("Tk must be >= Tq");
  I32 ks = a.i32(18, "kstart");
  const double n = (double)P.B * P.Tk * P.H * P.D;
  if (n > 0) {
    // attn_common checked T rows of k and v; they span Tk.
    F32 k = a.f32(3, "k"), v = a.f32(6, "v");
    const double kOff = (double)a.integer(4, "kOff"), vOff = (double)a.integer(7, "vOff");
    a.range("k", k.len, kOff, (P.B - 1.0) * P.ks[0] + (P.Tk - 1.0) * P.ks[1] + (P.H - 1.0) * P.ks[2] + P.D);
    a.range("v", v.len, vOff, (P.B - 1.0) * P.vs[0] + (P.Tk - 1.0) * P.vs[1] + (P.H - 1.0) * P.vs[2] + P.D);
  }
  a.range("out", out.len, 0, (double)P.B * P.T * P.H * P.D);
  a.range("lse", lse.len, 0, (double)P.B * P.H * P.T);
  if (ks.len > 0) {
    a.range("kstart", ks.len, 0, (double)P.B);
    for (long b = 0; b < P.B; b++)
      if (ks.p[b] < 0 || ks.p[b] > P.Tk)
        a.range_error("kstart[" + std::to_string(b) + "] = " + std::to_string(ks.p[b]) + " is outside [0, Tk]");
    P.kstart = ks.p;
  }
  P.outw = out.p;
  P.out = out.p;
  P.lse = lse.p;
  op_attention_kv(P);
  return make_undefined(a.env);
}

// Ids must index whole rows of a table of `len` floats with C columns.
static void check_ids(Args& a, const I32& ids, long n, long C, double len, const char* table) {
  a.range("ids", ids.len, 0, n);
  if (C <= 0) return;
  const double rows = floor(len / C);
  for (long i = 0; i < n; i++)
    if (ids.p[i] < 0 || ids.p[i] >= rows)
      a.range_error("ids[" + std::to_string(i) + "] = " + std::to_string(ids.p[i]) + " is outside " + table +
                    " (" + std::to_string((long)rows) + " rows)");
}

CM3_NAPI(js_embedding_fwd, "embeddingForward", 5) {
  F32 W = a.f32(0, "W"), y = a.f32(2, "y");
  I32 ids = a.i32(1, "ids");
  long n = a.integer(3, "n"), C = a.integer(4, "C");
  check_ids(a, ids, n, C, W.len, "W");
  a.range("y", y.len, 0, (double)n * C);
  if (C > 0) op_embedding_fwd(W.p, ids.p, y.p, n, C);
  return make_undefined(a.env);
}

CM3_NAPI(js_embedding_bwd, "embeddingBackward", 5) {
  I32 ids = a.i32(0, "ids");
  F32 dy = a.f32(1, "dy"), dW = a.f32(2, "dW");
  long n = a.integer(3, "n"), C = a.integer(4, "C");
  check_ids(a, ids, n, C, dW.len, "dW");
  a.range("dy", dy.len, 0, (double)n * C);
  if (C > 0) op_embedding_bwd(ids.p, dy.p, dW.p, n, C);
  return make_undefined(a.env);
}

struct ConvShape {
  long C, H, W, kh, kw, stride, pad, oh, ow;
};

static ConvShape conv_shape(Args& a, int at) {
  ConvShape s;
  s.C = a.integer(at, "C");
  s.H = a.integer(at + 1, "H");
  s.W = a.integer(at + 2, "W");
  s.kh = a.integer(at + 3, "kh", 1);
  s.kw = a.integer(at + 4, "kw", 1);
  s.stride = a.integer(at + 5, "stride", 1);
  s.pad = a.integer(at + 6, "pad");
  if (s.H + 2 * s.pad < s.kh || s.W + 2 * s.pad < s.kw) a.range_error("kernel larger than the padded input");
  s.oh = (s.H + 2 * s.pad - s.kh) / s.stride + 1;
  s.ow = (s.W + 2 * s.pad - s.kw) / s.stride + 1;
  return s;
}

CM3_NAPI(js_im2col, "im2col", 10) {
  F32 x = a.f32(0, "x"), cols = a.f32(9, "cols");
  long xOff = a.integer(1, "xOff");
  ConvShape s = conv_shape(a, 2);
  a.range("x", x.len, xOff, (double)s.C * s.H * s.W);
  a.range("cols", cols.len, 0, (double)s.C * s.kh * s.kw * s.oh * s.ow);
  if (s.C > 0) op_im2col(x.p + xOff, s.C, s.H, s.W, s.kh, s.kw, s.stride, s.pad, cols.p);
  return make_undefined(a.env);
}

CM3_NAPI(js_col2im, "col2im", 10) {
  F32 cols = a.f32(0, "cols"), dx = a.f32(8, "dx");
  ConvShape s = conv_shape(a, 1);
  long dxOff = a.integer(9, "dxOff");
  a.range("cols", cols.len, 0, (double)s.C * s.kh * s.kw * s.oh * s.ow);
  a.range("dx", dx.len, dxOff, (double)s.C * s.H * s.W);
  if (s.C > 0 && s.H > 0 && s.W > 0) op_col2im(cols.p, s.C, s.H, s.W, s.kh, s.kw, s.stride, s.pad, dx.p + dxOff);
  return make_undefined(a.env);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"info", nullptr, js_info, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, js_set_threads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setIsa", nullptr, js_set_isa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gemm", nullptr, js_gemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"attentionForward", nullptr, js_attention_fwd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"attentionBackward", nullptr, js_attention_bwd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"attentionKv", nullptr, js_attention_kv, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"embeddingForward", nullptr, js_embedding_fwd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"embeddingBackward", nullptr, js_embedding_bwd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"im2col", nullptr, js_im2col, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"col2im", nullptr, js_col2im, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  register_ops(env, exports);
  return exports;
}
