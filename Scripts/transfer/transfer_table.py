"""The transfer table of `Scripts/transfer.sh`, as Markdown.

    python3 Scripts/transfer/transfer_table.py data/transfer-runs/runs.tsv \\
        --model data/model.safetensors --random random:tiny --pretrained-modalities "audio image text" \\
        --note "…" -o data/transfer.md

Reads the run list that transfer.sh writes (the format of
Scripts/accuracy/table.py's `read_runs`, with the settings `pretrained`,
`random` and `tuned`) and prints one row per dataset: the test accuracy of
each setting (mean ± sample standard deviation over the seeds), the paired
difference pretrained − random (per seed, then mean ± standard deviation:
both runs of a seed share the tokenizer and head initialisation and the
data, so the difference isolates the encoder's weights), and the measured
training time of each setting. Standard library only.
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "accuracy"))

from split import write_atomically  # noqa: E402
from table import TableError, read_runs, score, summary  # noqa: E402

# pretrained: the model's encoder, frozen; random: a seeded random encoder of
# the same size, frozen; tuned: the model's encoder trained with the head.
SETTINGS = ("pretrained", "random", "tuned")


def failed(run):
    """Whether the run ended in an error (its result cell is `error: MESSAGE`)."""
    return run["result"].startswith("error: ")


def difference(pretrained, random):
    """`mean ± sd` of the per-seed differences pretrained − random over the seeds where both succeeded."""
    random_by_seed = {run["seed"]: run for run in random if not failed(run)}
    deltas = [score(run["result"], "accuracy") - score(random_by_seed[run["seed"]]["result"], "accuracy")
              for run in pretrained if not failed(run) and run["seed"] in random_by_seed]
    if not deltas:
        return "—"
    if len(deltas) == 1:
        return f"{deltas[0]:+.4f}"
    return f"{statistics.mean(deltas):+.4f} ± {statistics.stdev(deltas):.4f}"


def table(runs, model, random_encoder, pretrained_modalities, note):
    """The Markdown text: a title, the table, then notes and failures."""
    datasets = []
    for run in runs:
        if run["dataset"] not in datasets:
            datasets.append(run["dataset"])
    seeds = sorted({run["seed"] for run in runs}, key=int)
    spread = " (mean ± sample standard deviation)" if len(seeds) > 1 else ""
    lines = [
        f"# metatx transfer: pretrained `{model}` against a random `{random_encoder}` encoder",
        "",
        f"Test-split accuracy; seeds {', '.join(seeds)}{spread}; the best epoch chosen on a held-out "
        "validation part of the training split. Pretrained and random: the encoder frozen (tokenizer and "
        "head train); tuned: the pretrained encoder trained too. Δ: pretrained − random, per seed"
        + (", then mean ± standard deviation." if len(seeds) > 1 else "."),
        "",
        "| dataset | modality | pretrained frozen | random frozen | tuned | Δ (pretrained − random) "
        "| train s (pretrained / random / tuned) |",
        "|---|---|---|---|---|---|---|",
    ]
    failures = []
    seen = False
    for dataset in datasets:
        mine = [run for run in runs if run["dataset"] == dataset]
        modality = mine[0]["modality"]
        if modality in pretrained_modalities:
            seen = True
            modality += " *"
        by_setting = {setting: [run for run in mine if run["setting"] == setting] for setting in SETTINGS}
        cells, times = [], []
        for setting in SETTINGS:
            chosen = by_setting[setting]
            errors = [run for run in chosen if failed(run)]
            failures += [f"- {dataset} {setting} seed {run['seed']}: {run['result'][len('error: '):]}" for run in errors]
            succeeded = [run for run in chosen if not failed(run)]
            if not chosen:
                cells.append("—")
            elif errors:
                cells.append(f"failed ({len(errors)} of {len(chosen)})")
            else:
                cells.append(summary([score(run["result"], "accuracy") for run in succeeded]))
            times.append(f"{statistics.mean(run['seconds'] for run in succeeded):.1f}" if succeeded else "—")
        delta = difference(by_setting["pretrained"], by_setting["random"])
        lines.append(f"| {dataset} | {modality} | " + " | ".join(cells) + f" | {delta} | " + " / ".join(times) + " |")
    lines += [""]
    if seen:
        lines += ["\\* The model was pretrained on this modality (its pretrained tokenizer was used): "
                  "not a test of transfer to an unseen modality.", ""]
    lines += [f"Modalities the model was pretrained on: {', '.join(pretrained_modalities) or 'none'}. "
              "The tokenizer of any other modality is created fresh by train-head, from the run's seed, "
              "identically in the pretrained and the random setting.", ""]
    if note:
        lines += [note]
    if failures:
        lines += ["", "Failed runs:", *failures]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", help="the run list written by transfer.sh")
    parser.add_argument("--model", required=True, help="the pretrained model file, for the title")
    parser.add_argument("--random", required=True, help="the random:PRESET of the control runs, for the title")
    parser.add_argument("--pretrained-modalities", default="", help="the model's pretrained tokenizers, space-separated")
    parser.add_argument("--note", default="", help="a paragraph under the table (settings used)")
    parser.add_argument("-o", "--output", help="also write the table here (atomically)")
    arguments = parser.parse_args()
    try:
        text = table(read_runs(arguments.runs, SETTINGS), arguments.model, arguments.random,
                     arguments.pretrained_modalities.split(), arguments.note)
    except (OSError, TableError) as error:
        print(f"transfer_table: {error}", file=sys.stderr)
        return 1
    if arguments.output:
        write_atomically(arguments.output, text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
