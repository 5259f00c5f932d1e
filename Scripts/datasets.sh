#!/usr/bin/env bash
# Builds real classification datasets, offline, into data/ (git-ignored):
# everything comes from Debian packages (dataset-fashion-mnist, fortunes,
# espeak-ng) and PyPI wheels (scikit-learn, aeon, chemotools, grakel), so a
# fresh machine that reaches only those registries can rebuild it.
#
#   Scripts/datasets.sh                              # every dataset
#   Scripts/datasets.sh --only iris,mutag            # some
#   Scripts/datasets.sh --only fashion-mnist --limit 2000   # first 2000 images per split
#
# Idempotent: a dataset whose folder exists, built with the same options, is
# skipped (remove data/NAME to rebuild it); data/SUMMARY.txt is rewritten on
# every run. Splits: the official train/test where the source has one
# (Fashion-MNIST, aeon's sets), whole held-out voices for the spoken digits,
# separate seeded draws for the point clouds, else a seeded stratified 70/30
# split. Layouts and splits per dataset: Scripts/datasets/README.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/data"
venv="$root/.venv-data"
only=""
limit=""

usage() {
  echo "usage: Scripts/datasets.sh [--only NAME[,NAME]] [--limit N] [--data DIR]" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --only) [ $# -ge 2 ] || usage; only="$2"; shift 2 ;;
    --limit) [ $# -ge 2 ] || usage; limit="$2"; shift 2 ;;
    --data) [ $# -ge 2 ] || usage; data="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "datasets: unknown argument $1" >&2; usage ;;
  esac
done
if [ -n "$limit" ] && ! [[ "$limit" =~ ^[1-9][0-9]*$ ]]; then
  echo "datasets: --limit needs a positive whole number, got $limit" >&2
  exit 2
fi

started=$(date +%s)

# Debian packages holding the data (and the synthesiser) of some datasets.
debian_packages=(dataset-fashion-mnist fortunes espeak-ng)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "datasets: missing Debian packages: ${missing[*]}" >&2
    echo "datasets: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "datasets: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python side: a virtual environment of its own, never the system Python.
# grakel only for the MUTAG files inside its wheel: --no-deps keeps its
# pinned, build-from-source dependencies out.
if ! "$venv/bin/python" -c "import numpy, sklearn, aeon, chemotools, importlib.util as u; assert u.find_spec('grakel')" 2>/dev/null; then
  echo "datasets: preparing $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check numpy scikit-learn aeon chemotools
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps grakel
fi

arguments=(--data "$data")
[ -n "$only" ] && arguments+=(--only "$only")
[ -n "$limit" ] && arguments+=(--limit "$limit")
status=0
"$venv/bin/python" "$root/Scripts/datasets/build.py" "${arguments[@]}" || status=$?

echo "datasets: $(( $(date +%s) - started )) s; see $data/SUMMARY.txt" >&2
exit "$status"
