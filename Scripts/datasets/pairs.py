#!/usr/bin/env python3
"""Builds the paired data of `make model` from datasets built by datasets.sh.

- data/pairs/image-text.csv: Fashion-MNIST images with captions made from the
  class name and varied templates.
- data/pairs/audio-text.csv: espeak-ng spoken digits with their transcript in
  varied templates.
- data/pairs/corpus.txt: the training texts, one per line (for the text BPE).
- data/pairs/<dataset>-zero-shot.csv: the held-out test splits labelled with
  the names the captions use, for `metatx eval --zero-shot`.
- data/pairs/{image,audio}-text-val.csv: the held-out (`val`) pairs alone,
  for `metatx eval --retrieval`.

Columns `image,text,split` / `audio,text,split`; paths are relative to
data/pairs/. Rows from a dataset's test split are marked `val` (held-out
images, held-out voices), so pretraining reports retrieval on data it never
trained on. The template of each row is drawn from a seeded generator, so a
rebuild gives the same files. Standard library only.
"""
import csv
import os
import random
import sys

IMAGE_TEMPLATES = [
    "a photo of {}", "a picture of {}", "{}", "a black and white photo of {}", "a small photo of {}",
    "an image of {}", "a product photo of {}", "a low resolution photo of {}", "{} on a plain background",
    "a centered photo of {}",
]
AUDIO_TEMPLATES = [
    "{}", "the word {}", "someone saying {}", "a voice saying {}", "the number {}", "a recording of {}",
    "a spoken {}", "{} spoken aloud",
]
FASHION_NAMES = {
    "tshirt_top": "a t-shirt", "trouser": "a pair of trousers", "pullover": "a pullover", "dress": "a dress",
    "coat": "a coat", "sandal": "a sandal", "shirt": "a shirt", "sneaker": "a sneaker", "bag": "a bag",
    "ankle_boot": "an ankle boot",
}


def read_manifest(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_pairs(path, header, rows):
    temporary = path + ".tmp"
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(temporary, path)


def build(data, name, column, templates, label_text, seed, corpus):
    rng = random.Random(seed)
    rows = []
    for split, mark in (("train", "train"), ("test", "val")):
        for row in read_manifest(os.path.join(data, name, f"{split}.csv")):
            caption = rng.choice(templates).format(label_text(row["label"]))
            rows.append([os.path.join("..", name, row["path"]), caption, mark])
            if mark == "train":
                corpus.append(caption)
    write_pairs(os.path.join(data, "pairs", f"{column}-text.csv"), [column, "text", "split"], rows)
    # The held-out pairs alone, for `metatx eval --retrieval`.
    write_pairs(os.path.join(data, "pairs", f"{column}-text-val.csv"), [column, "text"],
                [row[:2] for row in rows if row[2] == "val"])
    return len(rows)


def write_zero_shot(data, name, column, label_text):
    """The test split as a labelled manifest whose labels are the caption names, for `eval --zero-shot`."""
    rows = [[os.path.join("..", name, row["path"]), label_text(row["label"])]
            for row in read_manifest(os.path.join(data, name, "test.csv"))]
    write_pairs(os.path.join(data, "pairs", f"{name}-zero-shot.csv"), [column, "label"], rows)


def main(data):
    os.makedirs(os.path.join(data, "pairs"), exist_ok=True)
    corpus = []
    images = build(data, "fashion-mnist", "image", IMAGE_TEMPLATES, lambda label: FASHION_NAMES[label], 1, corpus)
    audio = build(data, "spoken-digits", "audio", AUDIO_TEMPLATES, lambda label: label, 2, corpus)
    write_zero_shot(data, "fashion-mnist", "image", lambda label: FASHION_NAMES[label])
    write_zero_shot(data, "spoken-digits", "audio", lambda label: label)
    # The training captions and transcripts: the corpus the default model's text BPE is learned from.
    with open(os.path.join(data, "pairs", "corpus.txt"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(corpus) + "\n")
    print(f"pairs: {images} image-text, {audio} audio-text rows in {os.path.join(data, 'pairs')}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data")
