// Persistent worker pool. A job is a function that claims its work dynamically (atomic counters),
// run by the calling thread and by whichever workers join while it is open: a worker that is not
// running (descheduled on a busy machine) never holds the caller up, since the caller simply does
// the remaining work itself. Workers spin briefly after each job before sleeping, so the many small
// kernel calls of a training step dispatch in about a microsecond. One job runs at a time; a call
// made while another thread's job runs (e.g. from a worker_thread) runs on its own thread alone.
#pragma once
#include <stddef.h>

#include <atomic>
#include <type_traits>

namespace cm3 {

typedef void (*JobFn)(void* ctx, int participant);

// Threads a job may use (the pool size, caller included).
int pool_size();
// Resize to n threads (1..256); joins the old workers first.
void pool_resize(int n);
// Calls fn(ctx, 0) on this thread and fn(ctx, i) on up to max_participants - 1 workers (i >= 1)
// that join before this thread's call returns; then waits for those that joined to return.
// fn must claim its work dynamically: how many threads join is not known in advance.
void pool_run(int max_participants, JobFn fn, void* ctx);

// Calls f(c) once for every chunk c < nchunks, chunks handed out dynamically to the pool's threads.
template <class F>
void parallel_chunks(long nchunks, F&& f) {
  if (nchunks <= 0) return;
  int nt = pool_size();
  if (nchunks == 1 || nt <= 1) {
    for (long c = 0; c < nchunks; c++) f(c);
    return;
  }
  using Fn = typename std::remove_reference<F>::type;
  struct Ctx {
    Fn* f;
    long n;
    std::atomic<long> next;
  } ctx{&f, nchunks, {0}};
  pool_run(nchunks < nt ? (int)nchunks : nt, [](void* p, int) {
    Ctx* x = (Ctx*)p;
    for (long c; (c = x->next.fetch_add(1, std::memory_order_relaxed)) < x->n;) (*x->f)(c);
  }, &ctx);
}

// Number of chunks for n units of work with at least `grain` units each: up to 4 per thread.
inline long chunk_count(long n, long grain) {
  long maxc = grain > 0 ? n / grain : n, want = 4L * pool_size();
  if (maxc < 1) maxc = 1;
  return maxc < want ? maxc : want;
}

// Calls f(begin, end) on contiguous chunks of [0, n) (at least `grain` each), in parallel. The chunk
// bounds depend only on n, grain and the pool size.
template <class F>
void parallel_for(long n, long grain, F&& f) {
  if (n <= 0) return;
  const long nc = chunk_count(n, grain);
  if (nc == 1) {
    f(0L, n);
    return;
  }
  parallel_chunks(nc, [&](long c) { f(n * c / nc, n * (c + 1) / nc); });
}

// Spin-wait helper for code waiting on other threads' progress: pause, then yield the CPU.
void spin_pause(unsigned& spins);

}  // namespace cm3
