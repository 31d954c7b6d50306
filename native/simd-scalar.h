// One-lane "vector" for the portable fallback; same interface as simd-avx512.h. Transcendentals
// of this path come from libm (see vecmath.inc).
#pragma once

#define CM3_SIMD_VECTOR 0

struct V {
  float v;
  static constexpr int W = 1;
  V() = default;
  V(float x) : v(x) {}
  static V load(const float* p) { return *p; }
  static V loadn(const float* p, long n) { return n > 0 ? *p : 0.0f; }
  static V loadn(const float* p, long n, float fill) { return n > 0 ? *p : fill; }
  void store(float* p) const { *p = v; }
  void storen(float* p, long n) const {
    if (n > 0) *p = v;
  }
  static V set1(float x) { return x; }
  static V zero() { return 0.0f; }
  V keep(long n) const { return n > 0 ? v : 0.0f; }
  V keep(long n, float fill) const { return n > 0 ? v : fill; }
};
typedef bool Mask;

static inline V operator+(V a, V b) { return a.v + b.v; }
static inline V operator-(V a, V b) { return a.v - b.v; }
static inline V operator*(V a, V b) { return a.v * b.v; }
static inline V operator/(V a, V b) { return a.v / b.v; }
static inline V vfma(V a, V b, V c) { return a.v * b.v + c.v; }
static inline V vfnma(V a, V b, V c) { return c.v - a.v * b.v; }
static inline V vfms(V a, V b, V c) { return a.v * b.v - c.v; }
static inline V vmin(V a, V b) { return a.v < b.v ? a.v : b.v; }
static inline V vmax(V a, V b) { return a.v > b.v ? a.v : b.v; }
static inline Mask is_nan(V a) { return a.v != a.v; }
static inline V vmax_nan(V a, V b) { return (a.v != a.v || a.v > b.v) ? a.v : b.v; }
static inline V vsqrt(V a) { return sqrtf(a.v); }
static inline V vrecip(V a) { return 1.0f / a.v; }
static inline V vabs(V a) { return fabsf(a.v); }
static inline V vneg(V a) { return -a.v; }
static inline V vround(V a) { return nearbyintf(a.v); }
static inline V vcopysign(V mag, V sgn) { return copysignf(mag.v, sgn.v); }
static inline Mask cmp_lt(V a, V b) { return a.v < b.v; }
static inline Mask cmp_le(V a, V b) { return a.v <= b.v; }
static inline Mask cmp_eq(V a, V b) { return a.v == b.v; }
static inline Mask cmp_ge(V a, V b) { return a.v >= b.v; }
static inline Mask mask_or(Mask a, Mask b) { return a || b; }
static inline V vselect(Mask m, V a, V b) { return m ? a : b; }
static inline float hsum(V a) { return a.v; }
static inline float hmax_nan(V a) { return a.v; }

struct DAcc {
  double s = 0;
  void add(V x) { s += x.v; }
  void add_sq(V x) { s += (double)x.v * x.v; }
  void add_mul(V x, V y) { s += (double)x.v * y.v; }
  void merge(const DAcc& o) { s += o.s; }
  double sum() const { return s; }
  void add_to(double* p, long n) const {
    if (n > 0) p[0] += s;
  }
};
