// Batched SGEMM driver, GotoBLAS/BLIS style: op(A) is packed into MR-row panels and op(B) into
// NR-column panels (the packing absorbs transposes and leading dimensions), K is cut into KC blocks,
// and the ISA micro-kernel computes MR x NR tiles of C with the A panel in L1 and the B panels in L2.
//
// One thread: per (M block, K block) pack A (MC x KC), then per NC slice of B pack it (KC x NC, L2)
// and sweep the A panels over it. Several threads: see run_steps below. Batches of small matrices
// go whole to threads, and M == 1 / N == 1 products are matrix-vector kernels without packing, as
// are products with a few rows (M <= 16) against a transposed B (gemm_small_m).
#include "gemm.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "common.h"
#include "thread-pool.h"

namespace cm3 {
namespace {

constexpr long KC_MAX = 256;   // A panel MR x KC in L1 (14 x 256 x 4 = 14 KB)
constexpr long NC_MAX = 512;   // B slice KC x NC in L2 (256 x 512 x 4 = 512 KB)
constexpr long MC_MAX = 2048;  // A block MC x KC (2 MB)

inline long cdiv(long a, long b) { return (a + b - 1) / b; }
inline long lmin(long a, long b) { return a < b ? a : b; }

struct Plan {
  const Kernels* k;
  int mr, nr;
  long kc, mc, nc;
  // op(A)(i, k) = A[i * ars + k * acs], op(B)(k, j) = B[j * brs + k * bcs]
  long ars, acs, brs, bcs;
};

// C[0..mc) x [0, N) (+)= the A block packed in Ap times op(B) rows [pc, pc + kc) (B points there).
void serial_block(const GemmArgs& g, const Plan& p, const float* Ap, long mc, long kc, const float* B, float* C,
                  float beta, float* Bp) {
  const int MR = p.mr, NR = p.nr;
  for (long jc = 0; jc < g.N; jc += p.nc) {
    const long nc = lmin(p.nc, g.N - jc);
    p.k->pack(B + jc * p.brs, p.brs, p.bcs, nc, kc, NR, Bp);
    for (long pa = 0; pa < cdiv(mc, MR); pa++) {
      const long i0 = pa * MR;
      const int mr = (int)lmin(MR, mc - i0);
      const float* ap = Ap + pa * MR * kc;
      float* c = C + i0 * g.ldc + jc;
      for (long j = 0; j < nc; j += NR)
        p.k->gemm_kernel(kc, ap, Bp + j * kc, c + j, g.ldc, g.alpha, beta, mr, (int)lmin(NR, nc - j));
    }
  }
}

// One matrix on the calling thread alone.
void gemm_serial(const GemmArgs& g, const Plan& p, const float* A, const float* B, float* C, float* Ap, float* Bp) {
  for (long ic = 0; ic < g.M; ic += p.mc) {
    const long mc = lmin(p.mc, g.M - ic);
    for (long pc = 0; pc < g.K; pc += p.kc) {
      const long kc = lmin(p.kc, g.K - pc);
      p.k->pack(A + ic * p.ars + pc * p.acs, p.ars, p.acs, mc, kc, p.mr, Ap);
      serial_block(g, p, Ap, mc, kc, B + pc * p.bcs, C + ic * g.ldc, pc == 0 ? g.beta : 1.0f, Bp);
    }
  }
}

struct Step {
  std::atomic<long> pack_next{0}, packed{0}, unit_next{0}, done{0};
};

// Parallel path. Steps run in order: s -> (batch entry, M block, N block, K block). In each step
// the A block (MC x KC) and the B block (KC x NB) are packed cooperatively into shared buffers
// (every element once; two buffer pairs alternate between steps), then (M range x N range) units
// are computed, sized so that a unit's A rows and B columns fit in one core's L2 together.
// Threads claim packing chunks and units dynamically and wait on completed work, never on each
// other: a unit waits only for the same unit of the previous K block (same C tiles), so threads
// flow from one step into the next without a barrier, and a descheduled thread (busy machine)
// holds up nobody unless it sits on claimed work.
struct Job {
  const GemmArgs* g;
  const Plan* p;
  long nic, njc, npc, nsteps, nb, target_units, max_units;
  bool overlapping_c;  // C matrices of different batch entries overlap: run the entries in order
  float* Ap[2];
  float* Bp[2];
  std::unique_ptr<Step[]> steps;
  std::unique_ptr<std::atomic<unsigned char>[]> unit_done;  // [step * max_units + unit]
};

constexpr long UNIT_ROWS = 256;  // rows of A per unit: 256 x KC x 4 = 256 KB
constexpr long UNIT_COLS = 512;  // columns of B per unit: KC x 512 x 4 = 512 KB
constexpr long NB_MAX = 2048;    // columns of one shared B block

struct StepShape {
  long b, ic, jc, pc, mc, kc, nb, npan, ntile, um, un;
  long units() const { return um * un; }
};

StepShape step_shape(const Job& J, long s) {
  const GemmArgs& g = *J.g;
  const Plan& p = *J.p;
  StepShape x;
  x.pc = s % J.npc * p.kc;
  x.jc = (s / J.npc) % J.njc * J.nb;
  x.ic = (s / (J.npc * J.njc)) % J.nic * p.mc;
  x.b = s / (J.npc * J.njc * J.nic);
  x.mc = lmin(p.mc, g.M - x.ic);
  x.kc = lmin(p.kc, g.K - x.pc);
  x.nb = lmin(J.nb, g.N - x.jc);
  x.npan = cdiv(x.mc, p.mr);
  x.ntile = cdiv(x.nb, p.nr);
  x.um = cdiv(x.mc, UNIT_ROWS);
  x.un = cdiv(x.nb, UNIT_COLS);
  if (x.um * x.un < J.target_units) x.um = lmin(x.npan, cdiv(J.target_units, x.un));
  if (x.um * x.un < J.target_units) x.un = lmin(x.ntile, cdiv(J.target_units, x.um));
  return x;
}

void run_steps(Job& J) {
  const GemmArgs& g = *J.g;
  const Plan& p = *J.p;
  const int MR = p.mr, NR = p.nr;
  unsigned spins;
  for (long s = 0; s < J.nsteps; s++) {
    Step& st = J.steps[s];
    const StepShape x = step_shape(J, s);
    // The buffers of step s were last read by step s - 2.
    if (s >= 2) {
      const long prev = step_shape(J, s - 2).units();
      for (spins = 0; J.steps[s - 2].done.load(std::memory_order_acquire) < prev;) spin_pause(spins);
    }
    // Packing items: A in chunks of 8 panels, then B in chunks of 4 panels.
    const long na = cdiv(x.npan, 8), items = na + cdiv(x.ntile, 4);
    const float* A = g.A + x.b * g.sA + x.ic * p.ars + x.pc * p.acs;
    const float* B = g.B + x.b * g.sB + x.jc * p.brs + x.pc * p.bcs;
    float *Ap = J.Ap[s & 1], *Bp = J.Bp[s & 1];
    for (long it; (it = st.pack_next.fetch_add(1)) < items;) {
      if (it < na) {
        const long c0 = it * 8, c1 = lmin(x.npan, c0 + 8);
        p.k->pack(A + c0 * MR * p.ars, p.ars, p.acs, lmin(x.mc - c0 * MR, (c1 - c0) * MR), x.kc, MR,
                  Ap + c0 * MR * x.kc);
      } else {
        const long c0 = (it - na) * 4, c1 = lmin(x.ntile, c0 + 4);
        p.k->pack(B + c0 * NR * p.brs, p.brs, p.bcs, lmin(x.nb - c0 * NR, (c1 - c0) * NR), x.kc, NR,
                  Bp + c0 * NR * x.kc);
      }
      st.packed.fetch_add(1, std::memory_order_release);
    }
    for (spins = 0; st.packed.load(std::memory_order_acquire) < items;) spin_pause(spins);
    if (J.overlapping_c && x.pc == 0 && s > 0) {
      const long prev = step_shape(J, s - 1).units();
      for (spins = 0; J.steps[s - 1].done.load(std::memory_order_acquire) < prev;) spin_pause(spins);
    }
    float* C = g.C + x.b * g.sC + x.ic * g.ldc + x.jc;
    const float beta = x.pc == 0 ? g.beta : 1.0f;
    for (long u; (u = st.unit_next.fetch_add(1)) < x.units();) {
      if (x.pc > 0)  // the same C tiles in the previous K block
        for (spins = 0; !J.unit_done[(s - 1) * J.max_units + u].load(std::memory_order_acquire);) spin_pause(spins);
      const long mu = u / x.un, nu = u % x.un;
      const long p0 = x.npan * mu / x.um, p1 = x.npan * (mu + 1) / x.um;
      const long t0 = x.ntile * nu / x.un, t1 = x.ntile * (nu + 1) / x.un;
      for (long pa = p0; pa < p1; pa++) {
        const int mr = (int)lmin(MR, x.mc - pa * MR);
        const float* ap = Ap + pa * MR * x.kc;
        float* c = C + pa * MR * g.ldc;
        for (long t = t0; t < t1; t++)
          p.k->gemm_kernel(x.kc, ap, Bp + t * NR * x.kc, c + t * NR, g.ldc, g.alpha, beta, mr,
                           (int)lmin(NR, x.nb - t * NR));
      }
      J.unit_done[s * J.max_units + u].store(1, std::memory_order_release);
      st.done.fetch_add(1, std::memory_order_release);
    }
  }
}

// M == 1 or N == 1: matrix-vector products straight from the operands, no packing.
void gemm_vector(const GemmArgs& g) {
  std::vector<float> tmp;
  for (long b = 0; b < g.batch; b++) {
    const float* A = g.A + b * g.sA;
    const float* B = g.B + b * g.sB;
    float* C = g.C + b * g.sC;
    // M == 1: C's row is x^T op(B) with x = op(A)'s row; N == 1: C's column is op(A) x, x = op(B)'s column.
    const bool rows_of_b = g.N != 1;  // M == 1 (and N > 1): C row = a^T op(B)
    const float* x = rows_of_b ? A : B;
    const long xinc = rows_of_b ? (g.transA ? g.lda : 1) : (g.transB ? 1 : g.ldb);
    if (xinc != 1) {
      tmp.resize(g.K);
      for (long k = 0; k < g.K; k++) tmp[k] = x[k * xinc];
      x = tmp.data();
    }
    // Matrix whose rows (dot) or columns (axpy) give the outputs, and the output stride.
    const float* Mx = rows_of_b ? B : A;
    const long ld = rows_of_b ? g.ldb : g.lda, n = rows_of_b ? g.N : g.M, incy = rows_of_b ? 1 : g.ldc;
    const bool dot = rows_of_b ? g.transB : !g.transA;
    const long grain = 16384 / g.K + 1;
    if (dot) {
      parallel_for(n, grain, [&](long i0, long i1) {
        K().gemv_dot(i1 - i0, g.K, g.alpha, Mx + i0 * ld, ld, x, g.beta, C + i0 * incy, incy);
      });
    } else {
      const long blocks = cdiv(n, 64);
      parallel_for(blocks, cdiv(grain, 64), [&](long b0, long b1) {
        const long j0 = b0 * 64, j1 = lmin(n, b1 * 64);
        K().gemv_axpy(j1 - j0, g.K, g.alpha, Mx + j0, ld, x, g.beta, C + j0 * incy, incy);
      });
    }
  }
}

// 2 <= M <= SMALL_M with op(B) = B^T (a Linear layer: x W^T): C's row i is the M == 1 product of
// op(A)'s row i, computed by gemv_dot_multi four rows at a time so each row of B is read once per
// four rows of A, and each C row is bit-identical to the M == 1 result (one decoding step of a batch
// of streams gives each stream exactly the logits it gets alone). B is swept in blocks of rows
// that stay in L2 while the row groups of A pass over them.
constexpr long SMALL_M = 16;

void gemm_small_m(const GemmArgs& g) {
  std::vector<float> tmp;
  const float* X[SMALL_M];
  float* Y[SMALL_M];
  for (long b = 0; b < g.batch; b++) {
    const float* A = g.A + b * g.sA;
    const float* B = g.B + b * g.sB;
    float* C = g.C + b * g.sC;
    if (g.transA) {  // op(A)'s rows are strided: gather them
      tmp.resize((size_t)(g.M * g.K));
      for (long i = 0; i < g.M; i++)
        for (long k = 0; k < g.K; k++) tmp[i * g.K + k] = A[k * g.lda + i];
    }
    for (long i = 0; i < g.M; i++) {
      X[i] = g.transA ? tmp.data() + i * g.K : A + i * g.lda;
      Y[i] = C + i * g.ldc;
    }
    const long block = std::max(8L, 32768 / std::max(g.K, 1L));  // rows of B per block (~128 KB)
    const long grain = 16384 / g.K + 1;
    parallel_for(g.N, grain, [&](long j0, long j1) {
      float* Yr[SMALL_M];
      for (long jb = j0; jb < j1; jb += block) {
        const long nb = lmin(block, j1 - jb);
        for (long i = 0; i < g.M; i += 4) {
          const int m = (int)lmin(4, g.M - i);
          for (int r = 0; r < m; r++) Yr[r] = Y[i + r] + jb;
          K().gemv_dot_multi(nb, g.K, g.alpha, B + jb * g.ldb, g.ldb, X + i, m, g.beta, Yr, 1);
        }
      }
    });
  }
}

void scale_c(float* C, long M, long N, long ldc, float beta) {
  for (long i = 0; i < M; i++) {
    float* c = C + i * ldc;
    if (beta == 0.0f)
      for (long j = 0; j < N; j++) c[j] = 0.0f;
    else if (beta != 1.0f)
      for (long j = 0; j < N; j++) c[j] *= beta;
  }
}

}  // namespace

void gemm(const GemmArgs& g) {
  if (g.M <= 0 || g.N <= 0 || g.batch <= 0) return;
  if (g.K <= 0 || g.alpha == 0.0f) {  // C = beta * C, A and B are not read (BLAS convention)
    for (long b = 0; b < g.batch; b++) scale_c(g.C + b * g.sC, g.M, g.N, g.ldc, g.beta);
    return;
  }
  if (g.M == 1 || g.N == 1) {
    gemm_vector(g);
    return;
  }
  if (g.M <= SMALL_M && g.transB) {
    gemm_small_m(g);
    return;
  }
  Plan p;
  p.k = &K();
  p.mr = p.k->mr;
  p.nr = p.k->nr;
  p.kc = cdiv(g.K, cdiv(g.K, KC_MAX));
  p.mc = cdiv(cdiv(g.M, cdiv(g.M, MC_MAX)), p.mr) * p.mr;
  p.nc = NC_MAX / p.nr * p.nr;
  p.ars = g.transA ? 1 : g.lda;
  p.acs = g.transA ? g.lda : 1;
  p.brs = g.transB ? g.ldb : 1;
  p.bcs = g.transB ? 1 : g.ldb;

  const double work = (double)g.M * g.N * g.K;
  int nt = pool_size();
  if (work * g.batch < 48.0 * 48 * 48) nt = 1;
  const size_t a_floats = (size_t)(p.mc * p.kc), b_floats = (size_t)(p.nc * p.kc);

  // Batches of small matrices: whole matrices per claim, when the C matrices do not overlap.
  const bool disjoint_c = g.sC >= (g.M - 1) * g.ldc + g.N;
  if (nt == 1 || (g.batch >= nt && disjoint_c && (g.batch >= 4L * nt || work < 96.0 * 96 * 96))) {
    parallel_chunks(nt == 1 ? 1 : g.batch, [&](long c) {
      float* Ap = thread_scratch(2, a_floats);
      float* Bp = thread_scratch(1, b_floats);
      for (long b = nt == 1 ? 0 : c; b < (nt == 1 ? g.batch : c + 1); b++)
        gemm_serial(g, p, g.A + b * g.sA, g.B + b * g.sB, g.C + b * g.sC, Ap, Bp);
    });
    return;
  }

  Job J;
  J.g = &g;
  J.p = &p;
  J.nb = cdiv(cdiv(g.N, cdiv(g.N, NB_MAX)), p.nr) * p.nr;
  J.nic = cdiv(g.M, p.mc);
  J.njc = cdiv(g.N, J.nb);
  J.npc = cdiv(g.K, p.kc);
  J.nsteps = g.batch * J.nic * J.njc * J.npc;
  J.target_units = 2L * nt;
  J.overlapping_c = !disjoint_c;
  // Four 64-byte aligned buffers (the micro-kernels use aligned loads on packed B).
  const size_t ab = (a_floats + 63) / 64 * 64, bb = ((size_t)(J.nb * p.kc) + 63) / 64 * 64;
  float* buf = thread_scratch(0, 2 * (ab + bb));
  J.Ap[0] = buf;
  J.Ap[1] = buf + ab;
  J.Bp[0] = buf + 2 * ab;
  J.Bp[1] = buf + 2 * ab + bb;
  J.steps.reset(new Step[J.nsteps]);
  J.max_units = 1;
  for (long i = 0; i < J.nic * J.njc * J.npc; i++) J.max_units = std::max(J.max_units, step_shape(J, i).units());
  J.unit_done.reset(new std::atomic<unsigned char>[J.nsteps * J.max_units]);
  for (long i = 0; i < J.nsteps * J.max_units; i++) J.unit_done[i].store(0, std::memory_order_relaxed);
  pool_run(nt, [](void* ctx, int) { run_steps(*(Job*)ctx); }, &J);
}

}  // namespace cm3
