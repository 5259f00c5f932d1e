#!/usr/bin/env bash
# The transfer experiment (`make transfer`): does a frozen encoder pretrained
# on paired data help modalities it never saw? For each dataset and seed,
# three task heads are trained and scored on the test split:
#
#   pretrained  train-head --model MODEL: the model's encoder, frozen
#   random      train-head --encoder random:PRESET: a seeded random encoder of
#               the same size (PRESET read from MODEL's metadata), frozen
#   tuned       train-head --model MODEL --tune-encoder (encoder learning
#               rate = lr × 0.1)
#
# In every setting the tokenizer of a modality the model was not pretrained
# on is created fresh by train-head from the run's seed, the same in the
# pretrained and the random setting, so within a seed the two differ only in
# the encoder's weights. Model selection never sees the test split: as in
# Scripts/accuracy.sh, train.csv is split (seeded, stratified) into
# train-fit.csv and train-val.csv, the best epoch is kept on the latter, and
# test.csv is read once, by `metatx eval`.
#
#   Scripts/transfer.sh                                          # defaults below
#   DATASETS=wine,mutag SEEDS=0 EPOCHS=3 MODEL=m.safetensors Scripts/transfer.sh
#
# Options (environment variables; `make transfer VAR=…` passes them on):
#   MODEL         the pretrained metatx model file (default
#                 Models/default.safetensors, written by `make model`)
#   DATASETS      comma-separated (default: basic-motions, gunpoint, wine,
#                 mutag: IMU, time series, tabular, graph, none of them in
#                 `make model`'s pretraining; primitives adds point clouds,
#                 at about 7 minutes a run on 2 cores)
#   SEEDS         space- or comma-separated seeds (default 0 1 2)
#   EPOCHS        epochs for every modality (default: the per-modality table
#                 of Scripts/accuracy/settings.sh, as make accuracy)
#   THREADS       --threads of every metatx run (default: metatx's own)
#   VAL_FRACTION  share of each class held out for validation (default 0.2)
#   SPLIT_SEED    seed of the train/validation split (default 0)
#   METATX        the binary (default .build/release/metatx)
#   REUSE         1: keep the result of a run already made with the same flags
#                 from the same model/encoder file (its .run record matches and
#                 its eval JSON exists), so a table can be completed or a
#                 dataset's settings changed without training the rest again
#                 (default 0: every run trains afresh); REUSE=only trains
#                 nothing and tabulates the runs that exist
#
# Writes data/transfer.md (and prints it); each run's task file, eval JSON,
# per-epoch log and messages go to data/transfer-runs/NAME/, the run list to
# data/transfer-runs/runs.tsv. Exits non-zero when any run failed (the table
# still shows the others and names the failures).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# MODEL as given (for messages and the table) and as a path from the root.
model_named="${MODEL:-Models/default.safetensors}"
if [ -z "${MODEL:-}" ]; then
  model="$root/$model_named"
elif [[ "$MODEL" == /* ]]; then
  model="$MODEL"
else
  model="$PWD/$MODEL"
fi
cd "$root"
data="$root/data"
runs_folder="$data/transfer-runs"
if [ -z "${SEEDS:-}" ]; then SEEDS="0 1 2"; fi

# The dataset and modality tables (training settings), the option checks and
# the validation split, shared with Scripts/accuracy.sh; messages start "transfer:".
script_name=transfer
source Scripts/accuracy/settings.sh
read_run_options basic-motions gunpoint wine mutag
if [ ! -f "$model" ]; then
  if [ -z "${MODEL:-}" ]; then
    fail "$model_named is missing: run make model first (it pretrains the default model), or give MODEL=FILE"
  fi
  fail "MODEL $model_named does not exist"
fi
preset="$(python3 Scripts/transfer/model_header.py "$model" preset)" || fail "cannot read the encoder size of $model_named"
pretrained_modalities="$(python3 Scripts/transfer/model_header.py "$model" modalities)"
random_encoder="random:$preset"
build_missing_datasets "$data" "${datasets[@]}"

start_runs "$model"

for name in "${datasets[@]}"; do
  enter_dataset "$name"
  for seed in $seeds; do
    for setting in pretrained random tuned; do
      flags=(--modality "$modality" --train "$folder/train-fit.csv" --val "$folder/train-val.csv"
        --pool "${pool_for[$name]}" --batch-size "${batch_for[$name]}" --epochs "$epochs"
        --lr "${lr_for[$name]}" --patience "${patience_for[$name]}" --seed "$seed"
        --log "$out/$setting-seed$seed.epochs.jsonl")
      mapfile -t tokenizer_flags < <(set_flags "$modality")
      flags+=("${tokenizer_flags[@]}")
      case "$setting" in
        pretrained) flags+=(--model "$model") ;;
        random) flags+=(--encoder "$random_encoder") ;;
        tuned) flags+=(--model "$model" --tune-encoder) ;;
      esac
      train_and_evaluate transfer "$name" "$modality" "$setting" "$seed" "$out" "$folder" "${flags[@]}"
    done
  done
done

note="$(settings_summary "${datasets[@]}") \
Validation: ${val_fraction} of each class of train.csv (split seed $split_seed), test.csv only for the final score. \
The random encoder is initialised from each run's seed. \
Train time: wall-clock seconds of train-head (tokenizing, training, writing the task), mean over seeds. \
$(time_summary); ${metatx#"$root/"} at commit $(git describe --always --dirty 2>/dev/null || echo unknown)."
python3 Scripts/transfer/transfer_table.py "$runs" --model "$model_named" --random "$random_encoder" \
  --pretrained-modalities "$pretrained_modalities" --note "$note" -o "$data/transfer.md"

if [ "$failed" -gt 0 ]; then
  echo "transfer: $failed run(s) failed; messages in $runs_folder/*/*.log" >&2
  exit 1
fi
