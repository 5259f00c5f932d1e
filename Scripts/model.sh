#!/usr/bin/env bash
# The recipe of the built-in default model (`make model`), in one place so that
# the model search (Scripts/model_search.sh) trains exactly it with one change.
#
#   Scripts/model.sh                       # Models/default.safetensors, as make model
#   Scripts/model.sh --pairs data/model-search --epochs 2 -o /tmp/m.safetensors -- --lr 1e-3
#
# Options: --pairs DIR (the pair manifests image-text.csv and audio-text.csv
# and the BPE merges.txt; default data/pairs), --epochs N (default 6), -o FILE
# (default Models/default.safetensors; its training log goes beside it as
# NAME-training-log.jsonl), --threads N, --zero-shot-images CSV and
# --zero-shot-audio CSV (held-out manifests under --pairs, evaluated after
# training into NAME-zero-shot-images.json / NAME-zero-shot-audio.json with
# the prompt templates below), --retrieval CSV (repeatable: a pair manifest
# under --pairs, evaluated into NAME-retrieval-<CSV name>.json),
# --evaluate-only (no training: evaluates the existing -o FILE); after `--`, pretrain flags that
# override or add to the recipe's (the last value of an option wins; --set
# settings apply in order). Run from anywhere; expects data/pairs built (make
# model builds it) and the release binary.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pairs="$root/data/pairs"
epochs=6
output="$root/Models/default.safetensors"
threads=()
zero_shot_images=""
zero_shot_audio=""
retrievals=()
train=1
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs="$(cd "$2" && pwd)"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    -o) output="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --threads) threads=(--threads "$2"); shift 2 ;;
    --zero-shot-images) zero_shot_images="$2"; shift 2 ;;
    --zero-shot-audio) zero_shot_audio="$2"; shift 2 ;;
    --retrieval) retrievals+=("$2"); shift 2 ;;
    --evaluate-only) train=0; shift ;;
    --) shift; break ;;
    *) echo "model: unknown argument $1 (pretrain flags go after --)" >&2; exit 2 ;;
  esac
done
[[ "$epochs" =~ ^[1-9][0-9]*$ ]] || { echo "model: --epochs needs a positive whole number, got $epochs" >&2; exit 2; }
log="${output%.safetensors}-training-log.jsonl"
metatx="$root/.build/release/metatx"
[ -x "$metatx" ] || { echo "model: $metatx is missing; run make build first" >&2; exit 2; }
[ -f "$pairs/merges.txt" ] || { echo "model: $pairs/merges.txt is missing; make model builds it" >&2; exit 2; }

# The recipe: the tiny preset (dim 192, 12 blocks), a 128-wide shared space;
# Fashion-MNIST as 28×28 gray in 7×7 patches (16 tokens; make model-search
# measured them above 4×4 patches on both held-out zero-shot tasks), audio as
# 128 fbank frames; batch 64, AdamW lr 5e-4 with 200 warm-up steps then cosine.
cd "$pairs"
if [ "$train" = 1 ]; then
  "$metatx" pretrain --verbose "${threads[@]}" --seed 0 \
    --pairs image-text.csv --pairs audio-text.csv --preset tiny --embed-dim 128 --bpe merges.txt \
    --set image.imageSize=28 --set image.patchSize=7 --set image.channels=1 \
    --set 'image.mean=[0.286]' --set 'image.std=[0.353]' --set audio.frames=128 \
    --epochs "$epochs" --batch-size 64 --lr 5e-4 --warmup 200 \
    --log "$log" -o "$output" "$@"
elif [ ! -f "$output" ]; then
  echo "model: --evaluate-only needs the model $output" >&2
  exit 2
fi

# Zero-shot classification: each class's prompt embeddings averaged over these templates.
stem="${output%.safetensors}"
if [ -n "$zero_shot_images" ]; then
  "$metatx" eval "${threads[@]}" --model "$output" --json --zero-shot "$zero_shot_images" --inputs image \
    --classes "a photo of {}" --classes "{}" --classes "a black and white photo of {}" >"$stem-zero-shot-images.json.tmp"
  mv "$stem-zero-shot-images.json.tmp" "$stem-zero-shot-images.json"
fi
if [ -n "$zero_shot_audio" ]; then
  "$metatx" eval "${threads[@]}" --model "$output" --json --zero-shot "$zero_shot_audio" --inputs audio \
    --classes "{}" --classes "the word {}" --classes "someone saying {}" >"$stem-zero-shot-audio.json.tmp"
  mv "$stem-zero-shot-audio.json.tmp" "$stem-zero-shot-audio.json"
fi
for pairs_file in "${retrievals[@]}"; do
  result="$stem-retrieval-$(basename "${pairs_file%.csv}").json"
  "$metatx" eval "${threads[@]}" --model "$output" --json --retrieval "$pairs_file" >"$result.tmp"
  mv "$result.tmp" "$result"
done
