"""Peer benchmark: PyTorch on the CPU, for comparison with the TypeScript engine.

Prints ONE JSON object on stdout (progress goes to stderr):

  {"peer": "pytorch-cpu", "torch": ..., "threads": n, "blas": ...,
   "blasLibrary": ..., "openblasCore": ..., "openblasCoretype": env or null,
   "matmul": {"1024": gflops, "2048": gflops},
   "gptStep": {"tokensPerSecond": x, "msPerStep": y, "steps": n, "config": {...}}}

  /usr/bin/python3 scripts/torch/bench_engine.py [--quick] [--sizes 1024,2048]

Settings and what was measured (2-core AMD EPYC Zen 4 VM, family 25 model 17,
Debian bookworm python3-torch 1.13.1 (torch.__version__ says 1.13.0a0); medians,
and this machine's timings are noisy, often bimodal by ~2x):

* Threads. Without OMP_NUM_THREADS / MKL_NUM_THREADS, torch.get_num_threads()
  is 1 on this 2-core machine: this build's at::intraop_default_num_threads()
  returns std::thread::hardware_concurrency() / 2 (it assumes 2-way SMT on
  x86_64; the halving is visible in the disassembly of libtorch_cpu.so), and
  libgomp alone would give 2. Hence the explicit set_num_threads(os.cpu_count()).

* BLAS. torch.__config__.show() says only BLAS_INFO=generic: torch calls
  sgemm_ from whatever libblas.so.3 the Debian alternatives point at. A plain
  `apt-get install python3-torch` pulls in libblas3, the netlib REFERENCE BLAS
  (no OpenBLAS installed): ~5.5 GFLOP/s at 1024 and 2048, single-threaded, and
  a gptStep takes ~5.6 s (~185 tokens/s). "blasLibrary" in the output says which
  library really got loaded (read from /proc/self/maps).

* OPENBLAS_CORETYPE (applies only once Debian's OpenBLAS provides libblas.so.3,
  e.g. `apt-get install libopenblas0-pthread`, or LD_LIBRARY_PATH pointing at
  the unpacked package's lib/x86_64-linux-gnu/openblas-pthread directory).
  OpenBLAS 0.3.21 autodetects this Zen 4 CPU as "Cooperlake" (right kernel
  family; no Prescott misdetection here). Matmul GFLOP/s, f32, medians of
  interleaved rounds on a quiet machine (other processes on the 2 cores
  halve these numbers and more):
      value            kernel used   2 threads 1024/2048   1 thread 1024/2048
      (unset)          Cooperlake        ~165 / ~190            ~97 / ~100
      Cooperlake       Cooperlake*       ~170 / ~195            ~92 / ~90
      SapphireRapids   Cooperlake*       ~160 / ~200                -
      SkylakeX         SkylakeX          ~95  / ~180            ~91 / ~99
      Haswell          Haswell           ~175 / ~190           ~101 / ~95
      Zen              Zen               ~135 / ~190            ~97 / ~82
      Prescott         Prescott          ~45  / ~60             ~35 / ~39
  (* 0.3.21 accepts neither name ("Core not found"), so autodetect is used.)
  Everything but Prescott is within noise (~190-210 GFLOP/s at 2048 on 2
  threads, ~100 on one); Prescott is 3-4x slower. Best here: leave it unset
  (or Zen/Haswell). On an Intel Emerald Rapids that 0.3.21 misdetects as
  Prescott use SkylakeX (or Haswell): Cooperlake/SapphireRapids would fall
  back to that same Prescott autodetection.
  gptStep with OpenBLAS (autodetect): ~0.57-0.60 s/step (~1.7-1.8k tokens/s;
  Prescott ~1.0 s, ~1.0k tokens/s in one round) vs ~5.6 s (~185 tokens/s)
  with the reference BLAS. With another process busy on one of the 2 cores,
  2-thread steps slow down ~4x (~2.2 s): benchmark on a quiet machine. OPENBLAS_CORETYPE must be in the environment before the
  process starts; this script only reports it.

Runtime: ~10 s with OpenBLAS; ~45 s with the reference BLAS (its 2048 matmul
takes ~3.5 s a run, so fewer runs are taken: at least 3, after 1 warm-up).
"""

import argparse
import ctypes
import json
import os
import re
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoder import Decoder  # noqa: E402

GPT_CONFIG = {
    "vocab": 1024,
    "width": 256,
    "heads": 4,
    "layers": 4,
    "maxPositions": 128,
    "batch": 8,
    "seq": 128,
    "initStd": 0.02,
    "lr": 1e-3,
    "betas": [0.9, 0.95],
    "eps": 1e-8,
    "weightDecay": 0.1,
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def blas_from_config():
    """What torch.__config__.show() says about BLAS (its BLAS_INFO=... value)."""
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return m.group(1) if m else None


def loaded_blas():
    """Paths of the BLAS libraries mapped into this process (after a matmul)."""
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path).lower()
                if ("blas" in base or "mkl" in base) and path not in libs:
                    libs.append(path)
    except OSError:
        pass
    return libs


def openblas_core(libs):
    """openblas_get_corename()/config() when an OpenBLAS is loaded, else None."""
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            fn = lib.openblas_get_corename
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_char_p
        core = fn().decode()
        cfg = None
        if hasattr(lib, "openblas_get_config"):
            lib.openblas_get_config.restype = ctypes.c_char_p
            cfg = lib.openblas_get_config().decode().strip()
        return core, cfg
    return None, None


def describe_blas_library(libs):
    if not libs:
        return None
    real = [os.path.realpath(p) for p in libs]
    names = sorted(set(real))
    desc = ", ".join(names)
    if any("openblas" in n.lower() for n in names):
        kind = "OpenBLAS"
    elif any("mkl" in n.lower() for n in names):
        kind = "MKL"
    elif any(n.endswith("/blas/libblas.so.3") or "libblas.so.3" in n for n in names):
        kind = "reference BLAS (netlib)"
    else:
        kind = "unknown"
    return f"{kind}: {desc}"


def bench_matmul(n, budget_s, min_runs, max_runs=500):
    a = torch.randn(n, n, dtype=torch.float32)
    b = torch.randn(n, n, dtype=torch.float32)
    out = torch.empty(n, n, dtype=torch.float32)
    t0 = time.perf_counter()
    torch.mm(a, b, out=out)  # warm-up (allocator, BLAS thread start-up)
    first = time.perf_counter() - t0
    if first < budget_s / 4:
        torch.mm(a, b, out=out)
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (
        len(times) < min_runs or time.perf_counter() - start < budget_s
    ):
        t = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    gflops = 2.0 * n**3 / med / 1e9
    log(f"matmul {n}: median {med * 1e3:.1f} ms over {len(times)} runs -> {gflops:.1f} GFLOP/s")
    return gflops


def bench_gpt(warmup, max_steps, min_steps, budget_s):
    c = GPT_CONFIG
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = Decoder(c["vocab"], c["width"], c["heads"], c["layers"], c["maxPositions"])
    model.init_normal(c["initStd"], generator=gen)
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=c["lr"],
        betas=tuple(c["betas"]),
        eps=c["eps"],
        weight_decay=c["weightDecay"],
    )
    b, t = c["batch"], c["seq"]
    seq = torch.randint(0, c["vocab"], (b, t + 1), generator=gen)
    ids, targets = seq[:, :t].contiguous(), seq[:, 1:].contiguous()

    def step():
        t0 = time.perf_counter()
        loss = model.loss(model(ids), targets)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return time.perf_counter() - t0, loss.item()

    for i in range(warmup):
        dt, loss = step()
        log(f"gpt warm-up {i}: {dt * 1e3:.0f} ms (loss {loss:.4f})")
        if dt > budget_s / 4:
            break  # slow BLAS: one warm-up is enough
    times = []
    start = time.perf_counter()
    while len(times) < max_steps and (
        len(times) < min_steps or time.perf_counter() - start < budget_s
    ):
        dt, loss = step()
        times.append(dt)
    med = statistics.median(times)
    tps = b * t / med
    log(f"gpt step: median {med * 1e3:.0f} ms over {len(times)} steps -> {tps:.0f} tokens/s")
    return {
        "tokensPerSecond": round(tps, 1),
        "msPerStep": round(med * 1e3, 2),
        "steps": len(times),
        "config": c,
    }


def main():
    ap = argparse.ArgumentParser(description="PyTorch CPU peer benchmark (one JSON object on stdout)")
    ap.add_argument("--quick", action="store_true", help="fewer runs (for tests)")
    ap.add_argument("--sizes", default="1024,2048", help="matmul sizes, comma separated")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    default_threads = torch.get_num_threads()
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    log(
        f"torch {torch.__version__}: default threads {default_threads} "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}), using {torch.get_num_threads()}"
    )

    if args.quick:
        mm_budget, mm_min = 0.25, 2
        gpt = dict(warmup=1, max_steps=2, min_steps=2, budget_s=0.0)
    else:
        mm_budget, mm_min = 1.5, 3
        gpt = dict(warmup=3, max_steps=10, min_steps=3, budget_s=20.0)

    matmul = {str(n): round(bench_matmul(n, mm_budget, mm_min), 2) for n in sizes}
    libs = loaded_blas()
    core, core_cfg = openblas_core(libs)
    gpt_step = bench_gpt(**gpt)

    result = {
        "peer": "pytorch-cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "defaultThreads": default_threads,
        "blas": blas_from_config(),
        "blasLibrary": describe_blas_library(libs),
        "openblasCore": core,
        "openblasConfig": core_cfg,
        "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"),
        "matmul": matmul,
        "gptStep": gpt_step,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
