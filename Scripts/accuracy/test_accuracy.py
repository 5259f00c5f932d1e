"""Tests of the accuracy table's helpers, on small files made here:

    python3 -m unittest discover -s Scripts/accuracy -v
"""

import json
import os
import tempfile
import unittest

from split import SplitError, split_manifest, stratified_split
from table import TableError, read_runs, table


def write(path, text):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(text)


def read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return handle.read()


class StratifiedSplitTests(unittest.TestCase):
    def test_each_class_gives_its_share_and_the_split_is_seeded(self):
        labels = ["a"] * 10 + ["b"] * 5 + ["c"] * 1
        fit, validation = stratified_split(labels, 0.2, seed=3)
        self.assertEqual(sorted(fit + validation), list(range(16)))
        self.assertEqual([labels[i] for i in validation].count("a"), 2)
        self.assertEqual([labels[i] for i in validation].count("b"), 1)
        self.assertNotIn(15, validation, "a class of one row stays in the fit part")
        self.assertEqual((fit, validation), stratified_split(labels, 0.2, seed=3))
        self.assertNotEqual(validation, stratified_split(labels, 0.2, seed=4)[1])

    def test_a_class_of_two_keeps_one_row_for_fitting(self):
        fit, validation = stratified_split(["a", "a"], 0.9, seed=0)
        self.assertEqual((len(fit), len(validation)), (1, 1))


class SplitManifestTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)

    def path(self, name):
        return os.path.join(self.folder.name, name)

    def test_rows_are_copied_byte_for_byte(self):
        rows = ['"a, quoted\r\ncell ""x""",one\r\n', "plain,one\r\n", "second,two\r\n", "third,two\r\n",
                "fourth,one\r\n", "fifth,two"]
        write(self.path("train.csv"), "text,label\r\n" + "".join(rows))
        fit, validation = split_manifest(self.path("train.csv"), self.path("fit.csv"), self.path("val.csv"),
                                         fraction=0.4, seed=1)
        self.assertEqual((fit, validation), (4, 2))
        parts = read(self.path("fit.csv")) + read(self.path("val.csv"))
        self.assertEqual(parts.count("text,label\r\n"), 2)
        for row in rows:
            self.assertIn(row if row.endswith("\r\n") else row + "\r\n", parts)
        self.assertEqual(len(parts), 2 * len("text,label\r\n") + len("".join(rows)) + 2)

    def test_tsv_and_another_label_column(self):
        write(self.path("t.tsv"), "path\tkind\nx/1.png\tcat\nx/2.png\tcat\nx/3.png\tdog\nx/4.png\tdog\n")
        split_manifest(self.path("t.tsv"), self.path("f.tsv"), self.path("v.tsv"), label_column="kind", seed=0)
        self.assertEqual(read(self.path("v.tsv")).count("\n"), 3)

    def test_problems_name_the_file(self):
        write(self.path("bad.csv"), "path,class\na.png,x\n")
        with self.assertRaisesRegex(SplitError, r"bad\.csv: has no column \"label\""):
            split_manifest(self.path("bad.csv"), self.path("f.csv"), self.path("v.csv"))
        write(self.path("one.csv"), "path,label\na.png,x\n")
        with self.assertRaisesRegex(SplitError, r"one\.csv: 1 rows are too few"):
            split_manifest(self.path("one.csv"), self.path("f.csv"), self.path("v.csv"))


class TableTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        os.mkdir(os.path.join(self.folder.name, "iris"))
        write(os.path.join(self.folder.name, "iris", "baseline.json"),
              json.dumps({"metric": "accuracy", "value": 0.95, "method": "logistic regression"}))

    def runs(self, rows):
        lines = ["dataset\tmodality\tsetting\tseed\tseconds\tresult"]
        for index, (setting, seed, seconds, accuracy) in enumerate(rows):
            if isinstance(accuracy, str):
                result = accuracy
            else:
                result = os.path.join(self.folder.name, f"{index}.json")
                write(result, json.dumps({"accuracy": accuracy, "rows": 45}))
            lines.append(f"iris\ttabular\t{setting}\t{seed}\t{seconds}\t{result}")
        path = os.path.join(self.folder.name, "runs.tsv")
        write(path, "\n".join(lines) + "\n")
        return read_runs(path)

    def test_one_row_per_dataset_with_mean_and_spread(self):
        runs = self.runs([("frozen", 0, 2.0, 0.9), ("frozen", 1, 4.0, 0.8), ("tuned", 0, 6.0, 1.0),
                          ("tuned", 1, 8.0, 1.0), ("ridge", 0, 1.0, 0.7), ("ridge", 1, 1.0, "error: bad row 3")])
        text = table(runs, self.folder.name, "random:tiny", "notes")
        self.assertIn("encoder `random:tiny`", text)
        self.assertIn("| iris | tabular | accuracy | 0.8500 ± 0.0707 | 1.0000 ± 0.0000 | failed | 0.9500 "
                      "| 3.0 / 7.0 / 1.0 |", text)
        failed = self.runs([("frozen", 0, 2.0, "error: no such file")])
        self.assertIn("| failed | — | — | 0.9500 | — / — / — |", table(failed, self.folder.name, "random:tiny", ""))
        self.assertIn("- iris ridge seed 1: bad row 3", text)

    def test_one_seed_shows_the_score_alone_and_missing_settings_a_dash(self):
        text = table(self.runs([("frozen", 0, 2.0, 0.9)]), self.folder.name, "e.safetensors", "")
        self.assertIn("| 0.9000 | — | — | 0.9500 | 2.0 / — / — |", text)

    def test_a_missing_baseline_names_its_file(self):
        runs = self.runs([("frozen", 0, 2.0, 0.9)])
        for run in runs:
            run["dataset"] = "wine"
        with self.assertRaisesRegex(TableError, r"wine/baseline\.json: cannot read the baseline"):
            table(runs, self.folder.name, "random:tiny", "")


if __name__ == "__main__":
    unittest.main()
