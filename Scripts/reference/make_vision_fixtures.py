"""Golden values for the picture preprocessing and position resampling.

Writes Tests/MetaTXTests/Fixtures/vision_resampling.safetensors:
- `image` [H, W, 3] uint8 values (as float32) of a seeded random 13×9 RGB picture;
- `clip` [3, 6, 6]: CLIP's preprocessing of it at size 6 (torchvision
  Resize(6, BICUBIC) on the PIL image, CenterCrop(6), ToTensor, Normalize with
  CLIP's mean/std) — Pillow rounds to 8 bits after each resampling pass;
- `grid` [16, 8]: a seeded 4×4 grid of 8-channel positions and its resampling
  by timm.layers.resample_abs_pos_embed to 6×6 (`grid_up` [36, 8]) and 3×3
  (`grid_down` [9, 8]), no prefix tokens.

Run with a Python that has numpy, Pillow, torch, timm and safetensors:
    /tmp/refvenv/bin/python Scripts/reference/make_vision_fixtures.py
"""
import os
import sys

import numpy as np
from PIL import Image
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_env import import_timm, import_torch  # noqa: E402

torch = import_torch()
import_timm()
from timm.layers import resample_abs_pos_embed  # noqa: E402

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float64)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float64)

rng = np.random.default_rng(20230721)
image = rng.integers(0, 256, size=(13, 9, 3), dtype=np.uint8)  # H=13, W=9

# torchvision Resize(6): shorter side (W=9) → 6, longer int(6 * 13 / 9) = 8.
size = 6
h, w = image.shape[:2]
new_w, new_h = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.BICUBIC), dtype=np.float64)
top = int(round((new_h - size) / 2.0))
left = int(round((new_w - size) / 2.0))
crop = resized[top:top + size, left:left + size] / 255.0
clip = ((crop - MEAN) / STD).transpose(2, 0, 1)

grid = rng.standard_normal((1, 16, 8)).astype(np.float32)
up = resample_abs_pos_embed(torch.from_numpy(grid), new_size=(6, 6), old_size=(4, 4), num_prefix_tokens=0)
down = resample_abs_pos_embed(torch.from_numpy(grid), new_size=(3, 3), old_size=(4, 4), num_prefix_tokens=0)

save_file(
    {
        "image": image.astype(np.float32),
        "clip": np.ascontiguousarray(clip, dtype=np.float32),
        "grid": grid[0],
        "grid_up": up[0].numpy().astype(np.float32),
        "grid_down": down[0].numpy().astype(np.float32),
    },
    "Tests/MetaTXTests/Fixtures/vision_resampling.safetensors",
)
print("clip", clip.shape, "up", tuple(up.shape), "down", tuple(down.shape))
