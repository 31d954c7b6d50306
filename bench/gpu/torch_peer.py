"""GPU peer benchmark: PyTorch (CUDA) figures to set beside our WebGPU engine.

What it measures (the WebGPU side, a separate script, measures the same things;
an orchestrator compares the two JSON objects):

  env              torch / CUDA / cuDNN / transformers versions, GPU name.
  matmul           torch.mm TFLOP/s (2 n^3 / time) at n = 1024, 2048, 4096:
                     "f32"  f32 with TF32 DISABLED (plain cuBLAS f32, the figure
                            to compare with our f32 kernels),
                     "tf32" f32 with TF32 allowed (tensor cores; information),
                     "bf16" bf16 inputs (tensor cores; information).
                   Each figure: median over rounds of 20 back-to-back calls,
                   torch.cuda.synchronize() around each round, ~1 s per size.
                   (bf16/tf32 at n = 1024 take a few microseconds a call and
                   may be bounded by kernel launches, so read them as lower
                   bounds.)
  train            one GPT training step of scripts/torch/decoder.py's Decoder
                   (vocab 8192, width 512, heads 8, layers 8, 512 positions;
                   batch 32 x seq 512, f32, TF32 OFF, AdamW): forward, loss,
                   backward, opt.step, zero_grad, synchronize. Eager attention
                   exactly as decoder.py writes it.
  trainSdpa        the same step with the attention computed by
                   F.scaled_dot_product_attention(is_causal=True) (the fastest
                   eager f32 PyTorch); an error entry where torch lacks it.
  decode           Hugging Face OPTForCausalLM (same shape as our model) greedy
                   `generate` with the KV cache, 64-token prompt, exactly 256 new
                   tokens, batch 1 and 16, f32, TF32 OFF; an error entry where
                   transformers is not installed.
  decodeTorchLoop  a plain greedy loop in torch with our own KV cache over the
                   decoder.py weights (prefill the prompt, then one token per
                   step, argmax), batch 1 and 16, same output shape as decode;
                   it also checks its tokens against decoder.py's full forward.

TF32 is OFF (torch.backends.cuda.matmul.allow_tf32 = False and
torch.backends.cudnn.allow_tf32 = False) for every f32 figure; only the
"tf32" matmul row turns it on, and it is turned off again right after. (Only
these legacy flags are touched: from torch 2.9 mixing them with
set_float32_matmul_precision / fp32_precision makes torch raise.) The
TORCH_ALLOW_TF32_CUBLAS_OVERRIDE environment variable, which would force TF32
on, is reported in "env".

Prints ONE JSON object on stdout; progress goes to stderr. A section that
fails is reported as {"error": "..."} in its place; the script carries on.
Runtime on an H100: well under 2 minutes (most of it the HF decode).

  python3 bench/gpu/torch_peer.py [--device cuda|cpu] [--quick]
                                  [--what matmul,train,decode]

--quick shrinks every size (matmul 64/128, a 2-layer width-64 model, 8-token
prompt, 8 new tokens) so that it runs on a CPU in a few seconds; its numbers
mean nothing, it only shows that everything runs. --what picks sections
("train" gives train + trainSdpa, "decode" gives decode + decodeTorchLoop).
"""

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback

import torch
import torch.nn.functional as F

sys.path.insert(
    0,
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "torch"),
)
from decoder import LN_EPS, Decoder  # noqa: E402

FULL = {
    "matmulSizes": [1024, 2048, 4096],
    "matmulBudgetS": 1.0,
    "matmulMinRounds": 3,
    "matmulReps": 20,
    "model": {"vocab": 8192, "width": 512, "heads": 8, "layers": 8, "maxPositions": 512},
    "batch": 32,
    "seq": 512,
    "trainWarmup": 3,
    "trainSteps": 10,
    "promptLen": 64,
    "newTokens": 256,
    "decodeBatches": [1, 16],
    "decodeRuns": 3,
}

QUICK = {
    "matmulSizes": [64, 128],
    "matmulBudgetS": 0.05,
    "matmulMinRounds": 2,
    "matmulReps": 5,
    "model": {"vocab": 256, "width": 64, "heads": 2, "layers": 2, "maxPositions": 64},
    "batch": 2,
    "seq": 32,
    "trainWarmup": 1,
    "trainSteps": 2,
    "promptLen": 8,
    "newTokens": 8,
    "decodeBatches": [1, 16],
    "decodeRuns": 2,
}

OPTIM = {"lr": 1e-3, "betas": [0.9, 0.95], "eps": 1e-8, "weightDecay": 0.1}
INIT_STD = 0.02

# A decode warm-up slower than this (seconds) gets one timed run instead of
# decodeRuns, to stay inside the time budget on a slow or busy machine.
SLOW_DECODE_S = 8.0


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def error_entry(exc):
    traceback.print_exc(file=sys.stderr)
    msg = f"{type(exc).__name__}: {exc}"
    return {"error": msg[:2000]}


class Ctx:
    def __init__(self, device, cfg):
        self.device = torch.device(device)
        self.cfg = cfg
        self.cuda = self.device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def free(self):
        gc.collect()
        if self.cuda:
            torch.cuda.empty_cache()


def set_tf32(flag):
    """Legacy TF32 switches only (see the docstring)."""
    torch.backends.cuda.matmul.allow_tf32 = flag
    torch.backends.cudnn.allow_tf32 = flag


def tf32_state():
    try:
        return {
            "cublas": bool(torch.backends.cuda.matmul.allow_tf32),
            "cudnn": bool(torch.backends.cudnn.allow_tf32),
        }
    except Exception as e:  # noqa: BLE001 - reporting only
        return {"error": f"{type(e).__name__}: {e}"}


def rounded(x, digits=3):
    return None if x is None or not math.isfinite(x) else round(x, digits)


def sanitize(obj):
    """Non-finite floats become null so that json.dumps writes valid JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize(v) for v in obj]
    return obj


# -- env ------------------------------------------------------------------
def section_env(ctx):
    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": None,
        "cudaAvailable": torch.cuda.is_available(),
        "device": str(ctx.device),
        "deviceName": None,
        "capability": None,
        "memoryGiB": None,
        "transformers": None,
        "cpuThreads": torch.get_num_threads(),
        "torchAllowTf32CublasOverride": os.environ.get("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE"),
    }
    try:
        env["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    except Exception:  # noqa: BLE001
        pass
    if ctx.cuda:
        try:
            env["deviceName"] = torch.cuda.get_device_name(ctx.device)
            env["capability"] = list(torch.cuda.get_device_capability(ctx.device))
            props = torch.cuda.get_device_properties(ctx.device)
            env["memoryGiB"] = round(props.total_memory / 2**30, 2)
        except Exception as e:  # noqa: BLE001
            env["deviceError"] = f"{type(e).__name__}: {e}"
    else:
        env["deviceName"] = platform.processor() or platform.machine()
    try:
        import transformers  # noqa: PLC0415

        env["transformers"] = transformers.__version__
    except Exception:  # noqa: BLE001 - absent or broken: null
        pass
    return env


# -- matmul ---------------------------------------------------------------
def time_mm(ctx, n, dtype):
    cfg = ctx.cfg
    gen = torch.Generator().manual_seed(n)
    a = torch.randn(n, n, generator=gen).to(device=ctx.device, dtype=dtype)
    b = torch.randn(n, n, generator=gen).to(device=ctx.device, dtype=dtype)
    out = torch.empty(n, n, device=ctx.device, dtype=dtype)
    reps = cfg["matmulReps"]
    for _ in range(3):  # warm-up: cuBLAS handle/heuristics, clocks
        torch.mm(a, b, out=out)
    ctx.sync()
    rounds = []
    start = time.perf_counter()
    while len(rounds) < cfg["matmulMinRounds"] or (
        time.perf_counter() - start < cfg["matmulBudgetS"] and len(rounds) < 200
    ):
        ctx.sync()
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        ctx.sync()
        rounds.append((time.perf_counter() - t0) / reps)
    med = statistics.median(rounds)
    del a, b, out
    return 2.0 * n**3 / med / 1e12, med, len(rounds)


def section_matmul(ctx):
    result = {}
    modes = [("f32", torch.float32, False), ("tf32", torch.float32, True), ("bf16", torch.bfloat16, False)]
    try:
        for name, dtype, tf32 in modes:
            row = {}
            for n in ctx.cfg["matmulSizes"]:
                try:
                    set_tf32(tf32)
                    tflops, med, rounds = time_mm(ctx, n, dtype)
                    log(
                        f"matmul {name} {n}: {med * 1e3:.3f} ms/call "
                        f"(median of {rounds} rounds) -> {tflops:.2f} TFLOP/s"
                    )
                    row[str(n)] = rounded(tflops, 3)
                except Exception as e:  # noqa: BLE001
                    row[str(n)] = error_entry(e)
                finally:
                    set_tf32(False)
            result[name] = row
    finally:
        set_tf32(False)
    result["unit"] = "TFLOP/s"
    result["repsPerRound"] = ctx.cfg["matmulReps"]
    return result


# -- train ----------------------------------------------------------------
class SdpaDecoder(Decoder):
    """decoder.py's Decoder with F.scaled_dot_product_attention(is_causal=True)."""

    def forward(self, ids):
        b, t = ids.shape
        h, c = self.heads, self.width
        d = c // h
        dec = self.model.decoder
        e = dec.embed_tokens.weight
        pos = torch.arange(t, device=ids.device)
        x = F.embedding(ids, e) + F.embedding(pos, dec.embed_positions.weight)
        for layer in dec.layers:
            att = layer.self_attn
            a = F.layer_norm(x, (c,), eps=LN_EPS)
            q = F.linear(a, att.q_proj.weight).view(b, t, h, d).transpose(1, 2)
            k = F.linear(a, att.k_proj.weight).view(b, t, h, d).transpose(1, 2)
            v = F.linear(a, att.v_proj.weight).view(b, t, h, d).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # scale D**-0.5
            y = y.transpose(1, 2).reshape(b, t, c)
            x = x + F.linear(y, att.out_proj.weight)
            m = F.layer_norm(x, (c,), eps=LN_EPS)
            x = x + F.linear(F.gelu(F.linear(m, layer.fc1.weight)), layer.fc2.weight)
        x = F.layer_norm(x, (c,), eps=LN_EPS)
        return F.linear(x, e)


def make_model(ctx, cls=Decoder):
    m = ctx.cfg["model"]
    model = cls(m["vocab"], m["width"], m["heads"], m["layers"], m["maxPositions"])
    model.init_normal(INIT_STD, generator=torch.Generator().manual_seed(0))
    return model.to(ctx.device)


def make_adamw(params, ctx, prefer):
    """AdamW, trying the implementations in `prefer` order; returns (opt, which)."""
    params = list(params)
    kw = dict(lr=OPTIM["lr"], betas=tuple(OPTIM["betas"]), eps=OPTIM["eps"], weight_decay=OPTIM["weightDecay"])
    for which in prefer:
        extra = {"fused": True} if which == "fused" else {"foreach": True} if which == "foreach" else {}
        try:
            return torch.optim.AdamW(params, **extra, **kw), which
        except Exception as e:  # noqa: BLE001 - absent in this torch / unsupported here
            log(f"AdamW {which} unavailable: {type(e).__name__}: {e}")
    raise RuntimeError("no AdamW implementation could be built")


def bench_train(ctx, cls, attention):
    cfg = ctx.cfg
    set_tf32(False)
    if ctx.cuda:
        torch.cuda.reset_peak_memory_stats(ctx.device)
    model = make_model(ctx, cls)
    vocab = cfg["model"]["vocab"]
    b, t = cfg["batch"], cfg["seq"]
    gen = torch.Generator().manual_seed(1)
    seq = torch.randint(0, vocab, (b, t + 1), generator=gen)
    ids = seq[:, :t].contiguous().to(ctx.device)
    targets = seq[:, 1:].contiguous().to(ctx.device)

    check = None
    if cls is not Decoder:
        # same weights through decoder.py's eager forward: the two must agree
        with torch.no_grad():
            small = ids[: min(b, 2), : min(t, 64)]
            check = (model(small) - Decoder.forward(model, small)).abs().max().item()
        log(f"{attention}: max |logits - eager logits| = {check:.3g}")

    prefer = ["fused", "foreach", "default"] if ctx.cuda else ["foreach", "default"]
    opt, which = make_adamw(model.parameters(), ctx, prefer)

    def step():
        ctx.sync()
        t0 = time.perf_counter()
        loss = model.loss(model(ids), targets)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        ctx.sync()
        return time.perf_counter() - t0, loss.item()

    first_loss = None
    for i in range(cfg["trainWarmup"]):
        try:
            dt, loss = step()
        except Exception as e:  # noqa: BLE001 - e.g. fused AdamW refusing at step time
            if i != 0 or which == "default":
                raise
            log(f"AdamW {which} failed at its first step ({type(e).__name__}: {e}); falling back")
            opt.zero_grad(set_to_none=True)
            opt, which = make_adamw(model.parameters(), ctx, ["foreach", "default"])
            dt, loss = step()
        if first_loss is None:
            first_loss = loss
        log(f"{attention} warm-up {i}: {dt * 1e3:.1f} ms (loss {loss:.4f})")
    times = []
    loss = float("nan")
    for _ in range(cfg["trainSteps"]):
        dt, loss = step()
        times.append(dt)
    med = statistics.median(times)
    tps = b * t / med
    log(f"{attention}: median {med * 1e3:.1f} ms/step over {len(times)} steps -> {tps:.0f} tokens/s")
    result = {
        "tokensPerSecond": rounded(tps, 1),
        "msPerStep": rounded(med * 1e3, 3),
        "minMsPerStep": rounded(min(times) * 1e3, 3),
        "steps": len(times),
        "loss": rounded(loss, 5),
        "firstLoss": rounded(first_loss, 5),
        "optimizer": f"AdamW ({which})",
        "attention": attention,
        "tf32": tf32_state(),
        "config": {**cfg["model"], "batch": b, "seq": t, "initStd": INIT_STD, **OPTIM, "dtype": "float32"},
    }
    if check is not None:
        result["checkMaxAbsLogitDiffVsEager"] = check
    if ctx.cuda:
        result["peakMemoryGiB"] = round(torch.cuda.max_memory_allocated(ctx.device) / 2**30, 3)
    del model, opt, ids, targets
    return result


def section_train(ctx):
    return bench_train(ctx, Decoder, "eager")


def section_train_sdpa(ctx):
    if not hasattr(F, "scaled_dot_product_attention"):
        return {"error": f"torch {torch.__version__} has no F.scaled_dot_product_attention", "attention": "sdpa"}
    result = bench_train(ctx, SdpaDecoder, "sdpa")
    if ctx.cuda:
        try:
            result["sdpaBackendsEnabled"] = {
                "flash": torch.backends.cuda.flash_sdp_enabled(),
                "memEfficient": torch.backends.cuda.mem_efficient_sdp_enabled(),
                "math": torch.backends.cuda.math_sdp_enabled(),
                "note": "flash needs fp16/bf16, so f32 runs memory-efficient (or math)",
            }
        except Exception:  # noqa: BLE001 - reporting only
            pass
    return result


# -- decode ---------------------------------------------------------------
def prompt_ids(ctx, batch, vocab):
    gen = torch.Generator().manual_seed(100 + batch)
    return torch.randint(3, vocab, (batch, ctx.cfg["promptLen"]), generator=gen).to(ctx.device)


def time_decode(ctx, label, batch, run):
    """One warm-up call of run(), then the median of decodeRuns timed calls."""
    cfg = ctx.cfg
    ctx.sync()
    t0 = time.perf_counter()
    first = run()
    ctx.sync()
    warm = time.perf_counter() - t0
    log(f"{label} batch {batch}: warm-up {warm:.3f} s")
    runs = cfg["decodeRuns"] if warm < SLOW_DECODE_S else 1
    times = []
    for _ in range(runs):
        ctx.sync()
        t0 = time.perf_counter()
        run()
        ctx.sync()
        times.append(time.perf_counter() - t0)
    sec = statistics.median(times)
    per_seq = cfg["newTokens"] / sec
    log(f"{label} batch {batch}: median {sec:.3f} s over {runs} runs -> {per_seq * batch:.1f} tokens/s")
    entry = {
        "tokensPerSecond": rounded(per_seq * batch, 2),
        "perSequenceTokensPerSecond": rounded(per_seq, 2),
        "seconds": rounded(sec, 5),
        "runs": runs,
        "warmupSeconds": rounded(warm, 4),
    }
    return entry, first


def section_decode_hf(ctx):
    try:
        import inspect  # noqa: PLC0415

        import transformers  # noqa: PLC0415
        from transformers import OPTConfig, OPTForCausalLM  # noqa: PLC0415
    except ImportError:
        return {"error": "transformers not installed"}
    cfg = ctx.cfg
    m = cfg["model"]
    set_tf32(False)
    params = inspect.signature(OPTConfig.__init__).parameters
    width_key = "hidden_size" if "hidden_size" in params else "d_model"
    kwargs = dict(
        vocab_size=m["vocab"],
        **{width_key: m["width"]},
        num_hidden_layers=m["layers"],
        ffn_dim=4 * m["width"],
        num_attention_heads=m["heads"],
        max_position_embeddings=m["maxPositions"],
        activation_function="gelu",
        do_layer_norm_before=True,
        word_embed_proj_dim=m["width"],
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    if "enable_bias" in params:
        kwargs["enable_bias"] = False
    torch.manual_seed(0)
    model = OPTForCausalLM(OPTConfig(**kwargs)).to(device=ctx.device, dtype=torch.float32).eval()
    n_params = sum(p.numel() for p in model.parameters())
    got = model.config
    shape_ok = (
        getattr(got, "hidden_size", None) == m["width"]
        and got.num_hidden_layers == m["layers"]
        and got.num_attention_heads == m["heads"]
        and got.ffn_dim == 4 * m["width"]
        and got.vocab_size == m["vocab"]
    )
    result = {
        "transformers": transformers.__version__,
        "model": "OPTForCausalLM",
        "config": {
            **{k: v for k, v in kwargs.items() if k not in ("pad_token_id", "bos_token_id", "eos_token_id")},
            "enableBiasKwarg": "enable_bias" in params,
        },
        "parameters": n_params,
        "configCheck": bool(shape_ok),
        "attnImplementation": getattr(model.config, "_attn_implementation", None),
        "promptLen": cfg["promptLen"],
        "newTokens": cfg["newTokens"],
        "dtype": "float32",
        "tf32": tf32_state(),
    }
    for batch in cfg["decodeBatches"]:
        try:
            ids = prompt_ids(ctx, batch, m["vocab"])
            mask = torch.ones_like(ids)

            def run(ids=ids, mask=mask):
                with torch.no_grad():
                    return model.generate(
                        ids,
                        attention_mask=mask,
                        max_new_tokens=cfg["newTokens"],
                        min_new_tokens=cfg["newTokens"],
                        do_sample=False,
                        use_cache=True,
                    )

            entry, out = time_decode(ctx, "hf generate", batch, run)
            entry["generatedTokens"] = int(out.shape[1] - ids.shape[1])
            result[str(batch)] = entry
        except Exception as e:  # noqa: BLE001
            result[str(batch)] = error_entry(e)
        ctx.free()
    del model
    return result


class CachedGreedy:
    """Greedy decoding over decoder.py's weights with a preallocated KV cache."""

    def __init__(self, model, batch, max_len):
        dec = model.model.decoder
        self.e = dec.embed_tokens.weight
        self.p = dec.embed_positions.weight
        self.h, self.c = model.heads, model.width
        self.d = self.c // self.h
        self.layers = [
            (
                l.self_attn.q_proj.weight,
                l.self_attn.k_proj.weight,
                l.self_attn.v_proj.weight,
                l.self_attn.out_proj.weight,
                l.fc1.weight,
                l.fc2.weight,
            )
            for l in dec.layers
        ]
        shape = (len(self.layers), batch, self.h, max_len, self.d)
        self.k = torch.empty(shape, device=self.e.device, dtype=self.e.dtype)
        self.v = torch.empty(shape, device=self.e.device, dtype=self.e.dtype)

    def forward(self, ids, start):
        """Logits (B, V) of the last position; ids (B, T) sit at start..start+T-1."""
        b, t = ids.shape
        h, c, d = self.h, self.c, self.d
        end = start + t
        x = F.embedding(ids, self.e) + self.p[start:end]
        mask = None
        if t > 1:
            mask = torch.ones(t, end, dtype=torch.bool, device=ids.device).triu(start + 1)
        scale = d ** -0.5
        for i, (wq, wk, wv, wo, w1, w2) in enumerate(self.layers):
            a = F.layer_norm(x, (c,), eps=LN_EPS)
            q = F.linear(a, wq).view(b, t, h, d).transpose(1, 2)
            self.k[i, :, :, start:end] = F.linear(a, wk).view(b, t, h, d).transpose(1, 2)
            self.v[i, :, :, start:end] = F.linear(a, wv).view(b, t, h, d).transpose(1, 2)
            k = self.k[i, :, :, :end]
            v = self.v[i, :, :, :end]
            scores = (q @ k.transpose(-2, -1)) * scale
            if mask is not None:
                scores = scores.masked_fill(mask, float("-inf"))
            y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
            x = x + F.linear(y, wo)
            m = F.layer_norm(x, (c,), eps=LN_EPS)
            x = x + F.linear(F.gelu(F.linear(m, w1)), w2)
        x = F.layer_norm(x[:, -1], (c,), eps=LN_EPS)
        return F.linear(x, self.e)

    @torch.no_grad()
    def generate(self, prompt, new_tokens):
        """new_tokens greedy tokens: the prefill gives the first, then one step each."""
        p = prompt.shape[1]
        tok = self.forward(prompt, 0).argmax(-1)
        out = [tok]
        for s in range(new_tokens - 1):
            tok = self.forward(tok[:, None], p + s).argmax(-1)
            out.append(tok)
        return torch.stack(out, dim=1)


def section_decode_torch_loop(ctx):
    cfg = ctx.cfg
    set_tf32(False)
    model = make_model(ctx).eval()
    p, n = cfg["promptLen"], cfg["newTokens"]
    if p + n > model.max_positions:
        raise ValueError(f"prompt {p} + new {n} > max positions {model.max_positions}")
    result = {
        "model": "decoder.py Decoder + KV cache (this script)",
        "config": dict(cfg["model"]),
        "promptLen": p,
        "newTokens": n,
        "decodeSteps": n - 1,
        "note": "prefill yields the first new token, then newTokens-1 single-token steps (as HF generate)",
        "dtype": "float32",
        "tf32": tf32_state(),
    }
    for batch in cfg["decodeBatches"]:
        try:
            ids = prompt_ids(ctx, batch, cfg["model"]["vocab"])
            loop = CachedGreedy(model, batch, p + n)
            entry, gen = time_decode(ctx, "torch loop", batch, lambda ids=ids, loop=loop: loop.generate(ids, n))
            # teacher-forced check against decoder.py's full (uncached) forward
            with torch.no_grad():
                full = torch.cat([ids, gen], dim=1)
                ref = model(full[:, :-1])[:, p - 1 :].argmax(-1)
            entry["checkAgreementWithFullForward"] = rounded((ref == gen).float().mean().item(), 5)
            result[str(batch)] = entry
            del loop, gen, full, ref
        except Exception as e:  # noqa: BLE001
            result[str(batch)] = error_entry(e)
        ctx.free()
    del model
    return result


# -- main -----------------------------------------------------------------
def run_section(ctx, name, fn):
    log(f"== {name}")
    t0 = time.perf_counter()
    try:
        out = fn(ctx)
    except Exception as e:  # noqa: BLE001 - one failing section must not kill the rest
        out = error_entry(e)
    finally:
        try:
            set_tf32(False)
            ctx.free()
        except Exception:  # noqa: BLE001
            pass
    log(f"== {name} done in {time.perf_counter() - t0:.1f} s")
    return out


def main():
    ap = argparse.ArgumentParser(description="PyTorch GPU peer benchmark (one JSON object on stdout)")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, for a few-second CPU test")
    ap.add_argument("--what", default="matmul,train,decode", help="sections: matmul,train,decode")
    ap.add_argument("--model-config", default=None, help="VOCAB,WIDTH,HEADS,LAYERS,MAXPOS for train/decode (default: the GPU benchmark's)")
    ap.add_argument("--decode-batches", default=None, help="comma-separated decode batch sizes (default 1,16)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: all cores)")
    args = ap.parse_args()
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    what = [w.strip() for w in args.what.split(",") if w.strip()]
    unknown = [w for w in what if w not in ("matmul", "train", "decode")]
    if unknown:
        ap.error(f"unknown section(s) {unknown}; choose from matmul,train,decode")
    cfg = dict(QUICK if args.quick else FULL)
    if args.model_config:
        v, w, h, l, p = (int(x) for x in args.model_config.split(","))
        cfg["model"] = {"vocab": v, "width": w, "heads": h, "layers": l, "maxPositions": p}
    if args.decode_batches:
        cfg["decodeBatches"] = [int(x) for x in args.decode_batches.split(",")]
    if device == "cpu":
        torch.set_num_threads(args.threads or os.cpu_count() or 1)

    t_start = time.perf_counter()
    result = {"peer": f"pytorch-{device}", "quick": args.quick, "sections": what}
    ctx = Ctx(device, cfg)
    result["env"] = run_section(ctx, "env", section_env)
    ok = True
    try:
        set_tf32(False)
        if ctx.cuda:
            torch.zeros(1, device=ctx.device)  # CUDA context up front
            ctx.sync()
    except Exception as e:  # noqa: BLE001 - no usable device: say so, skip the sections
        ok = False
        result["error"] = error_entry(e)["error"]
    if ok:
        if "matmul" in what:
            result["matmul"] = run_section(ctx, "matmul", section_matmul)
        if "train" in what:
            result["train"] = run_section(ctx, "train", section_train)
            result["trainSdpa"] = run_section(ctx, "trainSdpa", section_train_sdpa)
        if "decode" in what:
            result["decode"] = run_section(ctx, "decode", section_decode_hf)
            result["decodeTorchLoop"] = run_section(ctx, "decodeTorchLoop", section_decode_torch_loop)
    result["totalSeconds"] = round(time.perf_counter() - t_start, 2)
    print(json.dumps(sanitize(result)))


if __name__ == "__main__":
    main()
