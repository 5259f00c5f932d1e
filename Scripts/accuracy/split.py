"""Seeded, stratified train/validation split of a CSV or TSV manifest.

    python3 Scripts/accuracy/split.py data/iris/train.csv \\
        --fit data/iris/train-fit.csv --val data/iris/train-val.csv --seed 0

Model selection (the best epoch) looks at the validation part only, so the
test split stays unseen until the final evaluation. Rows are copied byte for
byte: quoting, line endings and paths relative to the manifest's folder are
kept, so the two outputs go next to the input and read exactly as it does. For
a tabular dataset the manifest is the table itself and its rows are the
samples. Standard library only.
"""

import argparse
import csv
import os
import random
import sys
import tempfile


class SplitError(Exception):
    """A one-line problem with the manifest, naming the file."""


def read_records(path, delimiter):
    """The header and the data records of `path`, each as (fields, raw text).

    The raw text is every physical line of the record (a quoted cell may span
    lines), line endings included, exactly as in the file. Blank lines are
    dropped, as the CSV readers of metatx drop them.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        consumed = []

        def lines():
            for line in handle:
                consumed.append(line)
                yield line

        records = []
        try:
            for fields in csv.reader(lines(), delimiter=delimiter):
                raw = "".join(consumed)
                consumed.clear()
                if fields:
                    records.append((fields, raw))
        except csv.Error as error:
            raise SplitError(f"{path}: record {len(records) + 1}: {error}") from error
    if not records:
        raise SplitError(f"{path}: is empty; expected a header row and data rows")
    return records[0], records[1:]


def stratified_split(labels, fraction, seed):
    """Indices of the fit and validation parts, each in file order.

    Every class with at least two rows gives round(fraction × n) rows (at least
    one, at most n − 1) to validation, chosen by a `random.Random(seed)`
    shuffle of its rows; classes are visited in sorted order, so the split
    depends only on the labels, the fraction and the seed.
    """
    by_class = {}
    for index, label in enumerate(labels):
        by_class.setdefault(label, []).append(index)
    rng = random.Random(seed)
    validation = set()
    for label in sorted(by_class):
        rows = by_class[label]
        if len(rows) < 2:
            continue
        count = min(max(round(fraction * len(rows)), 1), len(rows) - 1)
        shuffled = rows[:]
        rng.shuffle(shuffled)
        validation.update(shuffled[:count])
    fit = [index for index in range(len(labels)) if index not in validation]
    return fit, sorted(validation)


def write_atomically(path, text):
    """Writes `text` to `path` through a temporary file in the same folder and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".split-")
    try:
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def split_manifest(manifest, fit_path, val_path, label_column="label", fraction=0.2, seed=0):
    """Splits `manifest` into `fit_path` and `val_path`; returns the two row counts."""
    delimiter = "\t" if manifest.lower().endswith(".tsv") else ","
    (header, header_raw), records = read_records(manifest, delimiter)
    if label_column not in header:
        raise SplitError(f"{manifest}: has no column \"{label_column}\" (columns: {', '.join(header)})")
    column = header.index(label_column)
    for number, (fields, _) in enumerate(records, start=2):
        if len(fields) <= column:
            raise SplitError(f"{manifest}: record {number}: has {len(fields)} cells, no \"{label_column}\" cell")
    fit, validation = stratified_split([fields[column].strip() for fields, _ in records], fraction, seed)
    if not fit or not validation:
        raise SplitError(f"{manifest}: {len(records)} rows are too few for a train/validation split")
    line_end = "\r\n" if header_raw.endswith("\r\n") else "\n"

    def text(indices):
        raws = [header_raw] + [records[index][1] for index in indices]
        return "".join(raw if raw.endswith("\n") else raw + line_end for raw in raws)

    write_atomically(fit_path, text(fit))
    write_atomically(val_path, text(validation))
    return len(fit), len(validation)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", help="a CSV/TSV manifest or table with a header row")
    parser.add_argument("--fit", required=True, help="where the training part goes")
    parser.add_argument("--val", required=True, help="where the validation part goes")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--fraction", type=float, default=0.2, help="share of each class held out (default 0.2)")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    if not 0 < arguments.fraction < 1:
        parser.error(f"--fraction must be between 0 and 1, got {arguments.fraction}")
    try:
        fit, validation = split_manifest(arguments.manifest, arguments.fit, arguments.val,
                                         arguments.label_column, arguments.fraction, arguments.seed)
    except (OSError, SplitError) as error:
        print(f"split: {error}", file=sys.stderr)
        return 1
    print(f"split: {arguments.manifest}: {fit} fit rows, {validation} validation rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
