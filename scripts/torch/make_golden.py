"""Writes the committed golden fixtures for the TypeScript engine.

  test/fixtures/engine-golden.safetensors  tiny CM3leon decoder (float32):
      initial params, logits, loss, grads and one AdamW step
  test/fixtures/ops-golden.safetensors     single-op references (float64)

Run with Debian's PyTorch (nothing else needed; safetensors is written by hand):

  /usr/bin/python3 scripts/torch/make_golden.py [--out-dir test/fixtures]

Output is deterministic: the same bytes on every rerun on a machine (the
float32 model numbers can differ in the last bits across BLAS libraries; the
float64 op references are exact up to rounding). The script re-reads both files
with its own minimal reader and checks the round trip before it exits.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoder import IGNORE_INDEX, Decoder  # noqa: E402

GENERATOR = "scripts/torch/make_golden.py"

_DTYPES = {
    # safetensors dtype -> (numpy little-endian dtype, torch dtype)
    "F32": ("<f4", torch.float32),
    "F64": ("<f8", torch.float64),
    "I32": ("<i4", torch.int32),
}
_TORCH_TO_ST = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32"}


# --------------------------------------------------------------------------
# minimal safetensors writer / reader (no `safetensors` package)
# --------------------------------------------------------------------------
def _to_numpy(t, dtype_name):
    # (np.ascontiguousarray would turn a 0-d scalar into shape (1,))
    return t.detach().cpu().numpy().astype(_DTYPES[dtype_name][0], order="C", copy=True)


def save_safetensors(path, tensors, metadata):
    """tensors: list of (name, torch.Tensor) written in that order."""
    header = {}
    blobs = []
    offset = 0
    seen = set()
    for name, t in tensors:
        if name in seen or name == "__metadata__":
            raise ValueError(f"duplicate/reserved tensor name {name}")
        seen.add(name)
        st = _TORCH_TO_ST.get(t.dtype)
        if st is None:
            raise TypeError(f"{name}: unsupported dtype {t.dtype}")
        raw = _to_numpy(t, st).tobytes()
        header[name] = {
            "dtype": st,
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    js = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    js += b" " * ((-len(js)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def load_safetensors(path):
    """Returns (dict name -> numpy array, metadata dict, ordered names)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    assert n % 8 == 0, "header length not a multiple of 8"
    header = json.loads(buf[8 : 8 + n].decode("utf-8"))
    data = buf[8 + n :]
    meta = header.pop("__metadata__", {})
    out = {}
    end = 0
    for name, info in header.items():
        b, e = info["data_offsets"]
        assert b == end, f"{name}: tensors not packed contiguously"
        np_dtype = _DTYPES[info["dtype"]][0]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        assert e - b == count * np.dtype(np_dtype).itemsize, f"{name}: size mismatch"
        out[name] = np.frombuffer(data[b:e], dtype=np_dtype).reshape(info["shape"])
        end = e
    assert end == len(data), "trailing bytes after last tensor"
    return out, meta, list(header.keys())


def _check_roundtrip(path, tensors, metadata):
    got, meta, names = load_safetensors(path)
    assert names == [n for n, _ in tensors], "tensor order changed"
    assert meta == {str(k): str(v) for k, v in metadata.items()}, "metadata changed"
    for name, t in tensors:
        st = _TORCH_TO_ST[t.dtype]
        want = _to_numpy(t, st)
        g = got[name]
        assert g.dtype == want.dtype and g.shape == want.shape, name
        assert g.tobytes() == want.tobytes(), f"{name}: bytes differ"


# --------------------------------------------------------------------------
# (a) engine golden: tiny decoder, float32
# --------------------------------------------------------------------------
ENGINE_CONFIG = {"vocab": 96, "width": 32, "heads": 4, "layers": 2, "maxPositions": 16}
ENGINE_BATCH = {"batch": 2, "seq": 16}
ENGINE_INIT_STD = 0.02
ENGINE_SEED = 1234
ADAMW = {"lr": 1e-2, "betas": [0.9, 0.95], "eps": 1e-8, "weightDecay": 0.1}
# (row, position) of targets replaced by the ignore index
ENGINE_IGNORED = [(0, 3), (0, 15), (1, 0), (1, 9)]


def make_engine_golden():
    torch.manual_seed(ENGINE_SEED)
    gen = torch.Generator().manual_seed(ENGINE_SEED)
    c = ENGINE_CONFIG
    b, t = ENGINE_BATCH["batch"], ENGINE_BATCH["seq"]
    model = Decoder(c["vocab"], c["width"], c["heads"], c["layers"], c["maxPositions"])
    model.init_normal(ENGINE_INIT_STD, generator=gen)

    seq = torch.randint(0, c["vocab"], (b, t + 1), generator=gen, dtype=torch.int64)
    ids = seq[:, :t].clone()
    targets = seq[:, 1:].clone()  # next token
    for r, p in ENGINE_IGNORED:
        targets[r, p] = IGNORE_INDEX

    params = model.params()
    initial = [(n, p.detach().clone()) for n, p in params]

    logits = model(ids)
    loss = model.loss(logits, targets)
    loss.backward()
    grads = [(n, p.grad.detach().clone()) for n, p in params]
    for n, g in grads:
        assert torch.isfinite(g).all() and g.abs().max() > 0, f"trivial grad {n}"

    opt = torch.optim.AdamW(
        [p for _, p in params],
        lr=ADAMW["lr"],
        betas=tuple(ADAMW["betas"]),
        eps=ADAMW["eps"],
        weight_decay=ADAMW["weightDecay"],
    )
    opt.step()
    updated = [(n, p.detach().clone()) for n, p in params]

    tensors = [("input_ids", ids.to(torch.int32)), ("targets", targets.to(torch.int32))]
    tensors += [("param." + n, v) for n, v in initial]
    tensors += [("logits", logits.detach()), ("loss", loss.detach().reshape(()))]
    tensors += [("grad." + n, g) for n, g in grads]
    tensors += [("updated." + n, v) for n, v in updated]

    config = dict(c)
    config.update(ENGINE_BATCH)
    config.update(
        {
            "initStd": ENGINE_INIT_STD,
            "seed": ENGINE_SEED,
            "lnEps": 1e-5,
            "ignoreIndex": IGNORE_INDEX,
            "positionOffset": 0,
            "tiedEmbeddings": True,
            "gelu": "erf",
            "bias": False,
            "adamw": ADAMW,
            "paramNames": model.param_names(),
        }
    )
    metadata = {
        "config": json.dumps(config, separators=(",", ":")),
        "torch": torch.__version__,
        "generator": GENERATOR,
        "format": "input_ids,targets (I32); param.<name>; logits (B,T,V); loss (); "
        "grad.<name>; updated.<name> after one AdamW step; all float F32",
    }
    return tensors, metadata


# --------------------------------------------------------------------------
# (b) ops golden: float64 single-op references
# --------------------------------------------------------------------------
OPS_SEED = 4321


def _grads(out, gy, inputs):
    return torch.autograd.grad(out, inputs, gy)


def make_ops_golden():
    gen = torch.Generator().manual_seed(OPS_SEED)
    f64 = torch.float64

    def rn(*shape):
        return torch.randn(shape, generator=gen, dtype=f64)

    tensors = []
    cases = {}

    def add(name, t):
        tensors.append((name, t.detach().clone()))

    # conv2d ---------------------------------------------------------------
    for case, xs, ws, stride, pad in [
        ("conv2d", (2, 3, 7, 6), (4, 3, 3, 3), 2, 1),
        ("conv2d_s1", (1, 2, 5, 5), (3, 2, 3, 3), 1, 1),
    ]:
        x = rn(*xs).requires_grad_()
        w = rn(*ws).requires_grad_()
        y = F.conv2d(x, w, None, stride=stride, padding=pad)
        gy = rn(*y.shape)
        gx, gw = _grads(y, gy, (x, w))
        for k, v in [("x", x), ("w", w), ("y", y), ("gy", gy), ("gx", gx), ("gw", gw)]:
            add(f"{case}.{k}", v)
        cases[case] = {
            "op": "conv2d",
            "stride": [stride, stride],
            "padding": [pad, pad],
            "dilation": [1, 1],
            "groups": 1,
            "bias": False,
            "layout": "NCHW / OIHW",
        }

    # group_norm -----------------------------------------------------------
    x = rn(2, 6, 4, 3).requires_grad_()
    wt = (1.0 + 0.5 * rn(6)).requires_grad_()
    bs = rn(6).requires_grad_()
    y = F.group_norm(x, 3, wt, bs, eps=1e-5)
    gy = rn(*y.shape)
    gx, gwt, gbs = _grads(y, gy, (x, wt, bs))
    for k, v in [
        ("x", x), ("weight", wt), ("bias", bs), ("y", y),
        ("gy", gy), ("gx", gx), ("gweight", gwt), ("gbias", gbs),
    ]:
        add(f"groupnorm.{k}", v)
    cases["groupnorm"] = {"op": "group_norm", "groups": 3, "eps": 1e-5, "affine": True}

    # upsample nearest x2 ----------------------------------------------------
    x = rn(2, 3, 4, 5).requires_grad_()
    y = F.interpolate(x, scale_factor=2, mode="nearest")
    gy = rn(*y.shape)
    (gx,) = _grads(y, gy, (x,))
    for k, v in [("x", x), ("y", y), ("gy", gy), ("gx", gx)]:
        add(f"upsample.{k}", v)
    cases["upsample"] = {"op": "upsample_nearest2d", "scale": 2}

    # gelu (exact erf form) --------------------------------------------------
    # 63 evenly spaced points over [-8, 8] (includes -8, 0, 8) plus 1e-3 just
    # right of 0, sorted -> 64 values.
    x = torch.cat(
        [torch.arange(-31, 32, dtype=f64) * 8 / 31, torch.tensor([1e-3], dtype=f64)]
    )
    x = torch.sort(x).values.requires_grad_()
    assert x.numel() == 64 and (x == 0).any()
    y = F.gelu(x)
    gy = rn(64)
    (gx,) = _grads(y, gy, (x,))
    for k, v in [("x", x), ("y", y), ("gy", gy), ("gx", gx)]:
        add(f"gelu.{k}", v)
    cases["gelu"] = {"op": "gelu", "approximate": "none (erf)"}

    # layer_norm without affine ----------------------------------------------
    x = (rn(5, 7) * 3 + 1).requires_grad_()
    y = F.layer_norm(x, (7,), eps=1e-5)
    gy = rn(5, 7)
    (gx,) = _grads(y, gy, (x,))
    for k, v in [("x", x), ("y", y), ("gy", gy), ("gx", gx)]:
        add(f"layernorm.{k}", v)
    cases["layernorm"] = {"op": "layer_norm", "normalizedShape": [7], "eps": 1e-5, "affine": False}

    # softmax / log_softmax / logsumexp on extreme rows -----------------------
    sx = torch.stack(
        [
            rn(6),  # ordinary
            1e4 + rn(6),  # near +1e4
            -1e4 + rn(6),  # near -1e4
            rn(6),  # single +1e30 entry (set below)
        ]
    )
    sx[3, 2] = 1e30
    x = sx.clone().requires_grad_()
    y = torch.softmax(x, dim=-1)
    gy = rn(4, 6)
    (gx,) = _grads(y, gy, (x,))
    add("softmax.x", x)
    add("softmax.y", y)
    add("softmax.gy", gy)
    add("softmax.gx", gx)
    x2 = sx.clone().requires_grad_()
    ly = torch.log_softmax(x2, dim=-1)
    (lgx,) = _grads(ly, gy, (x2,))
    add("logsoftmax.y", ly)
    add("logsoftmax.gx", lgx)
    add("logsumexp.y", torch.logsumexp(sx, dim=-1))
    cases["softmax"] = {
        "op": "softmax",
        "dim": -1,
        "rows": ["ordinary", "near +1e4", "near -1e4", "one +1e30 entry at column 2"],
        "note": "logsoftmax.* and logsumexp.y use softmax.x; logsoftmax.gx uses softmax.gy",
    }
    cases["logsoftmax"] = {"op": "log_softmax", "dim": -1, "input": "softmax.x", "gy": "softmax.gy"}
    cases["logsumexp"] = {"op": "logsumexp", "dim": -1, "input": "softmax.x"}

    # cross entropy -----------------------------------------------------------
    lg = rn(6, 10)
    lg[2] = 1e4 + 100 * rn(10)  # extreme row (large offset and spread)
    logits = lg.clone().requires_grad_()
    tg = torch.tensor([3, IGNORE_INDEX, 7, 0, IGNORE_INDEX, 9], dtype=torch.int64)
    loss = F.cross_entropy(logits, tg, ignore_index=IGNORE_INDEX, reduction="mean")
    (glogits,) = torch.autograd.grad(loss, (logits,))
    add("xent.logits", logits)
    add("xent.targets", tg.to(torch.int32))
    add("xent.loss", loss.reshape(()))
    add("xent.glogits", glogits)
    cases["xent"] = {
        "op": "cross_entropy",
        "ignoreIndex": IGNORE_INDEX,
        "reduction": "mean",
        "extremeRow": 2,
        "note": "glogits is d(loss)/d(logits) with upstream grad 1",
    }

    # causal scaled dot product attention -------------------------------------
    b, h, t, d = 2, 3, 5, 4
    q = rn(b, h, t, d).requires_grad_()
    k = rn(b, h, t, d).requires_grad_()
    v = rn(b, h, t, d).requires_grad_()
    scores = (q @ k.transpose(-2, -1)) * d ** -0.5
    mask = torch.ones(t, t, dtype=torch.bool).triu(1)
    probs = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
    y = probs @ v
    gy = rn(*y.shape)
    gq, gk, gv = _grads(y, gy, (q, k, v))
    for kk, vv in [("q", q), ("k", k), ("v", v), ("y", y), ("gy", gy), ("gq", gq), ("gk", gk), ("gv", gv)]:
        add(f"attention.{kk}", vv)
    cases["attention"] = {
        "op": "scaled_dot_product_attention",
        "layout": "B,H,T,D",
        "causal": True,
        "scale": d ** -0.5,
    }

    # AdamW: 3 steps --------------------------------------------------------
    p0 = rn(10)
    gs = [rn(10) for _ in range(3)]
    p = torch.nn.Parameter(p0.clone())
    opt = torch.optim.AdamW(
        [p], lr=ADAMW["lr"], betas=tuple(ADAMW["betas"]), eps=ADAMW["eps"],
        weight_decay=ADAMW["weightDecay"],
    )
    for g in gs:
        p.grad = g.clone()
        opt.step()
    add("adamw.p0", p0)
    for i, g in enumerate(gs, 1):
        add(f"adamw.g{i}", g)
    add("adamw.p3", p.detach())
    cases["adamw"] = {
        "op": "adamw",
        "steps": 3,
        "lr": ADAMW["lr"],
        "betas": ADAMW["betas"],
        "eps": ADAMW["eps"],
        "weightDecay": ADAMW["weightDecay"],
        "amsgrad": False,
        "note": "torch.optim.AdamW: p *= 1-lr*wd; bias-corrected m/v; eps added to sqrt(v_hat)",
    }

    metadata = {
        "cases": json.dumps(cases, separators=(",", ":")),
        "torch": torch.__version__,
        "generator": GENERATOR,
        "seed": str(OPS_SEED),
        "format": "<case>.<tensor>; all F64 except xent.targets (I32)",
    }
    return tensors, metadata


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out-dir", default=os.path.join(here, "..", "..", "test", "fixtures"))
    args = ap.parse_args()
    out_dir = os.path.normpath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    # single thread: reductions in a fixed order -> byte-identical reruns
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    for fname, make in [
        ("engine-golden.safetensors", make_engine_golden),
        ("ops-golden.safetensors", make_ops_golden),
    ]:
        tensors, metadata = make()
        path = os.path.join(out_dir, fname)
        save_safetensors(path, tensors, metadata)
        _check_roundtrip(path, tensors, metadata)
        size = os.path.getsize(path)
        print(f"wrote {path}: {len(tensors)} tensors, {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
