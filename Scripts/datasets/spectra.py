"""Coffee ATR-FTIR spectra (chemotools): 60 spectra × 1841 bands from three
origins, the stand-in for per-pixel hyperspectral classification.

Layout (both readable by metatx's hyperspectral reader, which takes a CSV as
one spectrum per row, every column a band, header detected):
- `<split>/<index>.csv`: one spectrum per file (header + one row), listed in
  the `<split>.csv` manifest (`path,label`) like every other file modality;
- `<split>-spectra.csv`: the whole split, one spectrum per row, in manifest
  order (row k ↔ manifest row k), for reading a split in one go."""

import os

import numpy as np

from common import BuildError, logistic_baseline, stratified_split, write_baseline, write_manifest


def build_coffee(folder):
    """Seeded stratified 70/30 split; labels are the origins as chemotools
    names them (Brasil, Ethiopia, Vietnam)."""
    from chemotools.datasets import load_coffee

    spectra, origins = load_coffee()
    spectra = spectra.to_numpy(dtype=np.float64)
    labels = origins.iloc[:, 0].astype(str).to_numpy()
    if spectra.ndim != 2 or len(spectra) != len(labels):
        raise BuildError(f"chemotools load_coffee: spectra {spectra.shape} and {len(labels)} labels disagree")
    header = [f"band_{band:04d}" for band in range(spectra.shape[1])]
    train, test = stratified_split(labels)
    for split, indices in (("train", train), ("test", test)):
        os.makedirs(os.path.join(folder, split))
        rows, table = [], []
        for index in indices:
            values = [repr(float(value)) for value in spectra[index]]
            relative = f"{split}/{index:03d}.csv"
            write_manifest(os.path.join(folder, relative), header, [values])
            rows.append((relative, labels[index]))
            table.append(values)
        write_manifest(os.path.join(folder, f"{split}.csv"), ("path", "label"), rows)
        write_manifest(os.path.join(folder, f"{split}-spectra.csv"), header, table)
    write_baseline(folder, logistic_baseline(
        spectra[train], labels[train], spectra[test], labels[test],
        "logistic regression on the 1841 standardised bands"))

