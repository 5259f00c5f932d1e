"""Tests of search_split.py: which rows are held out, and the class names recovered from captions."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import search_split  # noqa: E402


class ClassNameTests(unittest.TestCase):
    def test_longest_template_wins(self):
        templates = ["{}", "a photo of {}", "a small photo of {}"]
        self.assertEqual(search_split.class_name("a small photo of a bag", templates), "a bag")
        self.assertEqual(search_split.class_name("a photo of a bag", templates), "a bag")
        self.assertEqual(search_split.class_name("a bag", templates), "a bag")

    def test_unknown_caption_is_an_error(self):
        with self.assertRaises(ValueError):
            search_split.class_name("nothing matches", ["a photo of {}"])


class SplitTests(unittest.TestCase):
    def test_held_out_rows_come_from_training_rows_only(self):
        with tempfile.TemporaryDirectory() as folder:
            pairs = os.path.join(folder, "pairs")
            os.makedirs(pairs)
            with open(os.path.join(pairs, "image-text.csv"), "w", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(["image", "text", "split"])
                for index in range(10):
                    writer.writerow([f"../f/train/{index}.png", "a photo of a bag", "train"])
                writer.writerow(["../f/test/0.png", "a photo of a coat", "val"])
            with open(os.path.join(pairs, "audio-text.csv"), "w", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(["audio", "text", "split"])
                writer.writerow(["../s/train/en-us+m1/one-0.wav", "the word one", "train"])
                writer.writerow(["../s/train/en-gb-x-rp+m1/two-0.wav", "someone saying two", "train"])
                writer.writerow(["../s/test/en-029+m1/three-0.wav", "three", "val"])
            out = os.path.join(folder, "search")
            subprocess.run([sys.executable, os.path.join(HERE, "search_split.py"), pairs, out], check=True,
                           capture_output=True)
            with open(os.path.join(out, "image-text.csv"), newline="") as handle:
                images = list(csv.DictReader(handle))
            self.assertEqual(len(images), 10, "the test split's row is dropped")
            self.assertEqual([row["split"] for row in images].count("val"), 2, "every fifth training image")
            with open(os.path.join(out, "audio-zero-shot.csv"), newline="") as handle:
                clips = list(csv.DictReader(handle))
            self.assertEqual(clips, [{"audio": "../s/train/en-gb-x-rp+m1/two-0.wav", "label": "two"}])
            with open(os.path.join(out, "image-zero-shot.csv"), newline="") as handle:
                self.assertEqual({row["label"] for row in csv.DictReader(handle)}, {"a bag"})


if __name__ == "__main__":
    unittest.main()
