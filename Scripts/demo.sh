#!/usr/bin/env bash
# The main job on a fresh machine: embed token sequences with the shared encoder
# and show how close the embeddings are. Until the pretrained default model
# lands, the encoder is the seeded random tiny preset.
set -euo pipefail
cd "$(dirname "$0")/.."

metatx=.build/release/metatx
mkdir -p data/demo
python3 Scripts/make_demo_tokens.py data/demo/tokens.npy 0
"$metatx" embed --modality tokens --encoder random:tiny --seed 0 --pool mean --verbose \
  data/demo/tokens.npy -o data/demo/embeddings.npy
python3 - <<'PY'
import struct
with open("data/demo/embeddings.npy", "rb") as f:
    data = f.read()
header_length = struct.unpack("<H", data[8:10])[0]
values = struct.unpack("<%df" % ((len(data) - 10 - header_length) // 4), data[10 + header_length:])
dim = len(values) // 3
rows = [values[i * dim:(i + 1) * dim] for i in range(3)]
def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)
print(f"3 sequences of 16 tokens -> 3 embeddings of width {dim} (data/demo/embeddings.npy)")
print(f"cosine(sequence 0, sequence 0 + noise) = {cosine(rows[0], rows[1]):.4f}")
print(f"cosine(sequence 0, unrelated sequence) = {cosine(rows[0], rows[2]):.4f}")
PY
