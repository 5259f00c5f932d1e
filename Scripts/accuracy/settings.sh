# What Scripts/accuracy.sh and Scripts/transfer.sh share; sourced, not run.
# The caller sets script_name (the prefix of its messages) before sourcing,
# and `cd`s to the repository root.
#
# Defines: modality_of, pool_of, epochs_of, lr_of, batch_of, patience_of,
# sets_of (per modality), the per-dataset settings pool_for, epochs_for,
# lr_for, batch_for, patience_for (associative arrays), all_datasets, and the functions fail,
# read_run_options, build_missing_datasets, split_training, enter_dataset, last_message,
# start_runs, train_and_evaluate and settings_summary.

# Prints MESSAGE as the caller's one-line error and exits with status 2.
fail() {
  echo "$script_name: $1" >&2
  exit 2
}

# Each dataset's modality (the --modality of train-head; Scripts/datasets/README.md
# has the layouts). Coffee's manifests name one-spectrum CSV files, which
# only --modality hyperspectral reads as spectra rather than as tables; the
# series are .npy files and the IMU recordings CSV files, so both need their
# modality named too. Overrides (KEY=VALUE of pool, epochs, lr, batch,
# patience) replace the modality's defaults below for one dataset; each was
# chosen on the validation part of the training split, never on test:
# - digits: 1008 fitting images against Fashion-MNIST's 4000; at 10 epochs and
#   lr 1e-3 the validation accuracy was still rising when the cosine schedule
#   ended (0.90; ridge on the same frozen embeddings: 0.94 on test), so it
#   trains as long as the other small sets, at twice the rate.
# - primitives: at lr 1e-3 the first validation peak (0.51 at epoch 2 of the
#   transfer run) ended training at epoch 5 with the training loss still 1.08
#   of 1.95; a higher rate, more epochs and more patience.
# - mutag: at lr 1e-3 the training loss was still 0.5 after 10 epochs and the
#   first epoch (majority class, 0.654 on the 26 validation graphs) stayed the
#   best; at 3e-3 over 60 epochs validation reached 0.77 (1e-2: 0.73).
# - fortunes: vocab=4096 fits a byte-level BPE of that many ids to the fitting
#   rows' text and trains a fresh text tokenizer on it (--bpe, --fresh-tokenizers)
#   instead of the model's caption BPE: best validation accuracy 0.475 against 0.423 (frozen, seed 0), as the
#   captions' 1024-id vocabulary splits the fortunes' words into fragments.
#   (make accuracy only: the transfer experiment is about modalities the model
#   never saw, and text is not one.)
dataset_table="
# dataset           modality       overrides
iris                tabular
wine                tabular
breast-cancer       tabular
digits              image          epochs=30 lr=2e-3 patience=8
fashion-mnist       image
basic-motions       imu
gunpoint            timeseries
italy-power-demand  timeseries
fortunes            text           vocab=4096
spoken-digits       audio
mutag               graph          epochs=60 lr=3e-3 patience=20
primitives          pointcloud     epochs=20 lr=3e-3 patience=6
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

# Tokenizer settings (--set) of train-head for modalities whose defaults are
# sized for the paper's data, not for a CPU run: the point-cloud tokenizer's
# defaults (1024 points, 256 groups of 32, 512-wide MLPs) cost ~0.75 s per
# cloud forward; 512 points in 64 groups with half-width MLPs keep the shape
# information at a tenth of the cost.
sets_table="
# modality       settings
pointcloud       pointcloud.points=512 pointcloud.groups=64 pointcloud.pointHidden=64 pointcloud.pointFeatures=128 pointcloud.groupHidden=256
"

declare -A modality_of pool_of epochs_of lr_of batch_of patience_of sets_of overrides_of
declare -A pool_for epochs_for lr_for batch_for patience_for vocab_for
all_datasets=()
while read -r name modality overrides; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  modality_of[$name]=$modality
  overrides_of[$name]=$overrides
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
for name in "${all_datasets[@]}"; do
  modality=${modality_of[$name]}
  pool_for[$name]=${pool_of[$modality]}
  epochs_for[$name]=${epochs_of[$modality]}
  lr_for[$name]=${lr_of[$modality]}
  batch_for[$name]=${batch_of[$modality]}
  patience_for[$name]=${patience_of[$modality]}
  for override in ${overrides_of[$name]}; do
    case "${override%%=*}" in
      pool) pool_for[$name]=${override#*=} ;;
      epochs) epochs_for[$name]=${override#*=} ;;
      lr) lr_for[$name]=${override#*=} ;;
      batch) batch_for[$name]=${override#*=} ;;
      patience) patience_for[$name]=${override#*=} ;;
      vocab) vocab_for[$name]=${override#*=} ;;
      *) echo "settings: dataset $name has an unknown override $override" >&2; exit 2 ;;
    esac
  done
done
unset name modality override

while read -r modality settings; do
  [[ -z "$modality" || "$modality" == \#* ]] && continue
  sets_of[$modality]=$settings
done <<<"$sets_table"

# The --set flags of MODALITY's settings (nothing for most modalities).
set_flags() {
  local setting
  for setting in ${sets_of[$1]:-}; do printf -- '--set\n%s\n' "$setting"; done
}

# For a dataset with a vocab=N override: fits a byte-level BPE of N ids to the
# text column of FOLDER/train-fit.csv (again only when that text changed) and
# sets the array `vocabulary` to the train-head flags that use it; empty
# otherwise. Arguments: NAME FOLDER OUT. Uses $metatx.
fit_vocabulary() {
  local name=$1 folder=$2 out=$3 size=${vocab_for[$1]:-}
  vocabulary=()
  [ -n "$size" ] || return 0
  local corpus="$out/bpe-corpus.txt" merges="$out/bpe-$size.txt" digest
  python3 -c 'import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as source, open(sys.argv[2], "w", encoding="utf-8") as corpus:
    for row in csv.DictReader(source):
        corpus.write(" ".join(row["text"].split()) + "\n")' "$folder/train-fit.csv" "$corpus.new" ||
    fail "$name: cannot read the text column of $folder/train-fit.csv"
  mv "$corpus.new" "$corpus"
  digest="$(sha256sum "$corpus" | cut -d' ' -f1) $size"
  if [ ! -f "$merges" ] || [ "$(cat "$merges.source" 2>/dev/null)" != "$digest" ]; then
    "$metatx" tokenize --quiet --train-bpe "$corpus" --vocab-size "$size" -o "$merges" ||
      fail "$name: fitting a $size-id BPE to $corpus failed"
    echo "$digest" >"$merges.source"
  fi
  vocabulary=(--bpe "$merges" --fresh-tokenizers)
}

# Reads and checks the options both scripts take from the environment
# (DATASETS, SEEDS, EPOCHS, THREADS, VAL_FRACTION, SPLIT_SEED, METATX, REUSE)
# into datasets (array), seeds, epochs_override, threads, val_fraction,
# split_seed, metatx and reuse. The arguments are the datasets when DATASETS is unset.
read_run_options() {
  if [ -n "${DATASETS:-}" ]; then
    IFS=', ' read -r -a datasets <<<"$DATASETS"
  else
    datasets=("$@")
  fi
  local name
  for name in "${datasets[@]}"; do
    [ -n "${modality_of[$name]:-}" ] || fail "DATASETS names \"$name\"; known: ${all_datasets[*]}"
  done
  seeds="${SEEDS:-0}"
  seeds="${seeds//,/ }"
  epochs_override="${EPOCHS:-}"
  threads="${THREADS:-}"
  val_fraction="${VAL_FRACTION:-0.2}"
  split_seed="${SPLIT_SEED:-0}"
  metatx="${METATX:-$PWD/.build/release/metatx}"
  reuse="${REUSE:-0}"
  [[ "$reuse" == 0 || "$reuse" == 1 || "$reuse" == only ]] || fail "REUSE must be 0, 1 or only, got \"$reuse\""
  [ -n "${seeds// /}" ] || fail "SEEDS is empty; give one or more whole numbers, e.g. SEEDS=\"0 1 2\""
  local seed
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
  [ -x "$metatx" ] || fail "$metatx is missing; run make build first"
}

# Builds the datasets DATA_FOLDER NAME… that are not there yet
# (Scripts/datasets.sh skips built ones).
build_missing_datasets() {
  local data=$1 name missing=()
  shift
  for name in "$@"; do
    [ -f "$data/$name/train.csv" ] && [ -f "$data/$name/test.csv" ] || missing+=("$name")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "$script_name: building ${missing[*]}" >&2
    Scripts/datasets.sh --only "$(IFS=,; echo "${missing[*]}")"
  fi
}

# Splits FOLDER/train.csv into FOLDER/train-fit.csv and FOLDER/train-val.csv
# (seeded, stratified, val_fraction of every class), so model selection never
# sees test.csv.
split_training() {
  python3 Scripts/accuracy/split.py "$1/train.csv" --fit "$1/train-fit.csv" \
    --val "$1/train-val.csv" --fraction "$val_fraction" --seed "$split_seed"
}

# Starts on dataset NAME: sets $modality, $folder (data/NAME), $out (its runs
# folder, created) and $epochs, and splits its training manifest.
enter_dataset() {
  name=$1
  modality=${modality_of[$name]}
  folder="$data/$name"
  out="$runs_folder/$name"
  mkdir -p "$out"
  split_training "$folder"
  epochs=${epochs_override:-${epochs_for[$name]}}
}

# The last line of a run's messages (MESSAGES_FILE EXIT_STATUS), made safe for one TSV cell.
last_message() {
  local message
  message="$(grep -v '^[[:space:]]*$' "$1" | tail -n 1 | tr '\t' ' ')"
  echo "${message:-exited with status $2 and no message}"
}

# Trains one head with train-head FLAGS, scores it once on the test split with
# `eval --json`, and appends `name, modality, setting, seed, seconds, result`
# to $runs (the result: the eval JSON's path, or `error: …`). Counts failures
# in $failed. Uses $metatx, $common_flags, $batch_for, $reuse and
# $source_digest. Each run records its flags and the digest of the model or
# encoder file it started from in OUT/SETTING-seedSEED.run; with REUSE=1 a run
# whose record matches and whose eval JSON exists is not run again (its
# recorded training time is shown); with REUSE=only nothing is trained: a run
# without a matching record is left out of the table.
# Arguments: SCRIPT NAME MODALITY SETTING SEED OUT FOLDER [train-head flags…]
train_and_evaluate() {
  local script=$1 name=$2 modality=$3 setting=$4 seed=$5 out=$6 folder=$7
  shift 7
  local task="$out/$setting-seed$seed.task" messages="$out/$setting-seed$seed.log"
  local result="$out/$setting-seed$seed.eval.json" started seconds status=0 cell shown
  local record="$out/$setting-seed$seed.run" identity
  identity="source $source_digest; flags $(printf '%q ' "$@")"
  if [ "$reuse" != 0 ] && [ -f "$result" ] && [ -f "$record" ] && [ "$(head -n 1 "$record")" = "$identity" ]; then
    seconds=$(sed -n 2p "$record")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$modality" "$setting" "$seed" "$seconds" "$result" >>"$runs"
    echo "$script: $name $setting seed $seed: reused $result" >&2
    reused=$((reused + 1))
    return
  fi
  if [ "$reuse" = only ]; then
    echo "$script: $name $setting seed $seed: not run (REUSE=only, no matching earlier run)" >&2
    return
  fi
  rm -f "$record"
  # A checkpoint left by an interrupted earlier run would stop train-head; runs start afresh.
  rm -f "$task.checkpoint"
  started=$EPOCHREALTIME
  "$metatx" train-head "${common_flags[@]}" "$@" -o "$task" 2>"$messages" || status=$?
  seconds=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  if [ "$status" -eq 0 ]; then
    "$metatx" eval "${common_flags[@]}" --model "$task" --data "$folder/test.csv" --json \
      --batch-size "${batch_for[$name]}" >"$result" 2>>"$messages" || status=$?
  fi
  if [ "$status" -eq 0 ]; then
    printf '%s\n%s\n' "$identity" "$seconds" >"$record"
    cell="$result"
    shown=$(python3 -c 'import json, sys; print("%.4f" % json.load(open(sys.argv[1]))["accuracy"])' "$result")
  else
    failed=$((failed + 1))
    cell="error: $(last_message "$messages" "$status")"
    shown="failed ($cell; see $messages)"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$modality" "$setting" "$seed" "$seconds" "$cell" >>"$runs"
  echo "$script: $name $setting seed $seed: $shown (train ${seconds} s)" >&2
}

# Sentences listing the per-modality settings used by the datasets given, and
# the datasets' overrides of them.
settings_summary() {
  local name modality used=() changed=()
  for name in "$@"; do
    modality=${modality_of[$name]}
    used+=("$modality: pool ${pool_of[$modality]}, ${epochs_override:-${epochs_of[$modality]}} epochs (patience ${patience_of[$modality]}), lr ${lr_of[$modality]}, batch ${batch_of[$modality]}${sets_of[$modality]:+, --set ${sets_of[$modality]// /, --set }}")
    [ -n "${overrides_of[$name]}" ] && changed+=("$name: ${overrides_of[$name]// /, }")
  done
  echo -n "Settings: $(printf '%s\n' "${used[@]}" | sort -u | paste -sd ';' | sed 's/;/; /g')."
  if [ ${#changed[@]} -gt 0 ]; then
    echo -n " Per dataset: $(printf '%s\n' "${changed[@]}" | paste -sd ';' | sed 's/;/; /g')$([ -n "$epochs_override" ] && echo " (EPOCHS=$epochs_override for all)")."
  fi
  # Results do not depend on the thread count (since the worker pool); the
  # count is stated because the seconds do.
  echo -n " Threads: ${threads:-all cores}."
  echo
}

# Sets up a run of runs: $common_flags, a fresh $runs table in $runs_folder,
# the $failed and $reused counters, the $started_all clock, and $source_digest (SHA-256 of
# the model or encoder FILE given, else the name given, e.g. random:tiny).
# Arguments: FILE_OR_NAME
start_runs() {
  if [ -f "$1" ]; then
    source_digest=$(sha256sum "$1" | cut -d' ' -f1)
  else
    source_digest=$1
  fi
  common_flags=(--quiet)
  [ -n "$threads" ] && common_flags+=(--threads "$threads")
  mkdir -p "$runs_folder"
  runs="$runs_folder/runs.tsv"
  printf 'dataset\tmodality\tsetting\tseed\tseconds\tresult\n' >"$runs"
  failed=0
  reused=0
  started_all=$EPOCHREALTIME
}

# One sentence on the time taken: train-head seconds summed over the table's
# runs (a reused run counts the time it took when it was made) and this
# invocation's wall-clock time.
time_summary() {
  local total
  total=$(awk -F'\t' 'NR > 1 { sum += $5 } END { printf "%.0f", sum }' "$runs")
  echo -n "Training time of all runs: $total s (train-head wall-clock, summed"
  [ "$reused" -gt 0 ] && echo -n "; $reused run(s) reused from earlier invocations (REUSE)"
  echo -n "); this invocation $(awk -v a="$started_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
}
