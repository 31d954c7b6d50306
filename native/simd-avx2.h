// 8-lane float vector for AVX2 + FMA; same interface as simd-avx512.h.
#pragma once

#define CM3_SIMD_VECTOR 1

struct V {
  __m256 v;
  static constexpr int W = 8;
  V() = default;
  V(__m256 x) : v(x) {}
  static __m256i tail(long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n < 0 ? 0 : n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V loadn(const float* p, long n) { return _mm256_maskload_ps(p, tail(n)); }
  static V loadn(const float* p, long n, float fill) {
    __m256i m = tail(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  void storen(float* p, long n) const { _mm256_maskstore_ps(p, tail(n), v); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V zero() { return _mm256_setzero_ps(); }
  V keep(long n) const { return _mm256_and_ps(v, _mm256_castsi256_ps(tail(n))); }
  V keep(long n, float fill) const { return _mm256_blendv_ps(_mm256_set1_ps(fill), v, _mm256_castsi256_ps(tail(n))); }
};
typedef __m256 Mask;

static inline V operator+(V a, V b) { return _mm256_add_ps(a.v, b.v); }
static inline V operator-(V a, V b) { return _mm256_sub_ps(a.v, b.v); }
static inline V operator*(V a, V b) { return _mm256_mul_ps(a.v, b.v); }
static inline V operator/(V a, V b) { return _mm256_div_ps(a.v, b.v); }
static inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a.v, b.v, c.v); }
static inline V vfnma(V a, V b, V c) { return _mm256_fnmadd_ps(a.v, b.v, c.v); }
static inline V vfms(V a, V b, V c) { return _mm256_fmsub_ps(a.v, b.v, c.v); }
static inline V vmin(V a, V b) { return _mm256_min_ps(a.v, b.v); }
static inline V vmax(V a, V b) { return _mm256_max_ps(a.v, b.v); }
static inline Mask is_nan(V a) { return _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q); }
static inline V vmax_nan(V a, V b) { return _mm256_blendv_ps(_mm256_max_ps(a.v, b.v), a.v, is_nan(a)); }
static inline V vsqrt(V a) { return _mm256_sqrt_ps(a.v); }
static inline V vrecip(V a) { return _mm256_div_ps(_mm256_set1_ps(1.0f), a.v); }
static inline V vabs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v); }
static inline V vneg(V a) { return _mm256_xor_ps(a.v, _mm256_set1_ps(-0.0f)); }
static inline V vround(V a) { return _mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline V vcopysign(V mag, V sgn) {
  __m256 s = _mm256_set1_ps(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(s, mag.v), _mm256_and_ps(s, sgn.v));
}
static inline Mask cmp_lt(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ); }
static inline Mask cmp_le(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ); }
static inline Mask cmp_eq(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ); }
static inline Mask cmp_ge(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ); }
static inline Mask mask_or(Mask a, Mask b) { return _mm256_or_ps(a, b); }
static inline V vselect(Mask m, V a, V b) { return _mm256_blendv_ps(b.v, a.v, m); }
// x * 2^n for integral n in [-150, 128], done in two exact steps so subnormal results are right.
static inline V vldexp(V x, V n) {
  __m256i ni = _mm256_cvtps_epi32(n.v);
  __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  __m256i b = _mm256_set1_epi32(127);
  __m256 p1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, b), 23));
  __m256 p2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, b), 23));
  return _mm256_mul_ps(_mm256_mul_ps(x.v, p1), p2);
}
static inline V vfrexp(V x, V& e) {
  __m256 den = _mm256_cmp_ps(x.v, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
  __m256 xs = _mm256_blendv_ps(x.v, _mm256_mul_ps(x.v, _mm256_set1_ps(33554432.0f)), den);  // * 2^25
  __m256i bits = _mm256_castps_si256(xs);
  __m256i ei = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126));
  e = _mm256_sub_ps(_mm256_cvtepi32_ps(ei), _mm256_and_ps(den, _mm256_set1_ps(25.0f)));
  __m256i m = _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F000000));
  return _mm256_castsi256_ps(m);
}
static inline float hsum(V a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float hmax_nan(V a) {
  float t[8];
  _mm256_storeu_ps(t, a.v);
  float m = t[0];
  for (int i = 0; i < 8; i++) {
    if (t[i] != t[i]) return t[i];
    if (t[i] > m) m = t[i];
  }
  return m;
}

struct DAcc {
  __m256d lo, hi;
  static __m256d lo_pd(V x) { return _mm256_cvtps_pd(_mm256_castps256_ps128(x.v)); }
  static __m256d hi_pd(V x) { return _mm256_cvtps_pd(_mm256_extractf128_ps(x.v, 1)); }
  DAcc() : lo(_mm256_setzero_pd()), hi(_mm256_setzero_pd()) {}
  void add(V x) {
    lo = _mm256_add_pd(lo, lo_pd(x));
    hi = _mm256_add_pd(hi, hi_pd(x));
  }
  void add_sq(V x) {
    __m256d a = lo_pd(x), b = hi_pd(x);
    lo = _mm256_fmadd_pd(a, a, lo);
    hi = _mm256_fmadd_pd(b, b, hi);
  }
  void add_mul(V x, V y) {
    lo = _mm256_fmadd_pd(lo_pd(x), lo_pd(y), lo);
    hi = _mm256_fmadd_pd(hi_pd(x), hi_pd(y), hi);
  }
  void merge(const DAcc& o) {
    lo = _mm256_add_pd(lo, o.lo);
    hi = _mm256_add_pd(hi, o.hi);
  }
  double sum() const {
    __m256d s = _mm256_add_pd(lo, hi);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
  }
  void add_to(double* p, long n) const {
    double t[8];
    _mm256_storeu_pd(t, lo);
    _mm256_storeu_pd(t + 4, hi);
    for (long i = 0; i < n && i < 8; i++) p[i] += t[i];
  }
};
