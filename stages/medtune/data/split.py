"""Splits: train/validation/test stratified by question type and grouped by focus.

No focus (disease, gene, topic) ever sits in two splits, so the test set measures answers about
conditions the model has not been trained on. The test and validation sets are chosen from the
whole pool first and do not depend on `train_fraction`, which only subsamples what remains (the
progressive-training knob): growing the training share never moves a test question.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import numpy as np


def grouped_stratified_split(labels: list[str], groups: list[str], test_fraction: float,
                             validation_fraction: float, seed: int) -> list[str]:
    """Assign "train"/"validation"/"test" to each row; groups never straddle splits.

    Greedy, like sklearn's StratifiedGroupKFold but for three unequal parts and ~20x faster: groups go
    largest first (ties in seeded random order) to the split whose share of the group's question types
    is furthest below its target, each type weighted by its rarity.
    """
    targets = {"train": 1.0 - test_fraction - validation_fraction, "validation": validation_fraction,
               "test": test_fraction}
    targets = {name: frac for name, frac in targets.items() if frac > 0}
    classes = {c: i for i, c in enumerate(sorted(set(labels)))}
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    order = sorted(members)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda g: -len(members[g]))  # stable: equal sizes keep the seeded order
    totals = np.zeros(len(classes))
    np.add.at(totals, [classes[c] for c in labels], 1)
    filled = {name: np.zeros(len(classes)) for name in targets}
    assignment = [""] * len(labels)
    for g in order:
        vec = np.zeros(len(classes))
        np.add.at(vec, [classes[labels[i]] for i in members[g]], 1)
        present = vec > 0
        deficit = {name: float(((frac * totals - filled[name]) / totals)[present].sum() / frac)
                   for name, frac in targets.items()}
        best = max(targets, key=lambda name: deficit[name])
        filled[best] += vec
        for i in members[g]:
            assignment[i] = best
    return assignment


def subsample_groups(indices: list[int], groups: list[str], fraction: float, seed: int) -> list[int]:
    """Keep `fraction` of the groups among `indices` (whole groups, deterministic)."""
    if fraction >= 1.0:
        return indices
    names = sorted({groups[i] for i in indices})
    rng = random.Random(seed)
    rng.shuffle(names)
    chosen = set(names[: max(1, round(fraction * len(names)))])
    return [i for i in indices if groups[i] in chosen]


def stratified_split(labels: list[str], fractions: dict[str, float], seed: int) -> list[str]:
    """Ungrouped stratified assignment (for sets without a focus, like the refusal examples)."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    out = ["train"] * len(labels)
    rng = random.Random(seed)
    for label in sorted(by_label):
        idx = by_label[label]
        rng.shuffle(idx)
        start = 0
        for name, frac in fractions.items():
            if name == "train":
                continue
            count = round(frac * len(idx))
            for i in idx[start:start + count]:
                out[i] = name
            start += count
    return out
