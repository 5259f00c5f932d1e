#!/usr/bin/env python3
"""Golden values for the fixed preprocessing of the tabular, time-series and
hyperspectral tokenizers, from the reference implementations they follow.

Writes Tests/MetaTXTests/Fixtures/structured_preprocessing.safetensors
(override with --out):

  timeseries.input          F32 [37, 2]   a two-channel series
  timeseries.normalised     F64 [37, 2]   RevIN without affine, as PatchTST's
                                          RevIN.forward(mode="norm"): mean and
                                          biased variance over time, eps 1e-5,
                                          (x - mean) / sqrt(var + eps)
  timeseries.patches        F64 [2, 4, 16] PatchTST's backbone patching of the
                                          normalised series: ReplicationPad1d((0, 8))
                                          then unfold(-1, size=16, step=8)
  hyperspectral.cube        F32 [4, 5, 3] a cube [H, W, B]
  hyperspectral.neighbourhoods F64 [20, 3, 5, 5] per pixel (row-major), per band,
                                          the 5x5 window of
                                          np.pad(cube, 2, mode="reflect") (spatial axes)
  tabular.column            F32 [11]      a numeric column
  tabular.quantiles         F64 [3]       np.percentile(column, [25, 50, 75])

Inputs are drawn in float32 from a fixed-seed np.random.RandomState; the
outputs are computed in float64 from those exact values. torch is used for the
patching when importable (the numpy path is the same index arithmetic and is
cross-checked against it); the output is byte-identical on rerun.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save  # noqa: E402


def revin_normalise(x, eps=1e-5):
    """PatchTST RevIN._get_statistics + _normalize (affine off), x [T, C]."""
    mean = x.mean(axis=0, keepdims=True)
    std = np.sqrt(x.var(axis=0, keepdims=True) + eps)
    return (x - mean) / std


def patchtst_patches_numpy(x, patch_len=16, stride=8):
    """[T, C] -> [C, N, patch_len]: replicate the last value `stride` times, then unfold."""
    padded = np.concatenate([x, np.repeat(x[-1:], stride, axis=0)], axis=0).T
    count = (padded.shape[1] - patch_len) // stride + 1
    return np.stack([padded[:, n * stride:n * stride + patch_len] for n in range(count)], axis=1)


def patchtst_patches_torch(x, patch_len=16, stride=8):
    import torch

    z = torch.from_numpy(x).T.unsqueeze(0)  # [1, C, T], as PatchTST_backbone after permute
    z = torch.nn.ReplicationPad1d((0, stride))(z)
    return z.unfold(dimension=-1, size=patch_len, step=stride)[0].numpy()


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(root, "Tests/MetaTXTests/Fixtures/structured_preprocessing.safetensors"))
    args = parser.parse_args()
    rng = np.random.RandomState(20231)

    series = (rng.randn(37, 2) * [3.0, 0.5] + [10.0, -2.0]).astype(np.float32)
    normalised = revin_normalise(series.astype(np.float64))
    patches = patchtst_patches_numpy(normalised)
    try:
        reference = patchtst_patches_torch(normalised)
    except ImportError:
        print("torch not importable: PatchTST patching cross-check skipped", file=sys.stderr)
    else:
        if reference.shape != patches.shape or np.abs(reference - patches).max() > 0:
            sys.exit(f"numpy patching disagrees with torch: {reference.shape} vs {patches.shape}")

    cube = rng.randn(4, 5, 3).astype(np.float32)
    half = 2
    padded = np.pad(cube.astype(np.float64), ((half, half), (half, half), (0, 0)), mode="reflect")
    neighbourhoods = np.stack([
        padded[y:y + 2 * half + 1, x:x + 2 * half + 1, :].transpose(2, 0, 1)
        for y in range(cube.shape[0]) for x in range(cube.shape[1])
    ])

    column = np.array([7, 1, 3, 3, 12, -4, 5, 8, 100, 2, 6], dtype=np.float32)
    quantiles = np.percentile(column.astype(np.float64), [25, 50, 75])

    save(args.out, {
        "timeseries.input": series,
        "timeseries.normalised": normalised,
        "timeseries.patches": patches,
        "hyperspectral.cube": cube,
        "hyperspectral.neighbourhoods": neighbourhoods,
        "tabular.column": column,
        "tabular.quantiles": quantiles,
    })
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
