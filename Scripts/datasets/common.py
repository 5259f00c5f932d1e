"""Shared pieces of the dataset builders: output folders, manifests, PNG and
NPY writing, seeded stratified splits and the logistic-regression baseline.

Every builder writes into a fresh staging folder that `build.py` renames to
`data/<name>/` only once the dataset is complete, so a folder that exists is
whole and an interrupted run leaves nothing that looks finished.
"""

import csv
import json
import os
import struct
import zlib

import numpy as np

# One seed for every split and every generated sample, so two runs on any
# machine give the same files.
SEED = 20230710

# Share of each class that goes to the test split when a dataset has no
# official one.
TEST_FRACTION = 0.3


class BuildError(Exception):
    """A source is missing or not what the builder expects; one line."""


def write_manifest(path, header, rows):
    """Writes a CSV with `header` and `rows` (RFC 4180 quoting, `\\n` rows)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_png_gray(path, pixels):
    """Writes `pixels` ([H, W] uint8) as an 8-bit grayscale PNG (no Pillow:
    one IHDR, one zlib IDAT with filter type 0 on every row, IEND)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = pixels.shape

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    # Bit depth 8, colour type 0 (gray), deflate, adaptive filtering, no interlace.
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write_npy(path, array):
    """Writes `array` as a version-1 `.npy` (numpy's own writer)."""
    np.save(path, array, allow_pickle=False)


def stratified_split(labels, seed=SEED, test_fraction=TEST_FRACTION):
    """Indices (train, test) with `test_fraction` of every class in test,
    rounded, at least one per split for classes with two or more samples;
    shuffled per class by `seed`, each split returned in ascending order."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        count = int(round(len(members) * test_fraction))
        if len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        test.extend(members[:count].tolist())
        train.extend(members[count:].tolist())
    return np.array(sorted(train)), np.array(sorted(test))


def logistic_baseline(train_x, train_y, test_x, test_y, method):
    """Accuracy of a standardised multinomial logistic regression fitted on
    the train split and scored on the test split (scikit-learn)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    model.fit(np.asarray(train_x, dtype=np.float64), np.asarray(train_y))
    accuracy = float(model.score(np.asarray(test_x, dtype=np.float64), np.asarray(test_y)))
    return {"metric": "accuracy", "value": round(accuracy, 4), "method": method}


def write_baseline(folder, baseline):
    """Writes `baseline.json` (`{"metric", "value", "method"}`)."""
    with open(os.path.join(folder, "baseline.json"), "w", encoding="utf-8") as handle:
        json.dump(baseline, handle, indent=2, ensure_ascii=False)
        handle.write("\n")

