#!/usr/bin/env python3
"""Self-test for Scripts/convert_checkpoint.py on small synthetic checkpoints.

Saves depth-2 / dim-64 encoders with torch.save (plain, wrapped + prefixed,
float16), converts them, and checks that every output tensor equals the input
(as float32), that the metadata is right, that unknown keys are refused, and
that the hand-written safetensors fallback produces a file the official reader
accepts. Exits non-zero on any failure.
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import torch  # noqa: E402

import convert_checkpoint as cc  # noqa: E402
import safetensors_io  # noqa: E402
from torch_env import import_timm  # noqa: E402

DIM, DEPTH, HEADS = 64, 2, 4


def synthetic_state_dict():
    torch.manual_seed(0)
    timm = import_timm()
    if timm is not None:
        import functools
        from timm.models.vision_transformer import Block
        enc = torch.nn.Sequential(*[
            Block(dim=DIM, num_heads=HEADS, mlp_ratio=4.0, qkv_bias=True,
                  norm_layer=functools.partial(torch.nn.LayerNorm, eps=1e-5), act_layer=torch.nn.GELU)
            for _ in range(DEPTH)])
        sd = enc.state_dict()
        for v in sd.values():  # LayerNorm params are 1/0 at init: make them non-trivial
            v.add_(0.05 * torch.randn_like(v))
        return {k: v.clone() for k, v in sd.items()}, "timm"
    h = 4 * DIM
    shapes = {"norm1.weight": (DIM,), "norm1.bias": (DIM,), "attn.qkv.weight": (3 * DIM, DIM),
              "attn.qkv.bias": (3 * DIM,), "attn.proj.weight": (DIM, DIM), "attn.proj.bias": (DIM,),
              "norm2.weight": (DIM,), "norm2.bias": (DIM,), "mlp.fc1.weight": (h, DIM),
              "mlp.fc1.bias": (h,), "mlp.fc2.weight": (DIM, h), "mlp.fc2.bias": (DIM,)}
    return {f"{i}.{n}": torch.randn(s) for i in range(DEPTH) for n, s in shapes.items()}, "random"


def main():
    failures = []

    def expect(cond, what):
        print(f"  {'ok  ' if cond else 'FAIL'} {what}")
        if not cond:
            failures.append(what)

    sd, origin = synthetic_state_dict()
    print(f"synthetic checkpoint from {origin}: {len(sd)} tensors")
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "plain": sd,
            "wrapped+prefixed": {"state_dict": {f"module.blocks.{k}": v for k, v in sd.items()}, "epoch": 3},
            "float16": {k: v.half() for k, v in sd.items()},
        }
        for label, obj in cases.items():
            src = os.path.join(tmp, f"{label}.pth")
            dst = os.path.join(tmp, f"{label}.safetensors")
            torch.save(obj, src)
            rc = cc.main([src, dst])
            expect(rc == 0, f"{label}: exit status 0")
            tensors, meta = safetensors_io.load(dst)
            want = {k: (v.half() if label == "float16" else v).float().numpy() for k, v in sd.items()}
            expect(set(tensors) == set(want), f"{label}: same key set")
            expect(all(tensors[k].dtype.name == "float32" and (tensors[k] == want[k]).all() for k in want),
                   f"{label}: every tensor equal to the input (F32)")
            expect(meta == {"format": "metatx-encoder", "heads": "1", "eps": "1e-5",
                            "source": f"{label}.pth"},
                   f"{label}: metadata {meta}")
            expect(not [f for f in os.listdir(tmp) if f.startswith(".convert-")], f"{label}: no temp file left")

        # --heads override
        dst = os.path.join(tmp, "heads.safetensors")
        expect(cc.main([os.path.join(tmp, "plain.pth"), dst, "--heads", str(HEADS)]) == 0, "--heads: exit 0")
        expect(safetensors_io.load(dst)[1]["heads"] == str(HEADS), "--heads recorded")

        # unknown keys are refused and nothing is written
        bad = dict(sd)
        bad["pos_embed"] = torch.zeros(1, 10, DIM)
        bad["0.ls1.gamma"] = torch.ones(DIM)
        src, dst = os.path.join(tmp, "bad.pth"), os.path.join(tmp, "bad.safetensors")
        torch.save(bad, src)
        expect(cc.main([src, dst]) == 2 and not os.path.exists(dst), "unknown keys refused, no output")

        # a missing parameter is refused
        partial = {k: v for k, v in sd.items() if k != "1.mlp.fc2.bias"}
        torch.save(partial, src)
        expect(cc.main([src, dst]) == 2 and not os.path.exists(dst), "missing parameter refused")

        # hand-written fallback when the safetensors package is absent
        saved = {m: sys.modules.get(m) for m in ("safetensors", "safetensors.torch")}
        sys.modules["safetensors.torch"] = None  # makes `from safetensors.torch import ...` raise ImportError
        try:
            dst = os.path.join(tmp, "byhand.safetensors")
            expect(cc.main([os.path.join(tmp, "plain.pth"), dst]) == 0, "fallback writer: exit 0")
        finally:
            for m, mod in saved.items():
                if mod is None:
                    sys.modules.pop(m, None)
                else:
                    sys.modules[m] = mod
        try:
            from safetensors.torch import load_file
            back = load_file(dst)
            expect(all(torch.equal(back[k], sd[k]) for k in sd), "fallback file read by safetensors, equal")
        except ImportError:
            pass
    print("convert_checkpoint self-test:", "FAILED" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
