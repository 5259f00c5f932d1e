"""Golden values for the evaluation metrics (Sources/MetaTX/Tasks/Metrics.swift).

Writes Tests/MetaTXTests/MetricsGolden.swift: small fixed inputs (as float32, exactly the Float
values Swift parses from the same decimal literals) and what scikit-learn computes from them.

    python3 -m venv /tmp/venv-metrics && /tmp/venv-metrics/bin/pip install numpy scikit-learn
    /tmp/venv-metrics/bin/python Scripts/reference/metrics_golden.py

The inputs are chosen to hit the conventions the Swift code documents: tied scores (top-k order,
argmax, average-precision thresholds), a class never predicted, a class absent from targets and
predictions, a label without positives, a label never predicted, a constant regression target.
Retrieval has no sklearn function; its reference is the plain numpy below.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_fscore_support,
    r2_score,
    top_k_accuracy_score,
)

OUTPUT = Path(__file__).resolve().parents[2] / "Tests/MetaTXTests/MetricsGolden.swift"

# Single-label: 4 classes; class 2 has support but is never predicted, class 3 never occurs.
# Row 3 ties classes 0 and 1 (argmax takes 0, sklearn's top-k ranks 1 first); row 7 ties all.
CLASSIFICATION_SCORES = [
    [0.70, 0.20, 0.05, 0.05],
    [0.10, 0.60, 0.25, 0.05],
    [0.30, 0.30, 0.20, 0.20],
    [0.40, 0.40, 0.15, 0.05],
    [0.20, 0.50, 0.25, 0.05],
    [0.05, 0.45, 0.40, 0.10],
    [0.55, 0.15, 0.25, 0.05],
    [0.25, 0.25, 0.25, 0.25],
    [0.10, 0.80, 0.05, 0.05],
    [0.35, 0.05, 0.30, 0.30],
]
CLASSIFICATION_TARGETS = [0, 1, 1, 1, 2, 2, 2, 0, 1, 0]

# Multi-label: 4 labels; label 2 has no positives, label 3 is never above 0.5; label 0 has
# tied scores across a positive and a negative row; row 4 is exactly at the 0.5 threshold.
MULTILABEL_PROBABILITIES = [
    [0.90, 0.20, 0.10, 0.40],
    [0.60, 0.80, 0.30, 0.20],
    [0.60, 0.40, 0.05, 0.45],
    [0.20, 0.70, 0.60, 0.10],
    [0.50, 0.55, 0.20, 0.30],
    [0.10, 0.10, 0.10, 0.35],
    [0.75, 0.65, 0.40, 0.05],
    [0.30, 0.45, 0.20, 0.25],
]
MULTILABEL_TARGETS = [
    [1, 0, 0, 1],
    [1, 1, 0, 0],
    [0, 0, 0, 1],
    [0, 1, 0, 0],
    [1, 1, 0, 0],
    [0, 0, 0, 0],
    [1, 0, 0, 1],
    [0, 1, 0, 0],
]

# Regression: two targets, the second constant in the targets (R² then follows force_finite).
REGRESSION_PREDICTIONS = [[2.5, 1.0], [0.0, 1.5], [2.0, 0.5], [8.0, 1.0], [-1.5, 1.25], [4.0, 1.0]]
REGRESSION_TARGETS = [[3.0, 1.0], [-0.5, 1.0], [2.0, 1.0], [7.0, 1.0], [-1.0, 1.0], [4.5, 1.0]]

# Retrieval: 5 pairs; row 2 ties its match with column 4, row 3's match is beaten twice.
SIMILARITY = [
    [0.90, 0.10, 0.95, 0.20, 0.30],
    [0.40, 0.80, 0.10, 0.30, 0.20],
    [0.10, 0.20, 0.60, 0.30, 0.60],
    [0.95, 0.20, 0.10, 0.70, 0.90],
    [0.20, 0.10, 0.30, 0.85, 0.50],
]
RECALL_KS = [1, 2, 3]


def retrieval_reference(similarity):
    """1-based ranks (ties ahead of the match) both ways, recall@k, floor of the numpy median."""
    diagonal = np.diag(similarity)
    rows_to_columns = (similarity >= diagonal[:, None]).sum(axis=1)
    columns_to_rows = (similarity >= diagonal[None, :]).sum(axis=0)
    directions = []
    for ranks in (rows_to_columns, columns_to_rows):
        directions.append(
            {
                "ranks": ranks.tolist(),
                "recall": [float(np.mean(ranks <= k)) for k in RECALL_KS],
                "median": int(np.floor(np.median(ranks))),
                "mean": float(np.mean(ranks)),
            }
        )
    return directions


def swift_doubles(values):
    return "[" + ", ".join("nil" if v is None else repr(float(v)) for v in values) + "]"


def swift_matrix(rows):
    return "[\n" + "".join(f"      {list(row)},\n" for row in rows) + "    ]"


def main():
    warnings.simplefilter("ignore", UndefinedMetricWarning)
    warnings.filterwarnings("ignore", message="No positive class found in y_true")
    lines = []
    emit = lines.append

    scores = np.array(CLASSIFICATION_SCORES, dtype=np.float32)
    targets = np.array(CLASSIFICATION_TARGETS)
    classes = scores.shape[1]
    labels = list(range(classes))
    predicted = np.argmax(scores, axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        targets, predicted, labels=labels, zero_division=0
    )
    # No `labels`: sklearn's default class set, those among targets or predictions.
    macro = precision_recall_fscore_support(targets, predicted, average="macro", zero_division=0)
    weighted = precision_recall_fscore_support(targets, predicted, average="weighted", zero_division=0)
    emit("  enum Classification {")
    emit(f"    static let scores: [[Float]] = {swift_matrix(CLASSIFICATION_SCORES)}")
    emit(f"    static let targets = {CLASSIFICATION_TARGETS}")
    emit(f"    static let predicted = {predicted.tolist()}")
    emit(f"    static let accuracy = {accuracy_score(targets, predicted)!r}")
    topk = [top_k_accuracy_score(targets, scores, k=k, labels=labels) for k in (1, 2, 3)]
    emit(f"    /// k = 1, 2, 3")
    emit(f"    static let topK = {swift_doubles(topk)}")
    emit(f"    static let precision = {swift_doubles(precision)}")
    emit(f"    static let recall = {swift_doubles(recall)}")
    emit(f"    static let f1 = {swift_doubles(f1)}")
    emit(f"    static let support = {support.tolist()}")
    emit(f"    /// precision, recall, f1")
    emit(f"    static let macro = {swift_doubles(macro[:3])}")
    emit(f"    static let weighted = {swift_doubles(weighted[:3])}")
    matrix = confusion_matrix(targets, predicted, labels=labels)
    emit(f"    static let confusionMatrix = {swift_matrix(matrix.tolist())}")
    emit("  }")
    emit("")

    probabilities = np.array(MULTILABEL_PROBABILITIES, dtype=np.float32)
    label_targets = np.array(MULTILABEL_TARGETS)
    kept = label_targets.sum(axis=0) > 0
    per_label_ap = average_precision_score(label_targets[:, kept], probabilities[:, kept], average=None)
    ap_iter = iter(per_label_ap)
    per_label_ap = [next(ap_iter) if keep else None for keep in kept]
    mean_ap = average_precision_score(label_targets[:, kept], probabilities[:, kept], average="macro")
    decisions = (probabilities > 0.5).astype(int)
    label_precision, label_recall, label_f1, label_support = precision_recall_fscore_support(
        label_targets, decisions, zero_division=0
    )
    micro = precision_recall_fscore_support(label_targets, decisions, average="micro", zero_division=0)
    label_macro = precision_recall_fscore_support(label_targets, decisions, average="macro", zero_division=0)
    assert micro[2] == f1_score(label_targets, decisions, average="micro", zero_division=0)
    emit("  enum MultiLabel {")
    emit(f"    static let probabilities: [[Float]] = {swift_matrix(MULTILABEL_PROBABILITIES)}")
    emit(f"    static let targets: [[Float]] = {swift_matrix(MULTILABEL_TARGETS)}")
    emit(f"    static let averagePrecision: [Double?] = {swift_doubles(per_label_ap)}")
    emit(f"    static let meanAveragePrecision = {mean_ap!r}")
    emit(f"    /// sklearn's macro AP over all labels, a label without positives counted as 0.")
    emit(f"    static let sklearnMacroOverAllLabels = {average_precision_score(label_targets, probabilities)!r}")
    emit(f"    static let precision = {swift_doubles(label_precision)}")
    emit(f"    static let recall = {swift_doubles(label_recall)}")
    emit(f"    static let f1 = {swift_doubles(label_f1)}")
    emit(f"    static let support = {label_support.tolist()}")
    emit(f"    static let predicted = {decisions.sum(axis=0).tolist()}")
    emit(f"    /// precision, recall, f1")
    emit(f"    static let micro = {swift_doubles(micro[:3])}")
    emit(f"    static let macro = {swift_doubles(label_macro[:3])}")
    emit("  }")
    emit("")

    regression_predictions = np.array(REGRESSION_PREDICTIONS, dtype=np.float32).astype(np.float64)
    regression_targets = np.array(REGRESSION_TARGETS, dtype=np.float32).astype(np.float64)
    emit("  enum Regression {")
    emit(f"    static let predictions: [[Float]] = {swift_matrix(REGRESSION_PREDICTIONS)}")
    emit(f"    static let targets: [[Float]] = {swift_matrix(REGRESSION_TARGETS)}")
    for name, function in (("meanSquaredError", mean_squared_error), ("meanAbsoluteError", mean_absolute_error),
                           ("r2", r2_score)):
        per_target = function(regression_targets, regression_predictions, multioutput="raw_values")
        overall = function(regression_targets, regression_predictions)
        emit(f"    static let {name} = {overall!r}")
        emit(f"    static let {name}PerTarget = {swift_doubles(per_target)}")
    emit("  }")
    emit("")

    directions = retrieval_reference(np.array(SIMILARITY, dtype=np.float32))
    emit("  enum Retrieval {")
    emit(f"    static let similarity: [[Float]] = {swift_matrix(SIMILARITY)}")
    emit(f"    static let ks = {RECALL_KS}")
    for name, direction in zip(("rowsToColumns", "columnsToRows"), directions):
        emit(f"    static let {name}Ranks = {direction['ranks']}")
        emit(f"    static let {name}Recall = {swift_doubles(direction['recall'])}")
        emit(f"    static let {name}MedianRank = {direction['median']}")
        emit(f"    static let {name}MeanRank = {direction['mean']!r}")
    emit("  }")

    header = [
        f"// Generated by Scripts/reference/metrics_golden.py with scikit-learn {sklearn.__version__},",
        f"// numpy {np.__version__}. Do not edit: change the script and rerun it.",
        "",
        "/// Inputs and scikit-learn's values for `MetricsTests`.",
        "enum MetricsGolden {",
    ]
    OUTPUT.write_text("\n".join(header + lines + ["}", ""]))
    print(f"wrote {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
