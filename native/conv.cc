// Data-movement kernels: embedding gather / scatter-add and im2col / col2im. They are memory-bound
// copies, so plain loops (auto-vectorised) split over threads suffice; no ISA-specific code.
#include <string.h>

#include "ops.h"
#include "thread-pool.h"

namespace cm3 {

void op_embedding_fwd(const float* W, const int32_t* ids, float* y, long n, long C) {
  long per = C > 0 ? (1L << 14) / C + 1 : n;
  parallel_for(n, per, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) memcpy(y + i * C, W + (long)ids[i] * C, C * sizeof(float));
  });
}

// Threads own disjoint column slices of dW, so repeated ids never race and the result is the same
// for any thread count (rows are added in index order).
void op_embedding_bwd(const int32_t* ids, const float* dy, float* dW, long n, long C) {
  long cols_per = (double)n * C < (1L << 15) ? C : 64;
  long blocks = (C + 63) / 64;
  parallel_for(blocks, (cols_per + 63) / 64, [&](long b0, long b1) {
    long c0 = b0 * 64, c1 = b1 * 64 < C ? b1 * 64 : C;
    for (long i = 0; i < n; i++) {
      float* d = dW + (long)ids[i] * C;
      const float* s = dy + i * C;
      for (long c = c0; c < c1; c++) d[c] += s[c];
    }
  });
}

static inline long out_size(long in, long k, long stride, long pad) { return (in + 2 * pad - k) / stride + 1; }

void op_im2col(const float* x, long C, long H, long W, long kh, long kw, long stride, long pad, float* cols) {
  const long oh = out_size(H, kh, stride, pad), ow = out_size(W, kw, stride, pad);
  const long R = C * kh * kw;
  parallel_for(R, (1L << 14) / (oh * ow) + 1, [&](long r0, long r1) {
    for (long r = r0; r < r1; r++) {
      const long c = r / (kh * kw), i = (r / kw) % kh, j = r % kw;
      const float* xc = x + c * H * W;
      float* dst = cols + r * oh * ow;
      for (long oy = 0; oy < oh; oy++) {
        const long y = oy * stride - pad + i;
        float* d = dst + oy * ow;
        if (y < 0 || y >= H) {
          for (long ox = 0; ox < ow; ox++) d[ox] = 0.0f;
          continue;
        }
        const float* xr = xc + y * W;
        for (long ox = 0; ox < ow; ox++) {
          const long xx = ox * stride - pad + j;
          d[ox] = (xx >= 0 && xx < W) ? xr[xx] : 0.0f;
        }
      }
    }
  });
}

// Each channel of dx only receives from its own kh*kw rows of cols: threads split channels.
void op_col2im(const float* cols, long C, long H, long W, long kh, long kw, long stride, long pad, float* dx) {
  const long oh = out_size(H, kh, stride, pad), ow = out_size(W, kw, stride, pad);
  parallel_for(C, (1L << 14) / (kh * kw * oh * ow) + 1, [&](long c0, long c1) {
    for (long c = c0; c < c1; c++) {
      float* dc = dx + c * H * W;
      for (long i = 0; i < kh; i++)
        for (long j = 0; j < kw; j++) {
          const float* src = cols + ((c * kh + i) * kw + j) * oh * ow;
          for (long oy = 0; oy < oh; oy++) {
            const long y = oy * stride - pad + i;
            if (y < 0 || y >= H) continue;
            float* dr = dc + y * W;
            const float* s = src + oy * ow;
            for (long ox = 0; ox < ow; ox++) {
              const long xx = ox * stride - pad + j;
              if (xx >= 0 && xx < W) dr[xx] += s[ox];
            }
          }
        }
    }
  });
}

}  // namespace cm3
