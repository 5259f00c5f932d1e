#!/usr/bin/env bash
# The main job on a fresh machine: embed pictures and captions with the
# built-in default model into its one shared space, and match them.
set -euo pipefail
cd "$(dirname "$0")/.."

metatx=.build/release/metatx
mkdir -p data/demo
python3 Scripts/make_demo_images.py data/demo
captions=(
  "a photo of a t-shirt" "a photo of a pair of trousers" "a photo of a pullover" "a photo of a dress"
  "a photo of a coat" "a photo of a sandal" "a photo of a shirt" "a photo of a sneaker" "a photo of a bag"
  "a photo of an ankle boot"
)
printf '%s\n' "${captions[@]}" > data/demo/captions.txt
"$metatx" embed --modality image data/demo/trousers.png data/demo/bag.png > data/demo/images.jsonl
"$metatx" embed --modality text data/demo/captions.txt > data/demo/captions.jsonl
python3 - <<'PY'
import json
images = [json.loads(line) for line in open("data/demo/images.jsonl")]
captions = [json.loads(line) for line in open("data/demo/captions.jsonl")]
texts = open("data/demo/captions.txt").read().splitlines()
print(f"{len(images)} pictures and {len(captions)} captions embedded into one {len(images[0]['embedding'])}-wide space")
for image in images:
    scores = sorted(((sum(a * b for a, b in zip(image["embedding"], c["embedding"])), t)
                     for c, t in zip(captions, texts)), reverse=True)
    best = ", ".join(f"{text} ({score:.2f})" for score, text in scores[:3])
    print(f"{image['id']}: {best}")
PY
