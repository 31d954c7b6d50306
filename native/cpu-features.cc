// Runtime ISA selection (CPU check once at load; CM3LEON_ISA=avx2|scalar forces a lower path) and
// per-thread scratch memory.
#include <stdlib.h>
#include <string.h>

#include "common.h"

namespace cm3 {
namespace {

Isa detect() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  if (avx512) return ISA_AVX512;
  if (avx2) return ISA_AVX2;
#endif
  return ISA_SCALAR;
}

const Kernels* table(Isa isa) {
#if defined(__x86_64__)
  if (isa == ISA_AVX512) return &kernels_avx512;
  if (isa == ISA_AVX2) return &kernels_avx2;
#endif
  return &kernels_scalar;
}

struct State {
  Isa best, active;
  const Kernels* k;
  State() {
    best = detect();
    active = best;
    const char* env = getenv("CM3LEON_ISA");
    if (env && *env) {
      Isa want = !strcmp(env, "scalar") ? ISA_SCALAR : !strcmp(env, "avx2") ? ISA_AVX2 : ISA_AVX512;
      if (want < active) active = want;
    }
    k = table(active);
  }
};

State& state() {
  static State s;
  return s;
}

struct Scratch {
  enum { SLOTS = 5 };
  float* p[SLOTS] = {};
  size_t cap[SLOTS] = {};
  ~Scratch() {
    for (int i = 0; i < SLOTS; i++) free(p[i]);
  }
};

}  // namespace

const Kernels& K() { return *state().k; }
Isa active_isa() { return state().active; }
Isa best_isa() { return state().best; }

void select_isa(Isa isa) {
  State& s = state();
  if (isa > s.best) isa = s.best;
  s.active = isa;
  s.k = table(isa);
}

const char* isa_name(Isa isa) { return isa == ISA_AVX512 ? "avx512" : isa == ISA_AVX2 ? "avx2" : "scalar"; }

// AMX is not used: f32 results are the contract, so tiles are never requested from the kernel.
bool amx_available() { return false; }

float* thread_scratch(int slot, size_t floats) {
  static thread_local Scratch s;
  if (floats > s.cap[slot]) {
    free(s.p[slot]);
    size_t bytes = (floats * sizeof(float) + 4095) / 4096 * 4096;
    s.p[slot] = (float*)aligned_alloc(64, bytes);
    s.cap[slot] = s.p[slot] ? bytes / sizeof(float) : 0;
  }
  return s.p[slot];
}

}  // namespace cm3
