"""Spoken digits synthesised by espeak-ng (Debian `espeak-ng`): the words
zero…nine over many English accents × voice variants, 22.05 kHz mono 16-bit
WAV. Whole voices are held out for the test split: synthetic speech from a
voice seen in training is far easier than a new voice."""

import os
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from common import SEED, BuildError, logistic_baseline, write_baseline, write_manifest

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# espeak-ng's own English voices (the mbrola ones need data Debian ships apart).
ACCENTS = ("en-us", "en-us-nyc", "en-gb", "en-gb-x-rp", "en-gb-scotland",
           "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7",
            "f1", "f2", "f3", "f4", "f5", "croak", "klatt")

# Held out for test: a whole accent (Caribbean, every variant) and three
# variants (in every accent). No voice, and no (accent, variant) pair, of the
# test split is heard in training.
TEST_ACCENTS = {"en-029"}
TEST_VARIANTS = {"m3", "f3", "klatt"}

# Clips per (voice, word), each with its own seeded speed and pitch.
TAKES = 2
SPEED_RANGE = (130, 200)   # words per minute
PITCH_RANGE = (25, 75)     # espeak-ng's 0–99 scale


def check_voices():
    """Fails unless espeak-ng knows every accent and variant: an unknown
    `+variant` is otherwise ignored without a word."""
    try:
        variants = subprocess.run(["espeak-ng", "--voices=variant"], check=True,
                                  capture_output=True, text=True).stdout
        english = subprocess.run(["espeak-ng", "--voices=en"], check=True,
                                 capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise BuildError("espeak-ng: not installed; install the Debian package espeak-ng") from None
    known_variants = {line.split()[4][3:] for line in variants.splitlines()[1:] if "!v/" in line}
    known_accents = {line.split()[1] for line in english.splitlines()[1:]}
    missing = [variant for variant in VARIANTS if variant not in known_variants]
    missing += [accent for accent in ACCENTS if accent not in known_accents]
    if missing:
        raise BuildError(f"espeak-ng: no voice or variant {', '.join(missing)}")


def synthesise(job):
    """Runs one espeak-ng call; `job` is (path, voice, speed, pitch, word)."""
    path, voice, speed, pitch, word = job
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", path, word],
                   check=True, capture_output=True)
    if os.path.getsize(path) <= 44:
        raise BuildError(f"{path}: espeak-ng wrote no samples for {voice} {word!r}")


def band_features(path, bands=32, segments=8):
    """A fixed-length summary for the baseline: log power in `bands` equal
    FFT bands (0–8 kHz) of 25 ms frames every 10 ms, over the frames within
    40 dB of the loudest, averaged over `segments` equal stretches of time →
    `[bands * segments]`."""
    with wave.open(path, "rb") as handle:
        rate = handle.getframerate()
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16) / 32768.0
    frame, hop = int(0.025 * rate), int(0.010 * rate)
    count = max(1, 1 + (len(samples) - frame) // hop)
    samples = np.pad(samples, (0, max(0, frame + (count - 1) * hop - len(samples))))
    frames = np.stack([samples[i * hop: i * hop + frame] for i in range(count)]) * np.hanning(frame)
    power = np.abs(np.fft.rfft(frames, n=1024)) ** 2
    top = bands * int(8000 / rate * 1024 / bands)
    energy = np.log(power[:, :top].reshape(count, bands, -1).sum(axis=2) + 1e-10)
    loudness = energy.max(axis=1)
    energy = energy[loudness >= loudness.max() - np.log(1e4)]
    stretches = np.array_split(energy, segments) if len(energy) >= segments else [energy] * segments
    return np.concatenate([stretch.mean(axis=0) for stretch in stretches])


def build_spoken_digits(folder):
    check_voices()
    rng = np.random.default_rng(SEED)
    jobs, rows = [], {"train": [], "test": []}
    for accent in ACCENTS:
        for variant in VARIANTS:
            split = "test" if accent in TEST_ACCENTS or variant in TEST_VARIANTS else "train"
            voice = f"{accent}+{variant}"
            os.makedirs(os.path.join(folder, split, voice), exist_ok=True)
            for word in WORDS:
                for take in range(TAKES):
                    speed = int(rng.integers(SPEED_RANGE[0], SPEED_RANGE[1] + 1))
                    pitch = int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1))
                    relative = f"{split}/{voice}/{word}-{take}.wav"
                    jobs.append((os.path.join(folder, relative), voice, speed, pitch, word))
                    rows[split].append((relative, word))
    # espeak-ng is single-threaded and starts fast: two at a time fill both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(synthesise, jobs))
    for split, split_rows in rows.items():
        write_manifest(os.path.join(folder, f"{split}.csv"), ("path", "label"), split_rows)
    features = {split: ([band_features(os.path.join(folder, path)) for path, _ in split_rows],
                        [label for _, label in split_rows]) for split, split_rows in rows.items()}
    write_baseline(folder, logistic_baseline(
        *features["train"], *features["test"],
        "logistic regression on log band energies (32 bands × 8 time stretches), held-out voices"))

