#!/usr/bin/env bash
# How the default model's configuration was chosen (`make model-search`):
# trains the recipe of Scripts/model.sh and variants of it, each changing one
# thing, for the same short budget, and compares their zero-shot accuracy on
# training data held out for the search (every fifth Fashion-MNIST training
# image; the voices of one training accent; see
# Scripts/model_search/search_split.py). The test splits, on which README.md
# reports the shipped model, are never used here.
#
#   Scripts/model_search.sh                       # every variant, 2 epochs each
#   VARIANTS=recipe,lr-1e-3 EPOCHS=1 Scripts/model_search.sh
#
# Options (environment): VARIANTS (comma-separated names from the table
# below; default all), EPOCHS (default 2), THREADS (--threads of each run),
# REUSE=1 (keep a variant's model trained before with the same epochs, flags
# and threads, as its NAME.run record says; only evaluate it again).
# Writes data/model-search/NAME.safetensors, its log and zero-shot JSONs, and
# the table data/model-search.md (printed too). Expects data/pairs (make model
# builds it) and the release binary.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
search="$root/data/model-search"

# name          pretrain flags changed from the recipe (patch-4 was the recipe
#               until this search measured 7×7 patches better)
variant_table="
recipe
lr-1e-3         --lr 1e-3
batch-128       --batch-size 128
patch-4         --set image.patchSize=4
cls-mean-pool   --pool cls+mean
"

declare -A flags_of
all_variants=()
while read -r name flags; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  flags_of[$name]="$flags"
  all_variants+=("$name")
done <<<"$variant_table"

if [ -n "${VARIANTS:-}" ]; then IFS=', ' read -r -a variants <<<"$VARIANTS"; else variants=("${all_variants[@]}"); fi
for name in "${variants[@]}"; do
  [ -n "${flags_of[$name]+set}" ] || { echo "model-search: unknown variant $name; known: ${all_variants[*]}" >&2; exit 2; }
done
epochs="${EPOCHS:-2}"
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
[ -f data/pairs/merges.txt ] || { echo "model-search: data/pairs is missing; run make model (or its first three steps)" >&2; exit 2; }

python3 Scripts/model_search/search_split.py data/pairs "$search"
cp data/pairs/merges.txt "$search/merges.txt"
results="$search/results.tsv"
printf 'variant\tflags\tseconds\timage_top1\taudio_top1\n' >"$results"
for name in "${variants[@]}"; do
  read -r -a extra <<<"${flags_of[$name]}"
  echo "model-search: $name (${flags_of[$name]:-the recipe}), $epochs epochs" >&2
  # The recipe itself is part of a run's identity: a model trained before the
  # recipe changed is never reused.
  identity="epochs $epochs; threads ${THREADS:-all}; recipe $(sha256sum Scripts/model.sh | cut -c1-16); flags ${flags_of[$name]}"
  record="$search/$name.run"
  evaluate=()
  if [ "${REUSE:-0}" = 1 ] && [ -f "$search/$name.safetensors" ] && [ -f "$record" ] \
    && [ "$(head -n 1 "$record")" = "$identity" ]; then
    evaluate=(--evaluate-only)
    echo "model-search: $name: reusing $search/$name.safetensors" >&2
  fi
  Scripts/model.sh --pairs "$search" --epochs "$epochs" -o "$search/$name.safetensors" "${threads[@]}" \
    "${evaluate[@]}" --zero-shot-images image-zero-shot.csv --zero-shot-audio audio-zero-shot.csv -- "${extra[@]}" \
    2>>"$search/$name.log"
  [ ${#evaluate[@]} -gt 0 ] || echo "$identity" >"$record"
  # Training time: the epochs' own seconds from the training log.
  seconds=$(python3 -c 'import json, sys; print("%.0f" % sum(json.loads(line)["seconds"] for line in open(sys.argv[1]) if line.strip()))' \
    "$search/$name-training-log.jsonl")
  top1() { python3 -c 'import json, sys; print("%.4f" % json.load(open(sys.argv[1]))["accuracy"])' "$1"; }
  image=$(top1 "$search/$name-zero-shot-images.json")
  audio=$(top1 "$search/$name-zero-shot-audio.json")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "${flags_of[$name]}" "$seconds" "$image" "$audio" >>"$results"
  echo "model-search: $name: zero-shot images $image, audio $audio ($seconds s)" >&2
done

{
  echo "# Model search: the default model's recipe and one-change variants"
  echo
  echo "$epochs epochs each; zero-shot top-1 on search-held-out training data (1000 Fashion-MNIST images, 10 classes; 220 clips of the en-gb-x-rp voices); chance 0.10."
  echo
  echo "| variant | change | training s | images top-1 | audio top-1 |"
  echo "|---|---|---|---|---|"
  # awk, not `read`: an empty flags field (the recipe) must stay a field.
  awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s |\n", $1, ($2 == "" ? "(the recipe of Scripts/model.sh)" : $2), $3, $4, $5 }' "$results"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores; .build/release/metatx at commit $(git describe --always --dirty 2>/dev/null || echo unknown)."
} >"$root/data/model-search.md"
cat "$root/data/model-search.md"
