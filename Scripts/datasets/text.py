"""Text classification: which fortune file (Debian `fortunes`) an entry
comes from. Manifests hold the text inline (`text,label`)."""

import os
import re

import numpy as np

from common import BuildError, stratified_split, write_baseline, write_manifest

FORTUNES_SOURCE = "/usr/share/games/fortunes"

# Categories with fewer entries are left out: too few to learn a style from.
MINIMUM_ENTRIES = 300

# "X\bX" (bold) and "_\bX" (underline) are overstrike from the typewriter era.
OVERSTRIKE = re.compile(r".\x08")


def read_entries(path):
    """A fortune file's entries (separated by a line holding only `%`), each
    made one line: overstrike removed, whitespace runs joined by one space."""
    with open(path, encoding="utf-8") as handle:
        content = handle.read()
    entries = []
    for entry in re.split(r"^%\n", content, flags=re.MULTILINE):
        text = " ".join(OVERSTRIKE.sub("", entry).split())
        if text:
            entries.append(text)
    return entries


def build_fortunes(folder):
    """Top-level fortune files with at least `MINIMUM_ENTRIES` entries (the
    `.dat` indexes, `.u8` copies and other languages' subfolders skipped);
    seeded stratified 70/30 split."""
    if not os.path.isdir(FORTUNES_SOURCE):
        raise BuildError(f"{FORTUNES_SOURCE}: missing; install the Debian package fortunes")
    texts, labels = [], []
    for name in sorted(os.listdir(FORTUNES_SOURCE)):
        path = os.path.join(FORTUNES_SOURCE, name)
        if not os.path.isfile(path) or name.endswith((".dat", ".u8")):
            continue
        entries = read_entries(path)
        if len(entries) >= MINIMUM_ENTRIES:
            texts.extend(entries)
            labels.extend([name] * len(entries))
    if not texts:
        raise BuildError(f"{FORTUNES_SOURCE}: no category with {MINIMUM_ENTRIES} entries")
    texts, labels = np.array(texts, dtype=object), np.array(labels)
    train, test = stratified_split(labels)
    for split, indices in (("train", train), ("test", test)):
        write_manifest(os.path.join(folder, f"{split}.csv"), ("text", "label"),
                       zip(texts[indices], labels[indices]))

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    # Text has no raw numeric features: the cheap classical baseline is word
    # TF-IDF (unigrams and bigrams) with logistic regression.
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    train_x = vectorizer.fit_transform(texts[train])
    model = LogisticRegression(max_iter=3000).fit(train_x, labels[train])
    accuracy = float(model.score(vectorizer.transform(texts[test]), labels[test]))
    write_baseline(folder, {"metric": "accuracy", "value": round(accuracy, 4),
                            "method": "logistic regression on word 1–2-gram TF-IDF"})

