// Threaded wrappers: split element ranges or rows over the pool and call the active ISA's kernels.
#include "ops.h"

#include <vector>

#include "thread-pool.h"

namespace cm3 {
namespace {

constexpr long CHEAP_GRAIN = 1L << 15;  // elements per thread for memory-bound work
constexpr long COSTLY_GRAIN = 1L << 12; // elements per thread for transcendental work

// Calls f(b, e) on chunks of [0, n) whose bounds are multiples of 64 elements (except the end).
template <class F>
void par_elems(long n, long grain, F&& f) {
  long blocks = (n + 63) / 64;
  parallel_for(blocks, (grain + 63) / 64, [&](long b0, long b1) {
    long e = b1 * 64 < n ? b1 * 64 : n;
    f(b0 * 64, e);
  });
}

// Calls f(r0, r1) on row ranges, at least `grain` elements (rows * cols) per thread.
template <class F>
void par_rows(long rows, long cols, long grain, F&& f) {
  long per = cols > 0 ? (grain + cols - 1) / cols : rows;
  parallel_for(rows, per < 1 ? 1 : per, f);
}

}  // namespace

void op_unary(int code, const float* x, float* y, long n) {
  long grain = (code == 0 || code == 3 || code == 6 || code == 8) ? CHEAP_GRAIN : COSTLY_GRAIN;
  par_elems(n, grain, [&](long b, long e) { K().unary(code, x + b, y + b, e - b); });
}

void op_binary(int code, const float* a, long na, const float* b, long nb, float* out, long n) {
  par_elems(n, code == 3 ? COSTLY_GRAIN * 4 : CHEAP_GRAIN,
            [&](long i0, long i1) { K().binary(code, a, na, b, nb, out, i0, i1); });
}

void op_gelu_backward(const float* x, const float* dy, float* dx, long n) {
  par_elems(n, COSTLY_GRAIN, [&](long b, long e) { K().gelu_backward(x + b, dy + b, dx + b, e - b); });
}

void op_sum_rows(const float* x, long rows, long cols, float* y) {
  par_rows(rows, cols, CHEAP_GRAIN, [&](long r0, long r1) { K().sum_rows(x + r0 * cols, r1 - r0, cols, y + r0); });
}

void op_sum_cols(const float* x, long rows, long cols, float* y) {
  if (rows <= 0) {
    for (long c = 0; c < cols; c++) y[c] = 0.0f;
    return;
  }
  const bool small = (double)rows * cols < 2.0 * CHEAP_GRAIN;
  if (small || cols >= 256L * pool_size()) {
    // Split the columns (multiples of 64): every chunk reads all rows of its slice.
    par_elems(cols, small ? cols : 64, [&](long c0, long c1) {
      std::vector<double> acc(c1 - c0, 0.0);
      K().sum_cols(x + c0, rows, c1 - c0, cols, acc.data());
      for (long c = c0; c < c1; c++) y[c] = (float)acc[c - c0];
    });
    return;
  }
  // Narrow and tall: partial sums over row chunks, added in chunk order.
  const long nc = chunk_count(rows, CHEAP_GRAIN / (cols < 1 ? 1 : cols) + 1);
  std::vector<double> part((size_t)nc * cols, 0.0);
  parallel_chunks(nc, [&](long c) {
    long r0 = rows * c / nc, r1 = rows * (c + 1) / nc;
    if (r0 < r1) K().sum_cols(x + r0 * cols, r1 - r0, cols, cols, part.data() + (size_t)c * cols);
  });
  for (long c = 0; c < cols; c++) {
    double s = 0;
    for (long t = 0; t < nc; t++) s += part[(size_t)t * cols + c];
    y[c] = (float)s;
  }
}

double op_sum_squares(const float* x, long n) {
  const long nc = chunk_count(n, 2 * CHEAP_GRAIN);
  if (nc == 1) return K().sum_squares(x, n);
  std::vector<double> part(nc, 0.0);
  parallel_chunks(nc, [&](long c) {
    long b = n * c / nc / 64 * 64, e = c + 1 == nc ? n : n * (c + 1) / nc / 64 * 64;
    part[c] = K().sum_squares(x + b, e - b);
  });
  double s = 0;
  for (double p : part) s += p;
  return s;
}

void op_softmax_fwd(const float* x, float* y, long rows, long cols, bool log) {
  par_rows(rows, cols, COSTLY_GRAIN,
           [&](long r0, long r1) { K().softmax_fwd(x + r0 * cols, y + r0 * cols, r1 - r0, cols, log); });
}

void op_softmax_bwd(const float* y, const float* dy, float* dx, long rows, long cols, bool log) {
  par_rows(rows, cols, log ? COSTLY_GRAIN : CHEAP_GRAIN, [&](long r0, long r1) {
    long o = r0 * cols;
    K().softmax_bwd(y + o, dy + o, dx + o, r1 - r0, cols, log);
  });
}

void op_layernorm_fwd(const float* x, float* y, float* mean, float* rstd, long rows, long cols, float eps) {
  par_rows(rows, cols, CHEAP_GRAIN, [&](long r0, long r1) {
    K().layernorm_fwd(x + r0 * cols, y + r0 * cols, mean + r0, rstd + r0, r1 - r0, cols, eps);
  });
}

void op_layernorm_bwd(const float* x, const float* dy, const float* mean, const float* rstd, float* dx, long rows,
                      long cols) {
  par_rows(rows, cols, CHEAP_GRAIN, [&](long r0, long r1) {
    long o = r0 * cols;
    K().layernorm_bwd(x + o, dy + o, mean + r0, rstd + r0, dx + o, r1 - r0, cols);
  });
}

double op_xent_fwd(const float* logits, const int32_t* tgt, float* lse, long rows, long V, long ignore) {
  const long nc = chunk_count(rows, COSTLY_GRAIN / (V < 1 ? 1 : V) + 1);
  if (nc == 1) return K().xent_fwd(logits, tgt, lse, rows, V, ignore);
  std::vector<double> part(nc, 0.0);
  parallel_chunks(nc, [&](long c) {
    long r0 = rows * c / nc, r1 = rows * (c + 1) / nc;
    if (r0 < r1) part[c] = K().xent_fwd(logits + r0 * V, tgt + r0, lse + r0, r1 - r0, V, ignore);
  });
  double s = 0;
  for (double p : part) s += p;
  return s;
}

void op_xent_bwd(const float* logits, const int32_t* tgt, const float* lse, float* dl, long rows, long V,
                 long ignore, float scale) {
  par_rows(rows, V, COSTLY_GRAIN, [&](long r0, long r1) {
    K().xent_bwd(logits + r0 * V, tgt + r0, lse + r0, dl + r0 * V, r1 - r0, V, ignore, scale);
  });
}

void op_adamw(float* p, const float* g, float* m, float* v, long n, double lr, double b1, double b2, double eps,
              double wd, double bc1, double bc2) {
  par_elems(n, CHEAP_GRAIN / 2, [&](long b, long e) {
    K().adamw(p + b, g + b, m + b, v + b, e - b, lr, b1, b2, eps, wd, bc1, bc2);
  });
}

}  // namespace cm3
