"""MUTAG (188 molecules, mutagenic or not) from the TU-format files inside
the grakel wheel, one metatx graph JSON per molecule."""

import importlib.util
import json
import os
from collections import defaultdict

import numpy as np

from common import BuildError, logistic_baseline, stratified_split, write_baseline, write_manifest

# The TU README's codes: atoms and bonds.
ATOMS = ("C", "N", "O", "F", "I", "Cl", "Br")
BONDS = ("aromatic", "single", "double", "triple")


def mutag_folder():
    """The MUTAG files in the installed grakel package, found without
    importing grakel (only its data is used)."""
    spec = importlib.util.find_spec("grakel")
    if spec is None:
        raise BuildError("grakel: not installed (pip install --no-deps grakel)")
    folder = os.path.join(spec.submodule_search_locations[0], "tests", "data", "MUTAG")
    if not os.path.isdir(folder):
        raise BuildError(f"{folder}: missing; install grakel (pip install --no-deps grakel)")
    return folder


def read_column(folder, suffix):
    """One integer per line of `MUTAG_<suffix>.txt` (a pair for `A`)."""
    path = os.path.join(folder, f"MUTAG_{suffix}.txt")
    with open(path, encoding="utf-8") as handle:
        rows = [[int(field) for field in line.split(",")] for line in handle if line.strip()]
    return rows


def read_mutag(folder):
    """Graphs as (node labels, edges (i, j, bond) with i < j local indices,
    class); node ids are 1-based and consecutive per graph in the TU files,
    and each undirected bond is listed in both directions, kept once here."""
    indicator = [row[0] for row in read_column(folder, "graph_indicator")]
    node_labels = [row[0] for row in read_column(folder, "node_labels")]
    classes = [row[0] for row in read_column(folder, "graph_labels")]
    adjacency = read_column(folder, "A")
    edge_labels = [row[0] for row in read_column(folder, "edge_labels")]
    if len(indicator) != len(node_labels) or len(adjacency) != len(edge_labels):
        raise BuildError(f"{folder}: node or edge files disagree in length")
    first_node = {}
    nodes = defaultdict(list)
    for node, graph in enumerate(indicator, start=1):
        first_node.setdefault(graph, node)
        nodes[graph].append(ATOMS[node_labels[node - 1]])
    edges = defaultdict(dict)
    for (source, target), bond in zip(adjacency, edge_labels):
        graph = indicator[source - 1]
        if indicator[target - 1] != graph:
            raise BuildError(f"{folder}: edge {source},{target} joins two graphs")
        i, j = sorted((source - first_node[graph], target - first_node[graph]))
        previous = edges[graph].setdefault((i, j), BONDS[bond])
        if previous != BONDS[bond]:
            raise BuildError(f"{folder}: edge {source},{target} has two bond labels")
    return [(nodes[graph], sorted((i, j, bond) for (i, j), bond in edges[graph].items()), label)
            for graph, label in enumerate(classes, start=1)]


def histogram_features(atoms, edges):
    """Atom and bond counts: the cheap fixed-length view of a graph."""
    return ([atoms.count(atom) for atom in ATOMS]
            + [sum(1 for _, _, bond in edges if bond == name) for name in BONDS])


def build_mutag(folder):
    """Class −1 (not mutagenic) → `0`, 1 → `1`; seeded stratified 70/30."""
    graphs = read_mutag(mutag_folder())
    if len(graphs) != 188:
        raise BuildError(f"{mutag_folder()}: {len(graphs)} graphs, expected 188")
    labels = np.array(["1" if label == 1 else "0" for _, _, label in graphs])
    train, test = stratified_split(labels)
    for split, indices in (("train", train), ("test", test)):
        os.makedirs(os.path.join(folder, split))
        rows = []
        for index in indices:
            atoms, edges, _ = graphs[index]
            relative = f"{split}/{index:03d}.json"
            document = {
                "nodes": [{"id": node, "label": atom} for node, atom in enumerate(atoms)],
                "edges": [{"source": i, "target": j, "label": bond} for i, j, bond in edges],
            }
            with open(os.path.join(folder, relative), "w", encoding="utf-8") as handle:
                json.dump(document, handle, separators=(",", ":"))
                handle.write("\n")
            rows.append((relative, labels[index]))
        write_manifest(os.path.join(folder, f"{split}.csv"), ("path", "label"), rows)
    features = np.array([histogram_features(atoms, edges) for atoms, edges, _ in graphs])
    write_baseline(folder, logistic_baseline(
        features[train], labels[train], features[test], labels[test],
        "logistic regression on atom and bond counts (11 features)"))

