"""Synthetic point clouds: seven primitives sampled uniformly on their
surface, with jittered proportions, random rotation, scale, offset and
Gaussian noise; one `.xyz` text file (`x y z` per line) per cloud."""

import os

import numpy as np

from common import SEED, logistic_baseline, write_baseline, write_manifest

SHAPES = ("sphere", "cube", "cylinder", "cone", "torus", "pyramid", "capsule")
POINTS = 2048
TRAIN_PER_SHAPE = 100
TEST_PER_SHAPE = 30
NOISE = 0.01          # standard deviation, relative to the scale
SCALE_RANGE = (0.5, 2.0)


def pick_parts(rng, areas, count):
    """How many of `count` points land on each part, in proportion to area."""
    return rng.multinomial(count, np.asarray(areas) / np.sum(areas))


def disc(rng, count, radius, height):
    """Uniform on the disc of `radius` in the plane z = `height`."""
    r = radius * np.sqrt(rng.random(count))
    angle = rng.uniform(0, 2 * np.pi, count)
    return np.column_stack([r * np.cos(angle), r * np.sin(angle), np.full(count, height)])


def triangle(rng, count, a, b, c):
    """Uniform on the triangle abc (the square-root trick)."""
    u, v = np.sqrt(rng.random((count, 1))), rng.random((count, 1))
    return (1 - u) * a + u * (1 - v) * b + u * v * c


def sample_surface(rng, shape, count):
    """`count` points uniform on the surface of `shape`, centred, about unit
    size; proportions jittered per sample → [count, 3]."""
    if shape == "sphere":
        points = rng.normal(size=(count, 3))
        return points / np.linalg.norm(points, axis=1, keepdims=True)
    if shape == "cube":
        sides = rng.uniform(0.7, 1.3, 3)
        areas = [sides[1] * sides[2], sides[0] * sides[2], sides[0] * sides[1]] * 2
        parts = []
        for face, n in enumerate(pick_parts(rng, areas, count)):
            axis, sign = face % 3, 1 if face < 3 else -1
            points = rng.uniform(-0.5, 0.5, (n, 3)) * sides
            points[:, axis] = sign * sides[axis] / 2
            parts.append(points)
        return np.concatenate(parts)
    if shape == "cylinder":
        radius, height = 0.5, rng.uniform(0.8, 2.0)
        side, top, bottom = pick_parts(rng, [2 * np.pi * radius * height, np.pi * radius ** 2,
                                             np.pi * radius ** 2], count)
        angle = rng.uniform(0, 2 * np.pi, side)
        wall = np.column_stack([radius * np.cos(angle), radius * np.sin(angle),
                                rng.uniform(-height / 2, height / 2, side)])
        return np.concatenate([wall, disc(rng, top, radius, height / 2), disc(rng, bottom, radius, -height / 2)])
    if shape == "cone":
        radius, height = 0.5, rng.uniform(0.8, 2.0)
        slant = np.hypot(radius, height)
        side, base = pick_parts(rng, [np.pi * radius * slant, np.pi * radius ** 2], count)
        # Distance from the apex as a fraction of the slant: density ∝ t.
        t = np.sqrt(rng.random(side))
        angle = rng.uniform(0, 2 * np.pi, side)
        wall = np.column_stack([t * radius * np.cos(angle), t * radius * np.sin(angle),
                                height / 2 - t * height])
        return np.concatenate([wall, disc(rng, base, radius, -height / 2)])
    if shape == "torus":
        major, minor = 0.7, rng.uniform(0.15, 0.35)
        points = []
        while sum(len(p) for p in points) < count:
            theta, phi = rng.uniform(0, 2 * np.pi, (2, count))
            # The outer side has more area: accept ∝ (R + r cos φ).
            keep = rng.random(count) < (major + minor * np.cos(phi)) / (major + minor)
            theta, phi = theta[keep], phi[keep]
            ring = major + minor * np.cos(phi)
            points.append(np.column_stack([ring * np.cos(theta), ring * np.sin(theta), minor * np.sin(phi)]))
        return np.concatenate(points)[:count]
    if shape == "pyramid":
        half, height = 0.5, rng.uniform(0.8, 1.6)
        apex = np.array([0.0, 0.0, height / 2])
        corners = [np.array([x, y, -height / 2]) for x, y in ((-half, -half), (half, -half), (half, half), (-half, half))]
        face_area = half * np.hypot(half, height)  # (1/2) · base edge 2·half · slant height
        parts = pick_parts(rng, [face_area] * 4 + [(2 * half) ** 2], count)
        points = [triangle(rng, parts[k], apex, corners[k], corners[(k + 1) % 4]) for k in range(4)]
        base = np.column_stack([rng.uniform(-half, half, (parts[4], 2)), np.full(parts[4], -height / 2)])
        return np.concatenate(points + [base])
    if shape == "capsule":
        radius, length = 0.4, rng.uniform(0.6, 1.6)
        side, caps = pick_parts(rng, [2 * np.pi * radius * length, 4 * np.pi * radius ** 2], count)
        angle = rng.uniform(0, 2 * np.pi, side)
        wall = np.column_stack([radius * np.cos(angle), radius * np.sin(angle),
                                rng.uniform(-length / 2, length / 2, side)])
        ends = rng.normal(size=(caps, 3))
        ends = radius * ends / np.linalg.norm(ends, axis=1, keepdims=True)
        ends[:, 2] += np.where(ends[:, 2] >= 0, length / 2, -length / 2)
        return np.concatenate([wall, ends])
    raise ValueError(f"unknown shape {shape}")


def random_rotation(rng):
    """A uniformly random rotation (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def make_cloud(rng, shape):
    """One noisy, rotated, scaled, shifted cloud of `POINTS` points, in a
    shuffled order → [POINTS, 3]."""
    points = sample_surface(rng, shape, POINTS)
    scale = rng.uniform(*SCALE_RANGE)
    points = points @ random_rotation(rng).T * scale + rng.uniform(-0.5, 0.5, 3)
    points += rng.normal(scale=NOISE * scale, size=points.shape)
    return points[rng.permutation(POINTS)]


def shape_features(rng, points, bins=32, pairs=4000):
    """Rotation-, scale- and shift-free summary for the baseline: histograms
    of the distance to the centroid (over the largest) and of distances
    between random point pairs (over their mean; Osada et al.'s D2)."""
    radial = np.linalg.norm(points - points.mean(axis=0), axis=1)
    first, second = rng.integers(0, len(points), (2, pairs))
    pairwise = np.linalg.norm(points[first] - points[second], axis=1)
    return np.concatenate([np.histogram(radial / radial.max(), bins, (0, 1))[0] / len(points),
                           np.histogram(pairwise / pairwise.mean(), bins, (0, 3))[0] / pairs])


def build_primitives(folder):
    """`TRAIN_PER_SHAPE` / `TEST_PER_SHAPE` clouds per shape, all from one
    seeded generator (train first, then test)."""
    rng = np.random.default_rng(SEED)
    features = {}
    for split, per_shape in (("train", TRAIN_PER_SHAPE), ("test", TEST_PER_SHAPE)):
        os.makedirs(os.path.join(folder, split))
        rows, split_features = [], []
        for shape in SHAPES:
            for index in range(per_shape):
                cloud = make_cloud(rng, shape)
                relative = f"{split}/{shape}-{index:03d}.xyz"
                np.savetxt(os.path.join(folder, relative), cloud, fmt="%.5f")
                rows.append((relative, shape))
                split_features.append(shape_features(rng, cloud))
        write_manifest(os.path.join(folder, f"{split}.csv"), ("path", "label"), rows)
        features[split] = (split_features, [label for _, label in rows])
    write_baseline(folder, logistic_baseline(
        *features["train"], *features["test"],
        "logistic regression on centroid-distance and pair-distance (D2) histograms"))

