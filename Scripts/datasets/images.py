"""Image datasets: Fashion-MNIST (Debian `dataset-fashion-mnist`) and
scikit-learn's digits, one 8-bit grayscale PNG per image."""

import gzip
import os

import numpy as np

from common import BuildError, logistic_baseline, stratified_split, write_baseline, write_manifest, write_png_gray

FASHION_MNIST_SOURCE = "/usr/share/datasets/fashion-mnist"

# Class names in label order (Zalando's README), made file-name safe.
FASHION_MNIST_CLASSES = ["tshirt_top", "trouser", "pullover", "dress", "coat",
                         "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def read_idx(path):
    """Reads a gzipped IDX file (big-endian magic: 0, 0, type 0x08 = uint8,
    rank) as a uint8 array of the shape its header gives."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise BuildError(f"{path}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * axis: 8 + 4 * axis], "big") for axis in range(rank))
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if values.size != int(np.prod(shape)):
        raise BuildError(f"{path}: header says {shape} but holds {values.size} bytes")
    return values.reshape(shape)


def write_image_split(folder, split, images, labels, class_names):
    """Writes `<split>/<index>.png` per image and the `<split>.csv` manifest."""
    os.makedirs(os.path.join(folder, split))
    rows = []
    for index, (image, label) in enumerate(zip(images, labels)):
        relative = f"{split}/{index:05d}.png"
        write_png_gray(os.path.join(folder, relative), image)
        rows.append((relative, class_names[label]))
    write_manifest(os.path.join(folder, f"{split}.csv"), ("path", "label"), rows)


def build_fashion_mnist(folder, limit):
    """Official 60k/10k split; `limit` keeps the first N of each split (the
    files are already shuffled, so the classes stay near-balanced)."""
    splits = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(os.path.join(FASHION_MNIST_SOURCE, f"{prefix}-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(FASHION_MNIST_SOURCE, f"{prefix}-labels-idx1-ubyte.gz"))
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        write_image_split(folder, split, images, labels, FASHION_MNIST_CLASSES)
        splits[split] = (images.reshape(len(images), -1), labels)
    write_baseline(folder, logistic_baseline(*splits["train"], *splits["test"],
                                             "logistic regression on the 784 raw pixels"))


def build_digits(folder):
    """scikit-learn's 1797 8×8 digits (values 0–16, scaled ×255/16 and rounded
    to 8 bits); seeded stratified 70/30 split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
    train, test = stratified_split(digits.target)
    names = [str(digit) for digit in range(10)]
    write_image_split(folder, "train", images[train], digits.target[train], names)
    write_image_split(folder, "test", images[test], digits.target[test], names)
    write_baseline(folder, logistic_baseline(
        digits.data[train], digits.target[train], digits.data[test], digits.target[test],
        "logistic regression on the 64 raw pixels"))

