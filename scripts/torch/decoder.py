"""Plain-PyTorch tiny CM3leon-shaped decoder (no `transformers` dependency).

Reference model for the TypeScript engine: the golden fixtures
(scripts/torch/make_golden.py) and the peer benchmark
(scripts/torch/bench_engine.py) both use it.

Layout follows Hugging Face OPT parameter names, all without bias:

  model.decoder.embed_tokens.weight            (V, C)
  model.decoder.embed_positions.weight         (P, C)   position t -> row t
                                                         (no OPT offset of 2)
  model.decoder.layers.{i}.self_attn.q_proj.weight   (C, C)
  model.decoder.layers.{i}.self_attn.k_proj.weight   (C, C)
  model.decoder.layers.{i}.self_attn.v_proj.weight   (C, C)
  model.decoder.layers.{i}.self_attn.out_proj.weight (C, C)
  model.decoder.layers.{i}.fc1.weight                (4C, C)
  model.decoder.layers.{i}.fc2.weight                (C, 4C)

Forward (pre-LN, layer norms without affine parameters, eps 1e-5):

  x = E[ids] + P[arange(T)]
  per layer:
    a = LN(x); q, k, v = a Wq^T, a Wk^T, a Wv^T  -> (B, H, T, D)
    y = softmax(q k^T * D**-0.5 + causal_mask) v  -> (B, T, C)
    x = x + y Wo^T
    m = LN(x); x = x + gelu_erf(m W1^T) W2^T
  logits = LN(x) E^T                                (tied embeddings)

Run `/usr/bin/python3 scripts/torch/decoder.py` for a self-test.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LN_EPS = 1e-5
IGNORE_INDEX = -100


class _Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.q_proj = nn.Linear(c, c, bias=False)
        self.k_proj = nn.Linear(c, c, bias=False)
        self.v_proj = nn.Linear(c, c, bias=False)
        self.out_proj = nn.Linear(c, c, bias=False)


class _Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = _Attention(c)
        self.fc1 = nn.Linear(c, 4 * c, bias=False)
        self.fc2 = nn.Linear(4 * c, c, bias=False)


class _DecoderBody(nn.Module):
    def __init__(self, vocab, width, layers, max_positions):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, width)
        self.embed_positions = nn.Embedding(max_positions, width)
        self.layers = nn.ModuleList([_Layer(width) for _ in range(layers)])


class _Model(nn.Module):
    def __init__(self, vocab, width, layers, max_positions):
        super().__init__()
        self.decoder = _DecoderBody(vocab, width, layers, max_positions)


class Decoder(nn.Module):
    """Tiny CM3leon/OPT-shaped decoder; named_parameters() yields the OPT names."""

    def __init__(self, vocab, width, heads, layers, max_positions):
        super().__init__()
        if width % heads != 0:
            raise ValueError(f"width {width} not divisible by heads {heads}")
        self.config = {
            "vocab": vocab,
            "width": width,
            "heads": heads,
            "layers": layers,
            "maxPositions": max_positions,
        }
        self.vocab = vocab
        self.width = width
        self.heads = heads
        self.n_layers = layers
        self.max_positions = max_positions
        self.model = _Model(vocab, width, layers, max_positions)

    # -- parameters -------------------------------------------------------
    def param_names(self):
        """OPT names in canonical order (embeddings, then layer by layer)."""
        names = [
            "model.decoder.embed_tokens.weight",
            "model.decoder.embed_positions.weight",
        ]
        for i in range(self.n_layers):
            p = f"model.decoder.layers.{i}."
            names += [
                p + "self_attn.q_proj.weight",
                p + "self_attn.k_proj.weight",
                p + "self_attn.v_proj.weight",
                p + "self_attn.out_proj.weight",
                p + "fc1.weight",
                p + "fc2.weight",
            ]
        return names

    def params(self):
        """Ordered dict-like list of (name, Parameter) in canonical order."""
        named = dict(self.named_parameters())
        return [(n, named[n]) for n in self.param_names()]

    @torch.no_grad()
    def init_normal(self, std=0.02, generator=None):
        """Every parameter ~ N(0, std^2), drawn in canonical order."""
        for _, p in self.params():
            p.copy_(
                torch.randn(p.shape, generator=generator, dtype=torch.float32).to(
                    p.dtype
                )
                * std
            )
        return self

    # -- forward ----------------------------------------------------------
    def forward(self, ids):
        b, t = ids.shape
        if t > self.max_positions:
            raise ValueError(f"sequence length {t} > max positions {self.max_positions}")
        h = self.heads
        c = self.width
        d = c // h
        dec = self.model.decoder
        e = dec.embed_tokens.weight
        pos = torch.arange(t, device=ids.device)
        x = F.embedding(ids, e) + F.embedding(pos, dec.embed_positions.weight)
        mask = torch.ones(t, t, dtype=torch.bool, device=ids.device).triu(1)
        scale = d ** -0.5
        for layer in dec.layers:
            att = layer.self_attn
            a = F.layer_norm(x, (c,), eps=LN_EPS)
            q = F.linear(a, att.q_proj.weight).view(b, t, h, d).transpose(1, 2)
            k = F.linear(a, att.k_proj.weight).view(b, t, h, d).transpose(1, 2)
            v = F.linear(a, att.v_proj.weight).view(b, t, h, d).transpose(1, 2)
            scores = (q @ k.transpose(-2, -1)) * scale
            scores = scores.masked_fill(mask, float("-inf"))
            probs = torch.softmax(scores, dim=-1)
            y = (probs @ v).transpose(1, 2).reshape(b, t, c)
            x = x + F.linear(y, att.out_proj.weight)
            m = F.layer_norm(x, (c,), eps=LN_EPS)
            x = x + F.linear(F.gelu(F.linear(m, layer.fc1.weight)), layer.fc2.weight)
        x = F.layer_norm(x, (c,), eps=LN_EPS)
        return F.linear(x, e)

    def loss(self, logits, targets):
        return F.cross_entropy(
            logits.reshape(-1, self.vocab),
            targets.reshape(-1),
            ignore_index=IGNORE_INDEX,
            reduction="mean",
        )


def _selftest():
    torch.manual_seed(0)
    m = Decoder(vocab=11, width=8, heads=2, layers=2, max_positions=6)
    names = [n for n, _ in m.named_parameters()]
    assert sorted(names) == sorted(m.param_names()), names
    shapes = {n: tuple(p.shape) for n, p in m.named_parameters()}
    assert shapes["model.decoder.layers.1.fc1.weight"] == (32, 8)
    assert shapes["model.decoder.layers.1.fc2.weight"] == (8, 32)
    assert shapes["model.decoder.embed_positions.weight"] == (6, 8)
    assert not any("bias" in n for n in names)

    # causality: changing a later token leaves earlier logits alone
    m.init_normal(0.5)
    ids = torch.randint(0, 11, (2, 6))
    l1 = m(ids)
    ids2 = ids.clone()
    ids2[:, 4] = (ids2[:, 4] + 1) % 11
    l2 = m(ids2)
    assert torch.equal(l1[:, :4], l2[:, :4])
    assert not torch.equal(l1[:, 4:], l2[:, 4:])

    # independent re-derivation of one layer-free piece: final LN + tied head
    m0 = Decoder(vocab=11, width=8, heads=2, layers=0, max_positions=6).init_normal(0.5)
    x = m0.model.decoder.embed_tokens.weight[ids] + m0.model.decoder.embed_positions.weight[:6]
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    ref = ((x - mu) / torch.sqrt(var + 1e-5)) @ m0.model.decoder.embed_tokens.weight.T
    assert torch.allclose(m0(ids), ref, atol=1e-5)

    # float64 finite-difference check of forward + loss through every parameter
    m64 = Decoder(vocab=7, width=4, heads=2, layers=1, max_positions=3).double()
    m64.init_normal(0.5)
    ids = torch.tensor([[1, 5, 2]])
    tg = torch.tensor([[5, -100, 3]])
    plist = [p for _, p in m64.params()]

    # central finite differences on a sample of entries of every parameter
    loss = m64.loss(m64(ids), tg)
    grads = torch.autograd.grad(loss, plist)
    eps = 1e-6
    for p, g in zip(plist, grads):
        flat = p.data.view(-1)
        for j in range(0, flat.numel(), max(1, flat.numel() // 5)):
            old = flat[j].item()
            flat[j] = old + eps
            lp = m64.loss(m64(ids), tg).item()
            flat[j] = old - eps
            lm = m64.loss(m64(ids), tg).item()
            flat[j] = old
            fd = (lp - lm) / (2 * eps)
            assert math.isclose(fd, g.view(-1)[j].item(), rel_tol=1e-5, abs_tol=1e-8), (
                fd,
                g.view(-1)[j].item(),
            )
    print("decoder.py self-test ok")


if __name__ == "__main__":
    _selftest()
