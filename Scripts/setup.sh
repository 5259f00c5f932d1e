#!/usr/bin/env bash
# Installs the Debian packages metatx builds against, when they are missing.
# Idempotent: a machine that has them gets no apt-get call at all.
set -euo pipefail

packages=(
  pkg-config
  libopenblas-dev liblapacke-dev                        # BLAS/LAPACK: the kernels
  libfftw3-dev                                          # spectra (audio filter banks)
  libpng-dev libjpeg62-turbo-dev zlib1g-dev             # images, gzip
  libsndfile1-dev libsamplerate0-dev                    # audio decoding, resampling
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
