"""Sequences bundled with aeon, official train/test splits: BasicMotions as
IMU recordings (one CSV per recording) and GunPoint / ItalyPowerDemand as
univariate series (one float32 `.npy [T]` per series)."""

import os

import numpy as np

from common import BuildError, logistic_baseline, write_baseline, write_manifest, write_npy

# BasicMotions' `.ts` header: "The watch collects 3D accelerometer and a 3D
# gyroscope"; aeon keeps the file's dimension order, and the data agree (the
# first three channels carry the large, non-zero-mean motion signal, the last
# three are near zero-mean rates).
BASIC_MOTIONS_CHANNELS = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")


def load_split(name, split):
    """aeon's bundled `name` split as ([cases, channels, T] float64, labels)."""
    from aeon.datasets import load_classification

    series, labels = load_classification(name, split=split)
    if not isinstance(series, np.ndarray):
        raise BuildError(f"aeon {name} {split}: unequal-length series, expected one array")
    return series, np.asarray([str(label) for label in labels])


def build_basic_motions(folder):
    """40/40 recordings, 6 channels × 100 samples at 10 Hz; classes standing,
    running, walking, badminton (lower-cased)."""
    splits = {}
    for split in ("train", "test"):
        series, labels = load_split("BasicMotions", split)
        if series.shape[1] != len(BASIC_MOTIONS_CHANNELS):
            raise BuildError(f"aeon BasicMotions {split}: {series.shape[1]} channels, expected 6")
        labels = np.char.lower(labels)
        os.makedirs(os.path.join(folder, split))
        rows = []
        for index, (recording, label) in enumerate(zip(series, labels)):
            relative = f"{split}/{index:03d}.csv"
            # [channels, T] → [T, channels]: one row per time step.
            write_manifest(os.path.join(folder, relative), BASIC_MOTIONS_CHANNELS,
                           [[repr(float(value)) for value in step] for step in recording.T])
            rows.append((relative, label))
        write_manifest(os.path.join(folder, f"{split}.csv"), ("path", "label"), rows)
        splits[split] = (series.reshape(len(series), -1), labels)
    write_baseline(folder, logistic_baseline(*splits["train"], *splits["test"],
                                             "logistic regression on the 600 raw samples (6 × 100)"))


def build_univariate(folder, name):
    """One float32 `.npy [T]` per series; labels as aeon gives them."""
    splits = {}
    for split in ("train", "test"):
        series, labels = load_split(name, split)
        if series.shape[1] != 1:
            raise BuildError(f"aeon {name} {split}: {series.shape[1]} channels, expected 1")
        os.makedirs(os.path.join(folder, split))
        rows = []
        for index, (values, label) in enumerate(zip(series[:, 0, :], labels)):
            relative = f"{split}/{index:04d}.npy"
            write_npy(os.path.join(folder, relative), values.astype(np.float32))
            rows.append((relative, label))
        write_manifest(os.path.join(folder, f"{split}.csv"), ("path", "label"), rows)
        splits[split] = (series[:, 0, :], labels)
    write_baseline(folder, logistic_baseline(*splits["train"], *splits["test"],
                                             "logistic regression on the raw series values"))


def build_gunpoint(folder):
    build_univariate(folder, "GunPoint")


def build_italy_power_demand(folder):
    build_univariate(folder, "ItalyPowerDemand")

