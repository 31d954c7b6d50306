// Persistent thread pool: see thread-pool.h.
#include "thread-pool.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CM3_PAUSE() _mm_pause()
#else
#define CM3_PAUSE() ((void)0)
#endif

namespace cm3 {
namespace {

struct Job {
  JobFn fn;
  void* ctx;
  int max;  // participants, caller included
};

// state = (job generation, low 32 bits) << 32 | CLOSED | number of workers inside the job
constexpr uint64_t CLOSED = 1ull << 31, COUNT = CLOSED - 1;

struct Pool {
  std::vector<std::thread> workers;
  int size = 1;
  Job job{nullptr, nullptr, 1};
  std::atomic<uint64_t> gen{0};
  alignas(64) std::atomic<uint64_t> state{CLOSED};
  std::atomic<int> next_id{1};
  std::atomic<int> job_max{1};
  alignas(64) std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> busy{false};
  std::mutex m;
  std::condition_variable cv;
  long spin_ns = 100000;
};

// Leaked on purpose: workers may still be blocked when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

inline long now_ns() {
  return (long)std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

void worker_main(int tid, uint64_t seen) {
  Pool& P = pool();
  for (;;) {
    uint64_t g;
    long start = 0;
    unsigned spins = 0;
    while ((g = P.gen.load(std::memory_order_acquire)) == seen) {
      if (P.stop.load(std::memory_order_relaxed)) return;
      CM3_PAUSE();
      if ((++spins & 63) == 0) {
        long t = now_ns();
        if (start == 0) start = t;
        else if (t - start > P.spin_ns) {
          std::unique_lock<std::mutex> lk(P.m);
          P.sleepers.fetch_add(1, std::memory_order_seq_cst);
          while (P.gen.load(std::memory_order_seq_cst) == seen && !P.stop.load()) P.cv.wait(lk);
          P.sleepers.fetch_sub(1, std::memory_order_seq_cst);
          start = 0;
        }
      }
    }
    if (P.stop.load(std::memory_order_relaxed)) return;
    seen = g;
    // Join job g unless it has already closed (its caller did all the work) or is full.
    uint64_t st = P.state.load(std::memory_order_acquire);
    bool joined = false;
    while ((st >> 32) == (g & 0xFFFFFFFFu) && !(st & CLOSED)) {
      if ((int)(st & COUNT) + 1 >= P.job_max.load(std::memory_order_relaxed)) break;
      if (P.state.compare_exchange_weak(st, st + 1, std::memory_order_acq_rel)) {
        joined = true;
        break;
      }
    }
    if (!joined) continue;
    Job j = P.job;
    j.fn(j.ctx, P.next_id.fetch_add(1, std::memory_order_relaxed));
    P.state.fetch_sub(1, std::memory_order_release);
  }
}

void stop_workers(Pool& P) {
  if (P.workers.empty()) return;
  {
    std::lock_guard<std::mutex> lk(P.m);
    P.stop.store(true);
  }
  P.cv.notify_all();
  for (auto& t : P.workers) t.join();
  P.workers.clear();
  P.stop.store(false);
}

int default_threads() {
  const char* env = getenv("CM3LEON_THREADS");
  if (env && *env) {
    int n = atoi(env);
    if (n >= 1 && n <= 256) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n >= 1) return n > 256 ? 256 : n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

void do_resize(Pool& P, int n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  stop_workers(P);
  P.size = n;
  uint64_t g = P.gen.load();
  for (int t = 1; t < n; t++) P.workers.emplace_back(worker_main, t, g);
}

struct Init {
  Init() {
    const char* s = getenv("CM3LEON_SPIN_US");
    if (s && *s) pool().spin_ns = atol(s) * 1000;
    do_resize(pool(), default_threads());
  }
};

void ensure_init() { static Init once; }

}  // namespace

int pool_size() {
  ensure_init();
  return pool().size;
}

void pool_resize(int n) {
  ensure_init();
  Pool& P = pool();
  if (n == P.size) return;
  while (P.busy.exchange(true, std::memory_order_acquire)) sched_yield();  // never resize mid-job
  do_resize(P, n);
  P.busy.store(false, std::memory_order_release);
}

void pool_run(int max_participants, JobFn fn, void* ctx) {
  Pool& P = pool();
  const int nt = max_participants < pool_size() ? max_participants : P.size;
  if (nt <= 1 || P.busy.exchange(true, std::memory_order_acquire)) {
    fn(ctx, 0);
    return;
  }
  P.job = Job{fn, ctx, nt};
  P.job_max.store(nt, std::memory_order_relaxed);
  P.next_id.store(1, std::memory_order_relaxed);
  const uint64_t g = P.gen.load(std::memory_order_relaxed) + 1;
  P.state.store((g & 0xFFFFFFFFu) << 32, std::memory_order_release);  // open, nobody inside
  P.gen.store(g, std::memory_order_seq_cst);
  if (P.sleepers.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lk(P.m);
    P.cv.notify_all();
  }
  fn(ctx, 0);
  // Close the job; wait only for the workers that joined it.
  P.state.fetch_or(CLOSED, std::memory_order_acq_rel);
  unsigned spins = 0;
  while (P.state.load(std::memory_order_acquire) & COUNT) spin_pause(spins);
  P.busy.store(false, std::memory_order_release);
}

void spin_pause(unsigned& spins) {
  if (++spins < 4000) CM3_PAUSE();
  else sched_yield();
}

}  // namespace cm3
