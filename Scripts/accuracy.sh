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
#   MODEL         a metatx model file (encoder + pretrained tokenizers)
#                 (default: the built-in Models/default.safetensors)
#   ENCODER       --encoder of train-head instead of a model: random:PRESET
#                 (seeded by each run's seed) or a safetensors file
#   DATASETS      comma-separated subset (default: all thirteen)
#   SETTINGS      comma-separated subset of frozen, tuned, ridge (default all
#                 three; a setting left out shows as — in the table)
#   SEEDS         space- or comma-separated seeds (default 0)
#   EPOCHS        epochs for every modality (default: the table below)
#   THREADS       --threads of every metatx run (default: metatx's own)
#   VAL_FRACTION  share of each class held out for validation (default 0.2)
#   SPLIT_SEED    seed of the train/validation split (default 0; the same
#                 split for every run seed, so seeds vary only the model)
#   METATX        the binary (default .build/release/metatx)
#   REUSE         1: keep the result of a run already made with the same flags
#                 from the same model/encoder file (its .run record matches and
#                 its eval JSON exists), so a table can be completed or a
#                 dataset's settings changed without training the rest again
#                 (default 0: every run trains afresh); REUSE=only trains
#                 nothing and tabulates the runs that exist
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
encoder="${ENCODER:-}"
model="${MODEL:-}"
[ -n "$encoder" ] && [ -n "$model" ] && { echo "accuracy: give MODEL or ENCODER, not both" >&2; exit 2; }
[ -z "$encoder" ] && [ -z "$model" ] && model="Models/default.safetensors"

# The dataset and modality tables (training settings), the option checks and
# the validation split, shared with Scripts/transfer.sh; messages start "accuracy:".
script_name=accuracy
source Scripts/accuracy/settings.sh
read_run_options "${all_datasets[@]}"
if [ -n "$model" ]; then
  [ -f "$model" ] || fail "MODEL $model does not exist"
  source_flags=(--model "$model")
  source_name="$model"
else
  source_flags=(--encoder "$encoder")
  source_name="$encoder"
fi
IFS=', ' read -r -a settings <<<"${SETTINGS:-frozen,tuned,ridge}"
for setting in "${settings[@]}"; do
  case "$setting" in frozen | tuned | ridge) ;; *) fail "SETTINGS names \"$setting\"; known: frozen, tuned, ridge" ;; esac
done
build_missing_datasets "$data" "${datasets[@]}"

start_runs "${model:-$encoder}"

for name in "${datasets[@]}"; do
  enter_dataset "$name"
  fit_vocabulary "$name" "$folder" "$out"
  for seed in $seeds; do
    for setting in "${settings[@]}"; do
      epoch_log="$out/$setting-seed$seed.epochs.jsonl"
      flags=(--modality "$modality" --train "$folder/train-fit.csv" --pool "${pool_for[$name]}"
        --batch-size "${batch_for[$name]}" --seed "$seed")
      mapfile -t tokenizer_flags < <(set_flags "$modality")
      flags+=("${tokenizer_flags[@]}" "${vocabulary[@]}")
      case "$setting" in
        frozen) flags+=(--val "$folder/train-val.csv" --epochs "$epochs" --lr "${lr_for[$name]}"
          --patience "${patience_for[$name]}" --log "$epoch_log") ;;
        tuned) flags+=(--val "$folder/train-val.csv" --epochs "$epochs" --lr "${lr_for[$name]}"
          --patience "${patience_for[$name]}" --log "$epoch_log" --tune-encoder) ;;
        ridge) flags+=(--head ridge) ;;
      esac
      train_and_evaluate accuracy "$name" "$modality" "$setting" "$seed" "$out" "$folder" "${source_flags[@]}" "${flags[@]}"
    done
  done
done

note="$(settings_summary "${datasets[@]}") \
Validation: ${val_fraction} of each class of train.csv (split seed $split_seed), test.csv only for the final score. \
Tuned: encoder learning rate = lr × 0.1. Ridge: --head ridge on the same fit rows. \
Train time: wall-clock seconds of train-head (tokenizing, training, writing the task), mean over seeds. \
$(if [ -z "$model" ] && [[ "$encoder" == random:* ]]; then echo "The random encoder is initialised from each run's seed. "; fi)\
$(time_summary); ${metatx#"$root/"} at commit $(git describe --always --dirty 2>/dev/null || echo unknown)."
python3 Scripts/accuracy/table.py "$runs" --data "$data" --encoder "$source_name" --note "$note" -o "$data/accuracy.md"

if [ "$failed" -gt 0 ]; then
  echo "accuracy: $failed run(s) failed; messages in $runs_folder/*/*.log" >&2
  exit 1
fi
