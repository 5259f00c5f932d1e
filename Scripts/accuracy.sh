#!/usr/bin/env bash
# The reproducible accuracy table (`make accuracy`): for every dataset that
# Scripts/datasets.sh builds, train a task with fixed seeds in three settings
# and score it on the test split:
#
#   frozen  train-head, linear head, shared encoder frozen (tokenizer + head train)
#   tuned   the same with --tune-encoder (encoder learning rate = lr × 0.1)
#   ridge   train-head --head ridge: closed-form linear probe on frozen embeddings
#
# Model selection never sees the test split: each training manifest is split
# (seeded, stratified, VAL_FRACTION of every class) into data/NAME/train-fit.csv
# and data/NAME/train-val.csv; train-head trains on the first and keeps the
# best epoch on the second; test.csv is read once, by `metatx eval`, at the
# end. Ridge has nothing to select and trains on train-fit.csv too, so the
# three settings see the same rows.
#
#   Scripts/accuracy.sh                                   # every dataset, seed 0
#   DATASETS=iris,wine SEEDS="0 1 2" Scripts/accuracy.sh  # a subset, mean ± spread
#   ENCODER=mt-b16.safetensors EPOCHS=5 Scripts/accuracy.sh
#
# Options (environment variables; `make accuracy VAR=…` passes them on):
#   ENCODER       --encoder of train-head: random:PRESET or a safetensors file
#                 (default random:tiny, seeded by each run's seed, until the
#                 pretrained default model exists)
#   MODEL         a metatx model file (encoder + pretrained tokenizers) instead
#                 of ENCODER
#   DATASETS      comma-separated subset (default: all thirteen)
#   SEEDS         space- or comma-separated seeds (default 0)
#   EPOCHS        epochs for every modality (default: the table below)
#   THREADS       --threads of every metatx run (default: metatx's own)
#   VAL_FRACTION  share of each class held out for validation (default 0.2)
#   SPLIT_SEED    seed of the train/validation split (default 0; the same
#                 split for every run seed, so seeds vary only the model)
#   METATX        the binary (default .build/release/metatx)
#
# Writes data/accuracy.md (and prints it); each run's task file, eval JSON,
# per-epoch log (JSON lines) and messages go to data/accuracy-runs/NAME/, the run list to
# data/accuracy-runs/runs.tsv. Exits non-zero when any run failed (the table
# still shows the others and names the failures).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="$root/data"
runs_folder="$data/accuracy-runs"
metatx="${METATX:-$root/.build/release/metatx}"
encoder="${ENCODER:-random:tiny}"
model="${MODEL:-}"
seeds="${SEEDS:-0}"
seeds="${seeds//,/ }"
epochs_override="${EPOCHS:-}"
threads="${THREADS:-}"
val_fraction="${VAL_FRACTION:-0.2}"
split_seed="${SPLIT_SEED:-0}"

# Each dataset's modality (the --modality of train-head; Scripts/datasets/README.md
# has the layouts). Coffee's manifests name one-spectrum CSV files, which
# only --modality hyperspectral reads as spectra rather than as tables; the
# series are .npy files and the IMU recordings CSV files, so both need their
# modality named too.
dataset_table="
# dataset           modality
iris                tabular
wine                tabular
breast-cancer       tabular
digits              image
fashion-mnist       image
basic-motions       imu
gunpoint            timeseries
italy-power-demand  timeseries
fortunes            text
spoken-digits       audio
mutag               graph
primitives          pointcloud
coffee              hyperspectral
"

# Training defaults per modality.
# - pool: cls+mean where the tokenizer adds a summary token (cls, TokenGT's
#   graph token), so the head sees it and the token average; mean where it
#   adds none (PatchTST series patches, text, whose padding the mean skips).
# - epochs/patience: the small sets (tens to a few hundred rows, a few to a few
#   dozen tokens each) train long and cheaply; the large ones (images, audio,
#   point clouds, 8k fortunes) are where the time goes, so fewer epochs and an
#   earlier stop when validation stops improving.
# - lr: AdamW's 1e-3 for the head and tokenizer (tuned encoder: × 0.1).
# - batch: 16 where the training part has under ~150 rows, so an epoch still
#   takes several steps; 32 otherwise.
modality_table="
# modality       pool      epochs  lr     batch  patience
tabular          cls+mean  30      1e-3   16     8
image            cls+mean  10      1e-3   32     3
imu              cls+mean  30      1e-3   16     8
timeseries       mean      30      1e-3   16     8
text             mean      5       1e-3   32     2
audio            cls+mean  10      1e-3   32     3
graph            cls+mean  30      1e-3   16     8
pointcloud       cls+mean  10      1e-3   32     3
hyperspectral    cls+mean  30      1e-3   16     8
"

fail() {
  echo "accuracy: $1" >&2
  exit 2
}

declare -A modality_of pool_of epochs_of lr_of batch_of patience_of
all_datasets=()
while read -r name modality; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  modality_of[$name]=$modality
  all_datasets+=("$name")
done <<<"$dataset_table"
while read -r modality pool epochs lr batch patience; do
  [[ -z "$modality" || "$modality" == \#* ]] && continue
  pool_of[$modality]=$pool
  epochs_of[$modality]=$epochs
  lr_of[$modality]=$lr
  batch_of[$modality]=$batch
  patience_of[$modality]=$patience
done <<<"$modality_table"

if [ -n "${DATASETS:-}" ]; then
  IFS=', ' read -r -a datasets <<<"$DATASETS"
  for name in "${datasets[@]}"; do
    [ -n "${modality_of[$name]:-}" ] || fail "DATASETS names \"$name\"; known: ${all_datasets[*]}"
  done
else
  datasets=("${all_datasets[@]}")
fi
[ -n "$seeds" ] || fail "SEEDS is empty; give one or more whole numbers, e.g. SEEDS=\"0 1 2\""
for seed in $seeds; do
  [[ "$seed" =~ ^[0-9]+$ ]] || fail "SEEDS holds \"$seed\"; expected whole numbers, e.g. SEEDS=\"0 1 2\""
done
if [ -n "$epochs_override" ] && ! [[ "$epochs_override" =~ ^[1-9][0-9]*$ ]]; then
  fail "EPOCHS must be a positive whole number, got \"$epochs_override\""
fi
if [ -n "$threads" ] && ! [[ "$threads" =~ ^[1-9][0-9]*$ ]]; then
  fail "THREADS must be a positive whole number, got \"$threads\""
fi
[[ "$split_seed" =~ ^[0-9]+$ ]] || fail "SPLIT_SEED must be a whole number, got \"$split_seed\""
[ -x "$metatx" ] || fail "$metatx is missing; run make build (or make accuracy) first"
if [ -n "$model" ]; then
  [ -f "$model" ] || fail "MODEL $model does not exist"
  source_flags=(--model "$model")
  source_name="$model"
else
  source_flags=(--encoder "$encoder")
  source_name="$encoder"
fi

# Build the datasets that are not there yet (Scripts/datasets.sh skips built ones).
missing=()
for name in "${datasets[@]}"; do
  [ -f "$data/$name/train.csv" ] && [ -f "$data/$name/test.csv" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "accuracy: building ${missing[*]}" >&2
  Scripts/datasets.sh --only "$(IFS=,; echo "${missing[*]}")"
fi

common_flags=(--quiet)
[ -n "$threads" ] && common_flags+=(--threads "$threads")

mkdir -p "$runs_folder"
runs="$runs_folder/runs.tsv"
printf 'dataset\tmodality\tsetting\tseed\tseconds\tresult\n' >"$runs"
failed=0
started_all=$EPOCHREALTIME

# The last line of a run's messages, made safe for one TSV cell.
last_message() {
  local message
  message="$(grep -v '^[[:space:]]*$' "$1" | tail -n 1 | tr '\t' ' ')"
  echo "${message:-exited with status $2 and no message}"
}

for name in "${datasets[@]}"; do
  modality=${modality_of[$name]}
  folder="$data/$name"
  out="$runs_folder/$name"
  mkdir -p "$out"
  python3 Scripts/accuracy/split.py "$folder/train.csv" --fit "$folder/train-fit.csv" \
    --val "$folder/train-val.csv" --fraction "$val_fraction" --seed "$split_seed"
  epochs=${epochs_override:-${epochs_of[$modality]}}
  for seed in $seeds; do
    for setting in frozen tuned ridge; do
      task="$out/$setting-seed$seed.task"
      messages="$out/$setting-seed$seed.log"
      result="$out/$setting-seed$seed.eval.json"
      epoch_log="$out/$setting-seed$seed.epochs.jsonl"
      flags=(--modality "$modality" --train "$folder/train-fit.csv" --pool "${pool_of[$modality]}"
        --batch-size "${batch_of[$modality]}" --seed "$seed")
      case "$setting" in
        frozen) flags+=(--val "$folder/train-val.csv" --epochs "$epochs" --lr "${lr_of[$modality]}"
          --patience "${patience_of[$modality]}" --log "$epoch_log") ;;
        tuned) flags+=(--val "$folder/train-val.csv" --epochs "$epochs" --lr "${lr_of[$modality]}"
          --patience "${patience_of[$modality]}" --log "$epoch_log" --tune-encoder) ;;
        ridge) flags+=(--head ridge) ;;
      esac
      started=$EPOCHREALTIME
      status=0
      "$metatx" train-head "${common_flags[@]}" "${source_flags[@]}" "${flags[@]}" -o "$task" \
        2>"$messages" || status=$?
      seconds=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
      if [ "$status" -eq 0 ]; then
        "$metatx" eval "${common_flags[@]}" --model "$task" --data "$folder/test.csv" --json \
          --batch-size "${batch_of[$modality]}" >"$result" 2>>"$messages" || status=$?
      fi
      if [ "$status" -eq 0 ]; then
        cell="$result"
        shown=$(python3 -c 'import json, sys; print("%.4f" % json.load(open(sys.argv[1]))["accuracy"])' "$result")
      else
        failed=$((failed + 1))
        cell="error: $(last_message "$messages" "$status")"
        shown="failed ($cell; see $messages)"
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$modality" "$setting" "$seed" "$seconds" "$cell" >>"$runs"
      echo "accuracy: $name $setting seed $seed: $shown (train ${seconds} s)" >&2
    done
  done
done

settings_used=()
for name in "${datasets[@]}"; do
  modality=${modality_of[$name]}
  settings_used+=("$modality: pool ${pool_of[$modality]}, ${epochs_override:-${epochs_of[$modality]}} epochs (patience ${patience_of[$modality]}), lr ${lr_of[$modality]}, batch ${batch_of[$modality]}")
done
note="Settings: $(printf '%s\n' "${settings_used[@]}" | sort -u | paste -sd ';' | sed 's/;/; /g'). \
Validation: ${val_fraction} of each class of train.csv (split seed $split_seed), test.csv only for the final score. \
Tuned: encoder learning rate = lr × 0.1. Ridge: --head ridge on the same fit rows. \
Train time: wall-clock seconds of train-head (tokenizing, training, writing the task), mean over seeds. \
$(if [ -z "$model" ] && [[ "$encoder" == random:* ]]; then echo "The random encoder is initialised from each run's seed. "; fi)\
Total $(awk -v a="$started_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s; ${metatx#"$root/"} at commit $(git describe --always --dirty 2>/dev/null || echo unknown)."
python3 Scripts/accuracy/table.py "$runs" --data "$data" --encoder "$source_name" --note "$note" -o "$data/accuracy.md"

if [ "$failed" -gt 0 ]; then
  echo "accuracy: $failed run(s) failed; messages in $runs_folder/*/*.log" >&2
  exit 1
fi
