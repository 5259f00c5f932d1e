"""The accuracy table of `Scripts/accuracy.sh`, as Markdown.

    python3 Scripts/accuracy/table.py data/accuracy-runs/runs.tsv --data data \\
        --encoder random:tiny --note "…" -o data/accuracy.md

Reads the run list that accuracy.sh writes (one row per dataset, setting and
seed: `dataset modality setting seed seconds result`, tab-separated, where
result is the `metatx eval --json` output file or `error: MESSAGE`), each
dataset's `baseline.json`, and prints one table: the test score of the frozen,
tuned and ridge settings (mean ± sample standard deviation over the seeds), the
classical baseline, and the measured training time of each setting (mean over
the seeds that succeeded). Standard library only.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile

SETTINGS = ("frozen", "tuned", "ridge")

# The key of `metatx eval --json` (classification report) that holds each
# metric a baseline.json can name.
EVAL_KEYS = {"accuracy": "accuracy"}


class TableError(Exception):
    """A one-line problem with an input file, naming it."""


def read_runs(path, settings=SETTINGS):
    """The run rows of `path` as dictionaries, in file order; every setting must be one of `settings`."""
    columns = ("dataset", "modality", "setting", "seed", "seconds", "result")
    runs = []
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        if tuple(header) != columns:
            raise TableError(f"{path}: header is {header}; expected {list(columns)}")
        for number, line in enumerate(handle, start=2):
            cells = line.rstrip("\n").split("\t")
            if len(cells) != len(columns):
                raise TableError(f"{path}: row {number}: has {len(cells)} cells; expected {len(columns)}")
            run = dict(zip(columns, cells))
            if run["setting"] not in settings:
                raise TableError(f"{path}: row {number}: setting \"{run['setting']}\" is not one of {', '.join(settings)}")
            run["seconds"] = float(run["seconds"])
            runs.append(run)
    return runs


def read_baseline(data, dataset):
    """(metric, value, method) of `DATA/DATASET/baseline.json`."""
    path = os.path.join(data, dataset, "baseline.json")
    try:
        with open(path, encoding="utf-8") as handle:
            baseline = json.load(handle)
        return baseline["metric"], float(baseline["value"]), baseline["method"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TableError(f"{path}: cannot read the baseline ({error}); rebuild it with Scripts/datasets.sh") from error


def score(result, metric):
    """The `metric` of an eval JSON file, or raises TableError."""
    key = EVAL_KEYS.get(metric)
    if key is None:
        raise TableError(f"baseline metric \"{metric}\" has no eval JSON key; known: {', '.join(EVAL_KEYS)}")
    try:
        with open(result, encoding="utf-8") as handle:
            return float(json.load(handle)[key])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TableError(f"{result}: no \"{key}\" in the eval JSON ({error})") from error


def summary(values):
    """`mean` for one value, `mean ± sample standard deviation` for several."""
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def table(runs, data, encoder, note):
    """The Markdown text: a title line, the table, then notes and failures."""
    datasets = []
    for run in runs:
        if run["dataset"] not in datasets:
            datasets.append(run["dataset"])
    seeds = sorted({run["seed"] for run in runs}, key=int)
    lines = [
        f"# metatx accuracy (encoder `{encoder}`)",
        "",
        f"Test-split scores; seeds {', '.join(seeds)}"
        + (" (mean ± sample standard deviation)" if len(seeds) > 1 else "")
        + "; the best epoch chosen on a held-out validation part of the training split.",
        "",
        "| dataset | modality | metric | frozen | tuned | ridge | classical baseline | train s (frozen / tuned / ridge) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    failures, methods = [], []
    for dataset in datasets:
        mine = [run for run in runs if run["dataset"] == dataset]
        metric, baseline, method = read_baseline(data, dataset)
        methods.append(f"- {dataset}: {method}")
        cells, times = [], []
        for setting in SETTINGS:
            chosen = [run for run in mine if run["setting"] == setting]
            if not chosen:
                cells.append("—")
                times.append("—")
                continue
            errors = [run for run in chosen if run["result"].startswith("error: ")]
            failures += [f"- {dataset} {setting} seed {run['seed']}: {run['result'][len('error: '):]}" for run in errors]
            cells.append("failed" if errors else summary([score(run["result"], metric) for run in chosen]))
            succeeded = [run["seconds"] for run in chosen if run not in errors]
            times.append(f"{statistics.mean(succeeded):.1f}" if succeeded else "—")
        lines.append(f"| {dataset} | {mine[0]['modality']} | {metric} | " + " | ".join(cells)
                     + f" | {baseline:.4f} | " + " / ".join(times) + " |")
    lines += ["", note, "", "Classical baselines (scikit-learn, fitted on the whole training split):", *methods]
    if failures:
        lines += ["", "Failed runs:", *failures]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", help="the run list written by accuracy.sh")
    parser.add_argument("--data", default="data", help="the datasets' folder (baseline.json files)")
    parser.add_argument("--encoder", required=True, help="the encoder the runs used, for the title")
    parser.add_argument("--note", default="", help="a paragraph under the table (settings used)")
    parser.add_argument("-o", "--output", help="also write the table here (atomically)")
    arguments = parser.parse_args()
    try:
        text = table(read_runs(arguments.runs), arguments.data, arguments.encoder, arguments.note)
    except (OSError, TableError) as error:
        print(f"table: {error}", file=sys.stderr)
        return 1
    if arguments.output:
        folder = os.path.dirname(os.path.abspath(arguments.output))
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".table-")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, arguments.output)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
