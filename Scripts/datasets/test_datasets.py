"""Tests of the dataset builders' own parsing, writing and sampling, on small
inputs made here (no Debian package or wheel data needed beyond numpy):

    .venv-data/bin/python -m unittest discover -s Scripts/datasets -v
"""

import gzip
import os
import struct
import tempfile
import unittest
import wave
import zlib

import numpy as np

from audio import band_features
from common import BuildError, stratified_split, write_png_gray
from graphs import read_mutag
from images import read_idx
from pointclouds import SHAPES, make_cloud, random_rotation, sample_surface
from tabular import column_name
from text import read_entries


def read_png_gray(path):
    """Minimal decoder for what `write_png_gray` writes (CRCs checked)."""
    with open(path, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 0)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(height, width + 1)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:]


class WritingTests(unittest.TestCase):
    def test_png_round_trip_keeps_every_pixel(self):
        pixels = np.random.default_rng(1).integers(0, 256, (5, 7), dtype=np.uint8)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "image.png")
            write_png_gray(path, pixels)
            np.testing.assert_array_equal(read_png_gray(path), pixels)

    def test_idx_reads_shape_and_values_and_rejects_other_types(self):
        values = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "images.gz")
            with gzip.open(path, "wb") as handle:
                handle.write(bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 3, 4) + values.tobytes())
            np.testing.assert_array_equal(read_idx(path), values)
            with gzip.open(path, "wb") as handle:
                handle.write(bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 1) + b"\0\0\0\0")
            with self.assertRaises(BuildError):
                read_idx(path)

    def test_column_names_are_snake_case(self):
        self.assertEqual(column_name("sepal length (cm)"), "sepal_length_cm")
        self.assertEqual(column_name("od280/od315_of_diluted_wines"), "od280_od315_of_diluted_wines")


class SplitTests(unittest.TestCase):
    def test_stratified_split_is_disjoint_complete_proportional_and_seeded(self):
        labels = np.array(["a"] * 50 + ["b"] * 20 + ["c"] * 3)
        train, test = stratified_split(labels, seed=5)
        self.assertEqual(sorted(np.concatenate([train, test]).tolist()), list(range(len(labels))))
        counts = {label: int((labels[test] == label).sum()) for label in "abc"}
        self.assertEqual(counts, {"a": 15, "b": 6, "c": 1})
        again_train, again_test = stratified_split(labels, seed=5)
        np.testing.assert_array_equal(train, again_train)
        np.testing.assert_array_equal(test, again_test)
        self.assertFalse(np.array_equal(test, stratified_split(labels, seed=6)[1]))


class TextTests(unittest.TestCase):
    def test_entries_split_on_percent_lines_and_lose_overstrike(self):
        content = "First line\n  second\tline\n%\nB\x08Bold and _\x08u\n%\n\n%\nlast\n"
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "category")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(content)
            self.assertEqual(read_entries(path), ["First line second line", "Bold and u", "last"])


class GraphTests(unittest.TestCase):
    def test_tu_files_become_local_undirected_labelled_graphs(self):
        # Graph 1: nodes 1–3 (C, N, O), bonds 1–2 single, 2–3 double, each
        # listed both ways; graph 2: nodes 4–5 (C, C), one aromatic bond.
        files = {
            "graph_indicator": "1\n1\n1\n2\n2\n",
            "node_labels": "0\n1\n2\n0\n0\n",
            "graph_labels": "1\n-1\n",
            "A": "1, 2\n2, 1\n2, 3\n3, 2\n4, 5\n5, 4\n",
            "edge_labels": "1\n1\n2\n2\n0\n0\n",
        }
        with tempfile.TemporaryDirectory() as folder:
            for suffix, text in files.items():
                with open(os.path.join(folder, f"MUTAG_{suffix}.txt"), "w", encoding="utf-8") as handle:
                    handle.write(text)
            graphs = read_mutag(folder)
        self.assertEqual(graphs, [
            (["C", "N", "O"], [(0, 1, "single"), (1, 2, "double")], 1),
            (["C", "C"], [(0, 1, "aromatic")], -1),
        ])


class PointCloudTests(unittest.TestCase):
    def test_surfaces_hold_their_points(self):
        rng = np.random.default_rng(3)
        sphere = sample_surface(rng, "sphere", 500)
        np.testing.assert_allclose(np.linalg.norm(sphere, axis=1), 1, atol=1e-12)
        cube = sample_surface(rng, "cube", 500)
        # Every point has one coordinate on a face: |x| at its maximum extent.
        extent = np.abs(cube).max(axis=0)
        self.assertTrue(np.all(np.isclose(np.abs(cube), extent).any(axis=1)))
        torus = sample_surface(rng, "torus", 500)
        ring = np.hypot(torus[:, 0], torus[:, 1]) - 0.7
        minor = np.hypot(ring, torus[:, 2])
        np.testing.assert_allclose(minor, minor[0], atol=1e-12)

    def test_every_shape_gives_a_full_cloud_and_rotations_are_proper(self):
        rng = np.random.default_rng(4)
        for shape in SHAPES:
            cloud = make_cloud(rng, shape)
            self.assertEqual(cloud.shape, (2048, 3), shape)
            self.assertTrue(np.isfinite(cloud).all(), shape)
        rotation = random_rotation(rng)
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
        self.assertAlmostEqual(np.linalg.det(rotation), 1.0, places=12)


class AudioTests(unittest.TestCase):
    def test_band_features_have_a_fixed_length_for_any_duration(self):
        rate = 22050
        with tempfile.TemporaryDirectory() as folder:
            for seconds in (0.02, 0.5):
                time = np.arange(int(rate * seconds)) / rate
                samples = (0.3 * np.sin(2 * np.pi * 440 * time) * 32767).astype(np.int16)
                path = os.path.join(folder, f"{seconds}.wav")
                with wave.open(path, "wb") as handle:
                    handle.setnchannels(1)
                    handle.setsampwidth(2)
                    handle.setframerate(rate)
                    handle.writeframes(samples.tobytes())
                features = band_features(path)
                self.assertEqual(features.shape, (32 * 8,))
                self.assertTrue(np.isfinite(features).all())


if __name__ == "__main__":
    unittest.main()
