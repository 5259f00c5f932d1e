"""Builds the offline datasets into `data/<name>/` and writes
`data/SUMMARY.txt`; run through `Scripts/datasets.sh`, which prepares the
virtual environment and the Debian packages.

A dataset is built in `data/.staging-<name>/` and renamed into place when
complete, with `build.json` recording the options it was built with; a
later run skips a dataset whose folder exists with the same options."""

import argparse
import csv
import json
import os
import shutil
import sys
import time
from collections import Counter

from audio import build_spoken_digits
from common import SEED, BuildError
from graphs import build_mutag
from images import build_digits, build_fashion_mnist
from pointclouds import build_primitives
from series import build_basic_motions, build_gunpoint, build_italy_power_demand
from spectra import build_coffee
from tabular import build_breast_cancer, build_iris, build_wine
from text import build_fortunes

# name → (metatx modality, builder, whether `--limit` applies), in build order.
DATASETS = {
    "iris": ("tabular", build_iris, False),
    "wine": ("tabular", build_wine, False),
    "breast-cancer": ("tabular", build_breast_cancer, False),
    "digits": ("image", build_digits, False),
    "fashion-mnist": ("image", build_fashion_mnist, True),
    "basic-motions": ("imu", build_basic_motions, False),
    "gunpoint": ("timeseries", build_gunpoint, False),
    "italy-power-demand": ("timeseries", build_italy_power_demand, False),
    "fortunes": ("text", build_fortunes, False),
    "spoken-digits": ("audio", build_spoken_digits, False),
    "mutag": ("graph", build_mutag, False),
    "primitives": ("pointcloud", build_primitives, False),
    "coffee": ("hyperspectral", build_coffee, False),
}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="output folder (data/)")
    parser.add_argument("--only", help="comma-separated dataset names")
    parser.add_argument("--limit", type=int, help="images per split (fashion-mnist)")
    arguments = parser.parse_args()
    names = list(DATASETS)
    if arguments.only:
        names = [name.strip() for name in arguments.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in DATASETS]
        if unknown:
            parser.error(f"unknown dataset {', '.join(unknown)}; known: {', '.join(DATASETS)}")
    if arguments.limit is not None and arguments.limit <= 0:
        parser.error("--limit must be a positive count")
    return arguments, names


def options_of(name, limit):
    """What a built folder depends on besides the code: compared to skip."""
    uses_limit = DATASETS[name][2]
    return {"seed": SEED, "limit": limit if uses_limit else None}


def recorded_options(folder):
    try:
        with open(os.path.join(folder, "build.json"), encoding="utf-8") as handle:
            return json.load(handle).get("options")
    except (OSError, ValueError):
        return None


def build(data, name, limit):
    """Builds `name` unless it is there with the same options; True if built."""
    modality, builder, uses_limit = DATASETS[name]
    final = os.path.join(data, name)
    options = options_of(name, limit)
    if os.path.isdir(final) and recorded_options(final) == options:
        print(f"datasets: {name}: present, skipped (remove {final} to rebuild)", file=sys.stderr)
        return False
    staging = os.path.join(data, f".staging-{name}")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    started = time.monotonic()
    print(f"datasets: {name}: building ({modality})", file=sys.stderr, flush=True)
    try:
        if uses_limit:
            builder(staging, limit)
        else:
            builder(staging)
    except BuildError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    seconds = round(time.monotonic() - started, 1)
    with open(os.path.join(staging, "build.json"), "w", encoding="utf-8") as handle:
        json.dump({"name": name, "modality": modality, "options": options, "seconds": seconds}, handle, indent=2)
        handle.write("\n")
    if os.path.isdir(final):
        retired = os.path.join(data, f".old-{name}")
        shutil.rmtree(retired, ignore_errors=True)
        os.rename(final, retired)
        os.rename(staging, final)
        shutil.rmtree(retired)
    else:
        os.rename(staging, final)
    print(f"datasets: {name}: built in {seconds} s", file=sys.stderr, flush=True)
    return True


def class_counts(manifest):
    """Samples per label in a manifest or tabular split (its `label` column)."""
    with open(manifest, newline="", encoding="utf-8") as handle:
        return Counter(row["label"] for row in csv.DictReader(handle))


def write_summary(data):
    """`SUMMARY.txt`: every built dataset with its split sizes, samples per
    class and split, and the classical baseline."""
    lines = ["Datasets built by Scripts/datasets.sh (counts per split and class; baseline on the test split).", ""]
    for name, (modality, _, _) in DATASETS.items():
        folder = os.path.join(data, name)
        if not os.path.isdir(folder):
            continue
        counts = {split: class_counts(os.path.join(folder, f"{split}.csv")) for split in ("train", "test")}
        with open(os.path.join(folder, "baseline.json"), encoding="utf-8") as handle:
            baseline = json.load(handle)
        options = recorded_options(folder) or {}
        limited = f", limit {options['limit']} per split" if options.get("limit") else ""
        lines.append(f"{name} ({modality}{limited}): train {sum(counts['train'].values())}, "
                     f"test {sum(counts['test'].values())}, {len(counts['train'] | counts['test'])} classes")
        lines.append(f"  baseline {baseline['metric']} {baseline['value']:.4f}: {baseline['method']}")
        for split in ("train", "test"):
            per_class = ", ".join(f"{label} {count}" for label, count in sorted(counts[split].items()))
            lines.append(f"  {split}: {per_class}")
        lines.append("")
    with open(os.path.join(data, "SUMMARY.txt"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


def main():
    arguments, names = parse_arguments()
    os.makedirs(arguments.data, exist_ok=True)
    failed = []
    for name in names:
        try:
            build(arguments.data, name, arguments.limit)
        except BuildError as error:
            print(f"datasets: {name}: {error}", file=sys.stderr)
            failed.append(name)
    write_summary(arguments.data)
    if failed:
        print(f"datasets: failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
