#!/usr/bin/env python3
"""The held-out split of the model search: selection never sees a test split.

Reads data/pairs/{image,audio}-text.csv (written by Scripts/datasets/pairs.py,
whose `val` rows are the datasets' test splits) and writes, into OUT:

- image-text.csv, audio-text.csv: the `train` rows only, with a part of them
  re-marked `val`: every fifth Fashion-MNIST training image, and every clip of
  the training voices of one accent (en-gb-x-rp by default) — whole voices,
  as the real test holds out whole voices;
- image-zero-shot.csv, audio-zero-shot.csv: those held-out rows as
  `eval --zero-shot` manifests (input, class name as the captions say it).

Paths stay relative to data/pairs/, so OUT must be a sibling folder of it
(e.g. data/model-search/). Standard library only.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets"))
from pairs import AUDIO_TEMPLATES, IMAGE_TEMPLATES  # noqa: E402


def class_name(text, templates):
    """The class name inside a caption made from one of `templates`."""
    for template in sorted(templates, key=len, reverse=True):
        prefix, _, suffix = template.partition("{}")
        if text.startswith(prefix) and text.endswith(suffix) and len(text) > len(prefix) + len(suffix):
            return text[len(prefix):len(text) - len(suffix)]
    raise ValueError(f"caption {text!r} matches no template")


def split(rows, column, is_held_out, templates):
    kept, zero_shot = [], []
    for index, row in enumerate(row for row in rows if row["split"] == "train"):
        held_out = is_held_out(index, row[column])
        kept.append({column: row[column], "text": row["text"], "split": "val" if held_out else "train"})
        if held_out:
            zero_shot.append({column: row[column], "label": class_name(row["text"], templates)})
    return kept, zero_shot


def write(path, header, rows):
    with open(path + ".tmp", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", help="data/pairs")
    parser.add_argument("out", help="a sibling folder of data/pairs")
    parser.add_argument("--accent", default="en-gb-x-rp", help="training accent whose voices are held out")
    arguments = parser.parse_args()
    os.makedirs(arguments.out, exist_ok=True)
    with open(os.path.join(arguments.pairs, "image-text.csv"), newline="", encoding="utf-8") as handle:
        images = list(csv.DictReader(handle))
    with open(os.path.join(arguments.pairs, "audio-text.csv"), newline="", encoding="utf-8") as handle:
        clips = list(csv.DictReader(handle))
    image_rows, image_zero_shot = split(images, "image", lambda index, _: index % 5 == 4, IMAGE_TEMPLATES)
    voice = f"/{arguments.accent}+"
    audio_rows, audio_zero_shot = split(clips, "audio", lambda _, path: voice in path, AUDIO_TEMPLATES)
    if not audio_zero_shot:
        sys.exit(f"search_split: no training clip of accent {arguments.accent} in {arguments.pairs}/audio-text.csv")
    write(os.path.join(arguments.out, "image-text.csv"), ["image", "text", "split"], image_rows)
    write(os.path.join(arguments.out, "audio-text.csv"), ["audio", "text", "split"], audio_rows)
    write(os.path.join(arguments.out, "image-zero-shot.csv"), ["image", "label"], image_zero_shot)
    write(os.path.join(arguments.out, "audio-zero-shot.csv"), ["audio", "label"], audio_zero_shot)
    print(f"search_split: {len(image_zero_shot)} images and {len(audio_zero_shot)} clips held out "
          f"of {len(image_rows)} and {len(audio_rows)}", file=sys.stderr)


if __name__ == "__main__":
    main()
