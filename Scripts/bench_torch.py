#!/usr/bin/env python3
"""PyTorch peer benchmark for the metatx encoder.

    python Scripts/bench_torch.py --presets tiny,small,base --tokens 197 --batches 1,8 \
        --train-presets tiny,small --train-batch 8 --threads 4 --repeats 5 [--json]

Builds a stack of 12 timm ViT `Block`s per preset (float32, qkv_bias=True,
mlp_ratio 4, nn.LayerNorm eps 1e-5 and exact GELU as in the Meta-Transformer
README) and times

  forward     the encoder on [batch, tokens, dim] under torch.inference_mode()
  train_step  forward, loss = (y * dy).sum(), backward, AdamW step, zero_grad

Each measurement is the median wall time of --repeats runs after --warmup
untimed runs. sequences_per_second = batch / seconds_median.

With --json, one JSON object per line:
  {"preset", "batch", "kind": "forward"|"train_step", "seconds_median",
   "sequences_per_second", plus context fields (tokens, dim, depth, heads,
   threads, repeats, impl, torch)}
otherwise a readable table.

If timm cannot be imported, an equivalent plain-torch Block (same math, using
scaled_dot_product_attention like timm's fused path) is used and reported as
impl "torch-fallback".
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "reference"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from torch_env import import_timm  # noqa: E402

# name: (dim, depth, heads)
PRESETS = {"tiny": (192, 12, 3), "small": (384, 12, 6), "base": (768, 12, 12), "large": (1024, 24, 16)}


class FallbackBlock(nn.Module):
    """Same computation and parameter names as timm's vision_transformer.Block."""

    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.attn.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
        self.mlp.fc2 = nn.Linear(int(dim * mlp_ratio), dim)

    def forward(self, x):
        B, N, D = x.shape
        q, k, v = self.attn.qkv(self.norm1(x)).reshape(B, N, 3, self.heads, D // self.heads) \
            .permute(2, 0, 3, 1, 4).unbind(0)
        o = F.scaled_dot_product_attention(q, k, v)
        x = x + self.attn.proj(o.transpose(1, 2).reshape(B, N, D))
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


def build_encoder(dim, depth, heads):
    timm = import_timm()
    if timm is not None:
        from timm.models.vision_transformer import Block
        blocks = [Block(dim=dim, num_heads=heads, mlp_ratio=4.0, qkv_bias=True,
                        norm_layer=nn.LayerNorm, act_layer=nn.GELU) for _ in range(depth)]
        impl = f"timm-{timm.__version__}"
    else:
        blocks = [FallbackBlock(dim, heads) for _ in range(depth)]
        impl = "torch-fallback"
    return nn.Sequential(*blocks).float(), impl


def time_it(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_forward(model, batch, tokens, dim, warmup, repeats):
    model.eval()
    x = torch.randn(batch, tokens, dim)

    def run():
        with torch.inference_mode():
            model(x)
    return time_it(run, warmup, repeats)


def bench_train_step(model, batch, tokens, dim, warmup, repeats):
    model.train()  # no dropout / drop-path in these blocks, so train == eval numerically
    x = torch.randn(batch, tokens, dim)
    dy = torch.randn(batch, tokens, dim)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)

    def run():
        y = model(x)
        loss = (y * dy).sum()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return time_it(run, warmup, repeats)


def parse_list(s, conv=str):
    return [conv(v) for v in s.split(",") if v.strip()] if s else []


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch peer benchmark for the metatx encoder")
    ap.add_argument("--presets", default="tiny,small,base", help="forward presets (%s)" % ",".join(PRESETS))
    ap.add_argument("--tokens", type=int, default=197)
    ap.add_argument("--batches", default="1,8", help="forward batch sizes")
    ap.add_argument("--train-presets", default="tiny,small", help="presets for train_step ('' = none)")
    ap.add_argument("--train-batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args(argv)

    presets = parse_list(args.presets)
    train_presets = parse_list(args.train_presets)
    for p in presets + train_presets:
        if p not in PRESETS:
            ap.error(f"unknown preset {p!r}; choose from {', '.join(PRESETS)}")
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)  # only possible before any parallel work
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)

    jobs = [(p, b, "forward") for p in presets for b in parse_list(args.batches, int)]
    jobs += [(p, args.train_batch, "train_step") for p in train_presets]

    if not args.json:
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, tokens {args.tokens}, "
              f"median of {args.repeats} after {args.warmup} warm-up")
        print(f"{'preset':<8}{'kind':<12}{'batch':>6}{'seconds':>12}{'seq/s':>12}")
    models = {}
    for preset, batch, kind in jobs:
        dim, depth, heads = PRESETS[preset]
        if preset not in models:
            models[preset] = build_encoder(dim, depth, heads)
        model, impl = models[preset]
        fn = bench_forward if kind == "forward" else bench_train_step
        secs = fn(model, batch, args.tokens, dim, args.warmup, args.repeats)
        rec = {"preset": preset, "batch": batch, "kind": kind, "seconds_median": secs,
               "sequences_per_second": batch / secs, "tokens": args.tokens, "dim": dim,
               "depth": depth, "heads": heads, "threads": torch.get_num_threads(),
               "repeats": args.repeats, "impl": impl, "torch": torch.__version__}
        if args.json:
            print(json.dumps(rec), flush=True)
        else:
            print(f"{preset:<8}{kind:<12}{batch:>6}{secs:>12.4f}{batch / secs:>12.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
