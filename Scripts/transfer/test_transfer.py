"""Tests of the transfer experiment's helpers, on small files made here:

    python3 -m unittest discover -s Scripts/transfer -v
"""

import json
import os
import struct
import tempfile
import unittest

from model_header import HeaderError, encoder_preset, pretrained_modalities, read_metadata
from transfer_table import SETTINGS, TableError, read_runs, table


def write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_safetensors(path, metadata, tensors_bytes=b"\0" * 16):
    """A safetensors file with one float32 tensor of four values and `metadata`."""
    header = {"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    if metadata is not None:
        header["__metadata__"] = metadata
    encoded = json.dumps(header).encode("utf-8")
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)) + encoded + tensors_bytes)


def model_metadata(dim=192, depth=12, heads=3, mlp=768, tokenizers=("image", "text")):
    metadata = {"format": "metatx-model", "format_version": "1", "heads": str(heads), "eps": "1e-05",
                "encoder": json.dumps({"dim": dim, "depth": depth, "heads": heads, "mlpHidden": mlp, "eps": 1e-5})}
    for modality in tokenizers:
        metadata[f"tokenizer.{modality}"] = json.dumps({"dim": dim})
    return metadata


class ModelHeaderTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.path = os.path.join(self.folder.name, "model.safetensors")

    def test_the_preset_and_the_pretrained_modalities_come_from_the_metadata(self):
        write_safetensors(self.path, model_metadata(tokenizers=("text", "audio", "image")))
        metadata = read_metadata(self.path)
        self.assertEqual(encoder_preset(self.path, metadata), "tiny")
        self.assertEqual(pretrained_modalities(self.path, metadata), ["audio", "image", "text"])
        write_safetensors(self.path, model_metadata(dim=768, heads=12, mlp=3072, tokenizers=()))
        metadata = read_metadata(self.path)
        self.assertEqual(encoder_preset(self.path, metadata), "base")
        self.assertEqual(pretrained_modalities(self.path, metadata), [])

    def test_an_encoder_of_no_preset_size_is_named_with_the_known_sizes(self):
        write_safetensors(self.path, model_metadata(dim=192, depth=6))
        with self.assertRaisesRegex(HeaderError, r"model\.safetensors: encoder dim/depth/heads/MLP 192/6/3/768 "
                                                 r"matches no random:PRESET \(known: tiny 192/12/3/768"):
            encoder_preset(self.path, read_metadata(self.path))

    def test_files_that_are_not_metatx_models_are_refused_naming_the_file(self):
        write_safetensors(self.path, {"heads": "3"})
        with self.assertRaisesRegex(HeaderError, r"model\.safetensors: not a metatx model \(metadata format is missing"):
            encoder_preset(self.path, read_metadata(self.path))
        write_safetensors(self.path, None)
        with self.assertRaisesRegex(HeaderError, "not a metatx model"):
            pretrained_modalities(self.path, read_metadata(self.path))
        metadata = model_metadata()
        metadata["encoder"] = "{\"dim\": 192}"
        write_safetensors(self.path, metadata)
        with self.assertRaisesRegex(HeaderError, r"metadata \"encoder\" is not the encoder's JSON configuration"):
            encoder_preset(self.path, read_metadata(self.path))

    def test_damaged_headers_name_the_file(self):
        with open(self.path, "wb") as handle:
            handle.write(b"\1\2")
        with self.assertRaisesRegex(HeaderError, r"model\.safetensors: is 2 bytes long"):
            read_metadata(self.path)
        with open(self.path, "wb") as handle:
            handle.write(struct.pack("<Q", 100) + b"{}")
        with self.assertRaisesRegex(HeaderError, r"header is cut short \(2 of 100 bytes\)"):
            read_metadata(self.path)
        with open(self.path, "wb") as handle:
            handle.write(struct.pack("<Q", 3) + b"{x}")
        with self.assertRaisesRegex(HeaderError, "header is not JSON"):
            read_metadata(self.path)
        with open(self.path, "wb") as handle:
            handle.write(b"PK\3\4" + b"\xff" * 12)
        with self.assertRaisesRegex(HeaderError, "is implausible; not a safetensors file"):
            read_metadata(self.path)


class TransferTableTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)

    def runs(self, rows):
        """A runs.tsv of (dataset, modality, setting, seed, seconds, accuracy or "error: …") rows, read back."""
        lines = ["dataset\tmodality\tsetting\tseed\tseconds\tresult"]
        for index, (dataset, modality, setting, seed, seconds, accuracy) in enumerate(rows):
            if isinstance(accuracy, str):
                result = accuracy
            else:
                result = os.path.join(self.folder.name, f"{index}.json")
                write(result, json.dumps({"accuracy": accuracy, "rows": 40}))
            lines.append(f"{dataset}\t{modality}\t{setting}\t{seed}\t{seconds}\t{result}")
        path = os.path.join(self.folder.name, "runs.tsv")
        write(path, "\n".join(lines) + "\n")
        return read_runs(path, SETTINGS)

    def test_three_settings_side_by_side_with_the_paired_difference(self):
        runs = self.runs([
            ("wine", "tabular", "pretrained", 0, 2.0, 0.9), ("wine", "tabular", "random", 0, 2.0, 0.8),
            ("wine", "tabular", "tuned", 0, 6.0, 1.0),
            ("wine", "tabular", "pretrained", 1, 4.0, 0.8), ("wine", "tabular", "random", 1, 4.0, 0.8),
            ("wine", "tabular", "tuned", 1, 8.0, 1.0),
        ])
        text = table(runs, "data/model.safetensors", "random:tiny", ["audio", "image", "text"], "notes")
        self.assertIn("pretrained `data/model.safetensors` against a random `random:tiny` encoder", text)
        self.assertIn("| wine | tabular | 0.8500 ± 0.0707 | 0.8000 ± 0.0000 | 1.0000 ± 0.0000 | +0.0500 ± 0.0707 "
                      "| 3.0 / 3.0 / 7.0 |", text)
        self.assertIn("pretrained on: audio, image, text.", text)
        self.assertNotIn("\\*", text)
        self.assertTrue(text.endswith("notes\n"))

    def test_one_seed_shows_plain_values_and_a_signed_difference(self):
        runs = self.runs([("mutag", "graph", "pretrained", 0, 1.0, 0.7), ("mutag", "graph", "random", 0, 1.0, 0.75)])
        text = table(runs, "m.safetensors", "random:tiny", [], "")
        self.assertIn("| mutag | graph | 0.7000 | 0.7500 | — | -0.0500 | 1.0 / 1.0 / — |", text)
        self.assertIn("pretrained on: none.", text)

    def test_failures_are_named_and_the_difference_uses_the_seeds_where_both_ran(self):
        runs = self.runs([
            ("gunpoint", "timeseries", "pretrained", 0, 1.0, 0.9), ("gunpoint", "timeseries", "random", 0, 1.0, 0.6),
            ("gunpoint", "timeseries", "pretrained", 1, 1.0, 0.8),
            ("gunpoint", "timeseries", "random", 1, 1.0, "error: data/gunpoint/train-fit.csv: row 3: bad"),
            ("gunpoint", "timeseries", "tuned", 0, 1.0, "error: out of memory"),
        ])
        text = table(runs, "m.safetensors", "random:tiny", [], "")
        self.assertIn("| gunpoint | timeseries | 0.8500 ± 0.0707 | failed (1 of 2) | failed (1 of 1) | +0.3000 "
                      "| 1.0 / 1.0 / — |", text)
        self.assertIn("- gunpoint random seed 1: data/gunpoint/train-fit.csv: row 3: bad", text)
        self.assertIn("- gunpoint tuned seed 0: out of memory", text)

    def test_a_modality_seen_in_pretraining_is_marked(self):
        runs = self.runs([("digits", "image", "pretrained", 0, 1.0, 0.9)])
        text = table(runs, "m.safetensors", "random:tiny", ["image", "text"], "")
        self.assertIn("| digits | image * |", text)
        self.assertIn("\\* The model was pretrained on this modality", text)

    def test_settings_of_the_accuracy_table_are_refused(self):
        with self.assertRaisesRegex(TableError, r"runs\.tsv: row 2: setting \"frozen\" is not one of pretrained"):
            self.runs([("wine", "tabular", "frozen", 0, 1.0, 0.9)])


if __name__ == "__main__":
    unittest.main()
