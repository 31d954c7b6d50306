"""PyTorch peer of `webgpu-bench.js vq`: one training step of the image tokenizer at the shipped
architecture (models/image-tokenizer/config.json), f32, TF32 off, AdamW, L1 loss:
the decoder alone from looked-up codes, or encoder + decoder on the continuous latent (--full).
Same layers as src/tokenizers/vq/: GroupNorm(eps 1e-6), SiLU, 3x3 convs, nearest upsampling then a
conv, stride-2 conv downsampling, 1x1 conv out of the encoder.

  python3 bench/gpu/torch_vq_peer.py            -> one JSON line per (batch, full) on stdout
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(groups, c, eps=1e-6), nn.Conv2d(c, c, 3, padding=1)
        self.n2, self.c2 = nn.GroupNorm(groups, c, eps=1e-6), nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.n2(self.c1(F.silu(self.n1(x))))))


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def encoder(cfg):
    ch, g, last = cfg["channels"], cfg["groups"], len(cfg["channels"]) - 1
    layers = [nn.Conv2d(3, ch[0], 3, padding=1)]
    for i, w in enumerate(ch):
        layers += [ResBlock(w, g) for _ in range(cfg["resBlocks"][i])]
        if i < last:
            layers.append(nn.Conv2d(w, ch[i + 1], 3, stride=2, padding=1))
    layers += [nn.GroupNorm(g, ch[last], eps=1e-6), nn.SiLU(), nn.Conv2d(ch[last], cfg["codeDim"], 1)]
    return nn.Sequential(*layers)


def decoder(cfg):
    ch, g, last = cfg["channels"], cfg["groups"], len(cfg["channels"]) - 1
    blocks = cfg.get("decoderResBlocks", cfg["resBlocks"])
    layers = [nn.Conv2d(cfg["codeDim"], ch[last], 3, padding=1)]
    for i in range(last, -1, -1):
        layers += [ResBlock(ch[i], g) for _ in range(blocks[i])]
        if i > 0:
            layers.append(Up(ch[i], ch[i - 1]))
    layers += [nn.GroupNorm(g, ch[0], eps=1e-6), nn.SiLU(), nn.Conv2d(ch[0], 3, 3, padding=1)]
    return nn.Sequential(*layers)


def bench(cfg, batch, full, steps=6):
    dev = torch.device("cuda")
    torch.manual_seed(1)
    enc, dec = encoder(cfg).to(dev), decoder(cfg).to(dev)
    codebook = F.normalize(torch.randn(cfg["codebookSize"], cfg["codeDim"], device=dev), dim=1)
    params = list(dec.parameters()) + (list(enc.parameters()) if full else [])
    opt = torch.optim.AdamW(params, lr=1e-4)
    s, g = cfg["imageSize"], cfg["imageSize"] // cfg["factor"]
    x = torch.rand(batch, 3, s, s, device=dev) * 2 - 1
    ids = torch.randint(0, cfg["codebookSize"], (batch, g, g), device=dev)
    times = []
    for i in range(steps + 2):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        z = enc(x) if full else codebook[ids].permute(0, 3, 1, 2)
        loss = (dec(z) - x).abs().mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    sec = statistics.median(times)
    return {"what": "vq-torch", "batch": batch, "full": full, "msPerStep": sec * 1000, "imagesPerSecond": batch / sec, "lastLoss": loss.item(),
            "torch": torch.__version__, "gpu": torch.cuda.get_device_name(0)}


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    cfg = json.load(open("models/image-tokenizer/config.json"))
    for batch in (16, 64, 256):
        for full in (False, True):
            try:
                print(json.dumps(bench(cfg, batch, full)), flush=True)
            except Exception as e:  # one failure costs one figure
                print(json.dumps({"what": "vq-torch", "batch": batch, "full": full, "error": str(e)}), flush=True)
                print(e, file=sys.stderr)


if __name__ == "__main__":
    main()
