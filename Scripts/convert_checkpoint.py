#!/usr/bin/env python3
"""Convert a released Meta-Transformer encoder checkpoint to metatx safetensors.

    python Scripts/convert_checkpoint.py IN.pth OUT.safetensors [--heads 12] [--eps 1e-5]

The released `Meta-Transformer_{base_patch16,large_patch14}_encoder.pth` files
are plain state dicts of the encoder built in the upstream README as

    nn.Sequential(*[timm Block(dim=768, num_heads=12, mlp_ratio=4., qkv_bias=True,
                               norm_layer=nn.LayerNorm, act_layer=nn.GELU)
                    for _ in range(12)])

(large: dim=1024, num_heads=16, 24 blocks), so keys look like
`0.norm1.weight`, `0.attn.qkv.weight`, ... `11.mlp.fc2.bias`. Note
`norm_layer=nn.LayerNorm`, i.e. torch's default eps = 1e-5 (timm's own
LayerNorm default would be 1e-6). The eps is not stored in the checkpoint; it
is recorded in the output metadata.

The output keeps exactly that layout (no prefix), every tensor as F32, with
`__metadata__` = {"format": "metatx-encoder", "heads": H, "eps": EPS,
"source": basename(IN)}. Common wrapper prefixes (`module.`, `encoder.`,
`blocks.`, in any nesting) are stripped; any other key is refused. The file is
written to a temporary name next to OUT and renamed into place.

Needs torch; uses the `safetensors` package when installed, otherwise writes the
(simple) safetensors format by hand.
"""
import argparse
import json
import os
import re
import struct
import sys
import tempfile

BLOCK_PARAMS = (
    "norm1.weight", "norm1.bias",
    "attn.qkv.weight", "attn.qkv.bias",
    "attn.proj.weight", "attn.proj.bias",
    "norm2.weight", "norm2.bias",
    "mlp.fc1.weight", "mlp.fc1.bias",
    "mlp.fc2.weight", "mlp.fc2.bias",
)
STRIP_PREFIXES = ("module.", "encoder.", "blocks.")
KEY_RE = re.compile(r"^(\d+)\.(" + "|".join(re.escape(p) for p in BLOCK_PARAMS) + r")$")


class ConversionError(Exception):
    pass


def load_state_dict(path, unsafe=False):
    import torch
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not unsafe)
    except Exception as e:  # noqa: BLE001
        if unsafe:
            raise
        raise ConversionError(
            f"could not load {path} with weights_only=True ({type(e).__name__}: {e}).\n"
            "If you trust the file, rerun with --unsafe-load.") from e
    # Accept the common training-checkpoint wrappers around a state dict.
    for wrapper in ("state_dict", "model", "module"):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ConversionError(f"{path} does not contain a state dict of tensors")
    return obj


def strip_prefix(key):
    changed = True
    while changed:
        changed = False
        for p in STRIP_PREFIXES:
            if key.startswith(p):
                key, changed = key[len(p):], True
    return key


def normalise(state):
    """Map raw keys to the official layout and validate names and shapes."""
    out, unknown = {}, []
    for raw, tensor in state.items():
        key = strip_prefix(raw)
        if not KEY_RE.match(key):
            unknown.append(raw)
            continue
        if key in out:
            raise ConversionError(f"duplicate parameter {key!r} (from {raw!r})")
        out[key] = tensor
    if unknown:
        shown = "\n  ".join(sorted(unknown)[:20])
        more = f"\n  ... and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        raise ConversionError(
            f"{len(unknown)} unknown key(s); expected only '<i>.<param>' for a stack of timm ViT "
            f"Blocks (params: {', '.join(BLOCK_PARAMS)}), optionally prefixed by "
            f"{', '.join(STRIP_PREFIXES)}:\n  {shown}{more}")
    if not out:
        raise ConversionError("checkpoint contains no encoder parameters")

    depth = 1 + max(int(k.split(".", 1)[0]) for k in out)
    missing = [f"{i}.{p}" for i in range(depth) for p in BLOCK_PARAMS if f"{i}.{p}" not in out]
    if missing:
        raise ConversionError(f"missing {len(missing)} parameter(s), e.g. {missing[:5]}")

    dim = out["0.norm1.weight"].shape[0]
    hidden = out["0.mlp.fc1.weight"].shape[0]
    expect = {
        "norm1.weight": (dim,), "norm1.bias": (dim,),
        "attn.qkv.weight": (3 * dim, dim), "attn.qkv.bias": (3 * dim,),
        "attn.proj.weight": (dim, dim), "attn.proj.bias": (dim,),
        "norm2.weight": (dim,), "norm2.bias": (dim,),
        "mlp.fc1.weight": (hidden, dim), "mlp.fc1.bias": (hidden,),
        "mlp.fc2.weight": (dim, hidden), "mlp.fc2.bias": (dim,),
    }
    for key, t in out.items():
        want = expect[key.split(".", 1)[1]]
        if tuple(t.shape) != want:
            raise ConversionError(f"{key}: shape {tuple(t.shape)}, expected {want} (dim {dim}, mlp {hidden})")
        if not t.is_floating_point():
            raise ConversionError(f"{key}: dtype {t.dtype} is not floating point")
    return out, depth, dim, hidden


def _serialize_by_hand(tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * ((-len(hjson)) % 8)
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs)


def write_atomic(out_path, tensors, metadata):
    directory = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".convert-", suffix=".safetensors.tmp", dir=directory)
    os.close(fd)
    try:
        try:
            from safetensors.torch import save_file
            save_file(tensors, tmp, metadata=metadata)
        except ImportError:
            with open(tmp, "wb") as f:
                f.write(_serialize_by_hand(tensors, metadata))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def format_eps(eps):
    """1e-05 -> '1e-5' (same spelling as the test fixtures); plain floats unchanged."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(float(eps))).replace("e+", "e")


def convert(in_path, out_path, heads=None, eps=1e-5, unsafe=False):
    import torch
    state = load_state_dict(in_path, unsafe)
    params, depth, dim, hidden = normalise(state)
    if heads is None:
        if dim % 64:
            raise ConversionError(f"dim {dim} is not a multiple of 64; pass --heads explicitly")
        heads = dim // 64
    if heads <= 0 or dim % heads:
        raise ConversionError(f"dim {dim} is not divisible by heads {heads}")
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in params.items()}
    metadata = {"format": "metatx-encoder", "heads": str(heads), "eps": format_eps(eps),
                "source": os.path.basename(in_path)}
    write_atomic(out_path, tensors, metadata)
    return depth, dim, heads, hidden


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert a Meta-Transformer encoder .pth to metatx safetensors.")
    ap.add_argument("input", help="checkpoint (.pth / .pt state dict)")
    ap.add_argument("output", help="output .safetensors path")
    ap.add_argument("--heads", type=int, default=None, help="attention heads (default: dim / 64)")
    ap.add_argument("--eps", type=float, default=1e-5,
                    help="LayerNorm eps to record (default 1e-5: the upstream README uses nn.LayerNorm)")
    ap.add_argument("--unsafe-load", action="store_true",
                    help="allow torch.load(weights_only=False) for checkpoints holding non-tensor objects")
    args = ap.parse_args(argv)
    try:
        depth, dim, heads, hidden = convert(args.input, args.output, args.heads, args.eps, args.unsafe_load)
    except ConversionError as e:
        print(f"convert_checkpoint: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: depth {depth}, dim {dim}, heads {heads}, mlp hidden {hidden}, eps {args.eps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
