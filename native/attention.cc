// Fused attention driver: splits (batch, head) pairs and query / key ranges into tasks that the
// pool's threads pick dynamically, and gives each thread its scratch. The block kernels themselves
// are per ISA (attention.inc).
#include <math.h>

#include <atomic>
#include <vector>

#include "ops.h"
#include "thread-pool.h"

namespace cm3 {
namespace {

inline long cdiv(long a, long b) { return (a + b - 1) / b; }
inline long r16(long n) { return (n + 15) / 16 * 16; }

AttnScratch make_scratch(long D, long T) {
  const long Tp = cdiv(T, ATTN_BK) * ATTN_BK;
  const long sz[11] = {D * Tp, D * Tp, ATTN_BQ * ATTN_BK, ATTN_BQ * ATTN_BK, ATTN_BQ * D, ATTN_BK * D,
                       ATTN_BK * D, ATTN_BQ, ATTN_BQ, D, D};
  long total = 0;
  for (long s : sz) total += r16(s);
  float* p = thread_scratch(3, (size_t)total);
  float* ptr[11];
  for (int i = 0; i < 11; i++) {
    ptr[i] = p;
    p += r16(sz[i]);
  }
  AttnScratch S{ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6], ptr[7], ptr[8], ptr[9], ptr[10]};
  for (long d = 0; d < D; d++) S.zero[d] = 0.0f;
  return S;
}

// Bounds of `n` ranges over [0, T), multiples of ATTN_BQ. For causal attention the cost of row t
// grows like t (queries) or T - t (keys), so the bounds follow a square root to balance the work.
std::vector<long> split(long T, long n, bool causal, bool keys) {
  std::vector<long> b(n + 1);
  for (long i = 0; i <= n; i++) {
    double f = (double)i / n;
    if (causal) f = keys ? 1.0 - sqrt(1.0 - f) : sqrt(f);
    long v = (long)(f * T + 0.5) / ATTN_BQ * ATTN_BQ;
    b[i] = i == n ? T : v < T ? v : T;
  }
  for (long i = 1; i <= n; i++)
    if (b[i] < b[i - 1]) b[i] = b[i - 1];
  return b;
}

// Runs task(i, scratch) for i < ntasks on the pool, tasks handed out dynamically.
template <class F>
void run_tasks(long ntasks, long D, long T, double work, F&& task) {
  int nt = pool_size();
  if (work < 2e5 || ntasks < 2) nt = 1;
  if (nt > ntasks) nt = (int)ntasks;
  using Fn = typename std::remove_reference<F>::type;
  struct Ctx {
    Fn* task;
    long n, D, T;
    std::atomic<long> next;
  } ctx{&task, ntasks, D, T, {0}};
  pool_run(nt, [](void* p, int) {
    Ctx* c = (Ctx*)p;
    long i = c->next.fetch_add(1);
    if (i >= c->n) return;
    AttnScratch S = make_scratch(c->D, c->T);
    for (; i < c->n; i = c->next.fetch_add(1)) (*c->task)(i, S);
  }, &ctx);
}

long chunks_per_head(long heads, long T) {
  int nt = pool_size();
  if (heads >= 2L * nt) return 1;
  long c = cdiv(4L * nt, heads), maxc = cdiv(T, ATTN_BQ);
  return c < maxc ? c : maxc;
}

}  // namespace

void op_attention_fwd(AttnParams& P) {
  const long heads = P.B * P.H, T = P.T;
  if (heads == 0 || T == 0) return;
  const long nch = chunks_per_head(heads, T);
  const std::vector<long> bounds = split(T, nch, P.causal, false);
  const double work = (double)heads * T * T * P.D * (P.causal ? 1 : 2);
  // Heaviest chunks (the last ones when causal) first.
  run_tasks(heads * nch, P.D, T, work, [&](long i, AttnScratch& S) {
    long c = nch - 1 - i / heads, bh = i % heads;
    if (bounds[c] < bounds[c + 1]) K().attn_fwd(P, bh / P.H, bh % P.H, bounds[c], bounds[c + 1], S);
  });
}

void op_attention_kv(AttnParams& P) {
  const long heads = P.B * P.H;
  if (heads == 0 || P.T == 0) return;
  // One task per (batch, head): its queries' work is independent of how the heads are split.
  // Chunks of at least ~256k multiply-adds (tens of microseconds): a decoding step of a few rows
  // (4 heads x 300 keys x 64 per row) stays on one thread, where waking a busy machine's second
  // thread costs more than it saves.
  const double per_head = (double)P.T * P.Tk * P.D;
  const long grain = per_head >= 262144 ? 1 : (long)(262144 / (per_head + 1)) + 1;
  parallel_for(heads, grain, [&](long h0, long h1) {
    float* s = thread_scratch(4, (size_t)P.Tk + 16);
    for (long bh = h0; bh < h1; bh++) K().attn_kv(P, bh / P.H, bh % P.H, s);
  });
}

void op_attention_bwd(AttnParams& P) {
  const long B = P.B, H = P.H, T = P.T, D = P.D, heads = B * H;
  if (heads == 0 || T == 0) return;
  // delta[b, h, t] = dOut[b, t, h, :] . out[b, t, h, :]
  std::vector<float> delta((size_t)heads * T);
  parallel_for(B * T, 256, [&](long r0, long r1) {
    for (long r = r0; r < r1; r++) {
      const long b = r / T, t = r % T;
      for (long h = 0; h < H; h++) {
        const float* o = P.out + (r * H + h) * D;
        const float* g = P.dout + (r * H + h) * D;
        double s = 0;
        for (long d = 0; d < D; d++) s += (double)o[d] * g[d];
        delta[(b * H + h) * T + t] = (float)s;
      }
    }
  });
  P.delta = delta.data();
  const double work = (double)heads * T * T * D * (P.causal ? 2 : 4);
  const long nch = chunks_per_head(heads, T);
  if (nch == 1) {
    // One task per head: dk, dv and dq in a single sweep over the key blocks.
    run_tasks(heads, D, T, work, [&](long i, AttnScratch& S) {
      const long b = i / H, h = i % H;
      for (long t = 0; t < T; t++) {
        float* dq = P.dq + ((b * T + t) * H + h) * D;
        for (long d = 0; d < D; d++) dq[d] = 0.0f;
      }
      K().attn_bwd_kv(P, b, h, 0, T, true, S);
    });
    return;
  }
  // Few heads: key ranges for dk, dv, then query ranges for dq (scores are recomputed).
  const std::vector<long> kb = split(T, nch, P.causal, true), qb = split(T, nch, P.causal, false);
  run_tasks(heads * nch, D, T, work, [&](long i, AttnScratch& S) {
    long c = i / heads, bh = i % heads;
    if (kb[c] < kb[c + 1]) K().attn_bwd_kv(P, bh / H, bh % H, kb[c], kb[c + 1], false, S);
  });
  run_tasks(heads * nch, D, T, work, [&](long i, AttnScratch& S) {
    long c = nch - 1 - i / heads, bh = i % heads;
    if (qb[c] < qb[c + 1]) K().attn_bwd_q(P, bh / H, bh % H, qb[c], qb[c + 1], S);
  });
}

}  // namespace cm3
