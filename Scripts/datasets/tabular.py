"""Tabular datasets from scikit-learn (iris, wine, breast cancer): per split
one CSV holding the features (snake_case header) and a `label` column."""

import os
import re

from common import BuildError, logistic_baseline, stratified_split, write_baseline, write_manifest


def column_name(feature):
    """`"sepal length (cm)"` → `sepal_length_cm`: header names a shell and a
    `--target`-style option can quote without trouble."""
    return re.sub(r"[^0-9a-z]+", "_", feature.lower()).strip("_")


def build_table(folder, bunch):
    """Seeded stratified 70/30 split of a scikit-learn `Bunch`; the label is
    the class name (`target_names`), the features are written with `repr`
    so the CSV holds the exact float64 values."""
    header = [column_name(feature) for feature in bunch.feature_names] + ["label"]
    if "label" in header[:-1]:
        raise BuildError(f"{folder}: a feature is already called label")
    train, test = stratified_split(bunch.target)
    for split, indices in (("train", train), ("test", test)):
        rows = [[repr(float(value)) for value in bunch.data[index]]
                + [str(bunch.target_names[bunch.target[index]])] for index in indices]
        write_manifest(os.path.join(folder, f"{split}.csv"), header, rows)
    write_baseline(folder, logistic_baseline(
        bunch.data[train], bunch.target[train], bunch.data[test], bunch.target[test],
        "logistic regression on the standardised features"))


def build_iris(folder):
    from sklearn.datasets import load_iris
    build_table(folder, load_iris())


def build_wine(folder):
    from sklearn.datasets import load_wine
    build_table(folder, load_wine())


def build_breast_cancer(folder):
    from sklearn.datasets import load_breast_cancer
    build_table(folder, load_breast_cancer())

