#!/usr/bin/env bash
# Prepares the PyTorch peer of `make bench`: ./.venv-bench with a CPU build of
# torch, which Scripts/bench_torch.py uses to time the same encoder blocks
# (timm's Block when timm imports, else an equivalent plain-torch Block).
# Idempotent; best effort: when pip cannot reach a torch wheel, it says so and
# exits non-zero, and the benchmark runs without the peer.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-bench"
# The version the benchmark figures in README.md were measured with.
torch_requirement="torch==2.13.0+cpu"

if "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
  exit 0
fi
echo "bench: preparing $venv with $torch_requirement (the PyTorch peer)" >&2
python3 -m venv "$venv"
# From the package index pip is configured with (here PyPI and the wheel folder
# of PIP_FIND_LINKS); nothing else is reached.
# numpy only quiets torch's warning that it cannot find it.
if ! "$venv/bin/pip" install -q --disable-pip-version-check "$torch_requirement" numpy 2>"$venv/pip-errors.log"; then
  echo "bench: could not install $torch_requirement ($(tail -n 1 "$venv/pip-errors.log")); running without the PyTorch peer" >&2
  rm -rf "$venv"
  exit 1
fi
