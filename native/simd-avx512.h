// 16-lane float vector for AVX-512 (F/BW/VL/DQ). Included by isa-avx512.cc inside its own namespace,
// after <immintrin.h>, under #pragma GCC target. The same interface exists in simd-avx2.h and
// simd-scalar.h so the kernels in *.inc are written once.
#pragma once

#define CM3_SIMD_VECTOR 1

struct V {
  __m512 v;
  static constexpr int W = 16;
  V() = default;
  V(__m512 x) : v(x) {}
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static __mmask16 tail(long n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1); }
  // Loads n (<= W) floats, the other lanes are zero (or fill); never touches memory past p + n.
  static V loadn(const float* p, long n) { return _mm512_maskz_loadu_ps(tail(n), p); }
  static V loadn(const float* p, long n, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), tail(n), p);
  }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  void storen(float* p, long n) const { _mm512_mask_storeu_ps(p, tail(n), v); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V zero() { return _mm512_setzero_ps(); }
  // Lanes >= n set to zero.
  V keep(long n) const { return _mm512_maskz_mov_ps(tail(n), v); }
  V keep(long n, float fill) const { return _mm512_mask_mov_ps(_mm512_set1_ps(fill), tail(n), v); }
};
typedef __mmask16 Mask;

static inline V operator+(V a, V b) { return _mm512_add_ps(a.v, b.v); }
static inline V operator-(V a, V b) { return _mm512_sub_ps(a.v, b.v); }
static inline V operator*(V a, V b) { return _mm512_mul_ps(a.v, b.v); }
static inline V operator/(V a, V b) { return _mm512_div_ps(a.v, b.v); }
static inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a.v, b.v, c.v); }    // a*b + c
static inline V vfnma(V a, V b, V c) { return _mm512_fnmadd_ps(a.v, b.v, c.v); }  // c - a*b
static inline V vfms(V a, V b, V c) { return _mm512_fmsub_ps(a.v, b.v, c.v); }    // a*b - c
// x86 semantics: when either operand is NaN the second one is returned.
static inline V vmin(V a, V b) { return _mm512_min_ps(a.v, b.v); }
static inline V vmax(V a, V b) { return _mm512_max_ps(a.v, b.v); }
static inline Mask is_nan(V a) { return _mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q); }
// max that returns NaN when either operand is NaN (like Math.max / torch.maximum).
static inline V vmax_nan(V a, V b) { return _mm512_mask_blend_ps(is_nan(a), _mm512_max_ps(a.v, b.v), a.v); }
static inline V vsqrt(V a) { return _mm512_sqrt_ps(a.v); }
// 1/a to within ~1 ulp (rcp14 and one Newton step), for finite non-zero a.
static inline V vrecip(V a) {
  __m512 r = _mm512_rcp14_ps(a.v);
  return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(a.v, r, _mm512_set1_ps(1.0f)), r);
}
static inline V vabs(V a) { return _mm512_abs_ps(a.v); }
static inline V vneg(V a) { return _mm512_xor_ps(a.v, _mm512_set1_ps(-0.0f)); }
static inline V vround(V a) { return _mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// |mag| with the sign of sgn.
static inline V vcopysign(V mag, V sgn) {
  __m512 s = _mm512_set1_ps(-0.0f);
  return _mm512_or_ps(_mm512_andnot_ps(s, mag.v), _mm512_and_ps(s, sgn.v));
}
static inline Mask cmp_lt(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
static inline Mask cmp_le(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ); }
static inline Mask cmp_eq(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ); }
static inline Mask cmp_ge(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ); }
static inline Mask mask_or(Mask a, Mask b) { return (Mask)(a | b); }
static inline V vselect(Mask m, V a, V b) { return _mm512_mask_blend_ps(m, b.v, a.v); }  // m ? a : b
// x * 2^n for integral n (exact, with correct overflow, underflow and subnormal results).
static inline V vldexp(V x, V n) { return _mm512_scalef_ps(x.v, n.v); }
// For finite x > 0 (subnormals included): returns m in [0.5, 1) and e with x = m * 2^e.
static inline V vfrexp(V x, V& e) {
  e = _mm512_add_ps(_mm512_getexp_ps(x.v), _mm512_set1_ps(1.0f));
  return _mm512_getmant_ps(x.v, _MM_MANT_NORM_p5_1, _MM_MANT_SIGN_src);
}
static inline float hsum(V a) { return _mm512_reduce_add_ps(a.v); }
static inline float hmax_nan(V a) {
  Mask n = is_nan(a);
  if (n) return _mm512_cvtss_f32(_mm512_maskz_compress_ps(n, a.v));
  return _mm512_reduce_max_ps(a.v);
}

// Double-precision accumulator of one V (16 lanes as 2 x 8 doubles).
struct DAcc {
  __m512d lo, hi;
  static __m512d lo_pd(V x) { return _mm512_cvtps_pd(_mm512_castps512_ps256(x.v)); }
  static __m512d hi_pd(V x) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(x.v, 1)); }
  DAcc() : lo(_mm512_setzero_pd()), hi(_mm512_setzero_pd()) {}
  void add(V x) {
    lo = _mm512_add_pd(lo, lo_pd(x));
    hi = _mm512_add_pd(hi, hi_pd(x));
  }
  void add_sq(V x) {
    __m512d a = lo_pd(x), b = hi_pd(x);
    lo = _mm512_fmadd_pd(a, a, lo);
    hi = _mm512_fmadd_pd(b, b, hi);
  }
  void add_mul(V x, V y) {
    lo = _mm512_fmadd_pd(lo_pd(x), lo_pd(y), lo);
    hi = _mm512_fmadd_pd(hi_pd(x), hi_pd(y), hi);
  }
  void merge(const DAcc& o) {
    lo = _mm512_add_pd(lo, o.lo);
    hi = _mm512_add_pd(hi, o.hi);
  }
  double sum() const { return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi)); }
  // p[i] += lane i, i < n.
  void add_to(double* p, long n) const {
    __mmask8 m0 = n >= 8 ? 0xFF : (__mmask8)((1u << n) - 1);
    __mmask8 m1 = n >= 16 ? 0xFF : n <= 8 ? 0 : (__mmask8)((1u << (n - 8)) - 1);
    _mm512_mask_storeu_pd(p, m0, _mm512_add_pd(_mm512_maskz_loadu_pd(m0, p), lo));
    _mm512_mask_storeu_pd(p + 8, m1, _mm512_add_pd(_mm512_maskz_loadu_pd(m1, p + 8), hi));
  }
};
