"""Splits: train/validation/test stratified by question type and grouped by focus.

No focus (disease, gene, topic) ever sits in two splits, so the test set measures answers about
conditions the model has not been trained on. The test and validation sets are chosen from the
whole pool first and do not depend on `train_fraction`, which only subsamples what remains (the
progressive-training knob): growing the training share never moves a test question.
"""

from __future__ import annotations

import random
import warnings
from collections import Counter, defaultdict

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold


def grouped_stratified_split(labels: list[str], groups: list[str], test_fraction: float,
                             validation_fraction: float, seed: int) -> list[str]:
    """Assign "train"/"validation"/"test" to each row; groups never straddle splits."""
    n_folds = max(2, round(1 / min(f for f in (test_fraction, validation_fraction) if f > 0)))
    # small inputs: sklearn needs at least one class with n_folds members and n_folds groups
    n_folds = max(2, min(n_folds, len(set(groups)), max(Counter(labels).values())))
    folds = np.full(len(labels), -1)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a question type rarer than n_folds is fine: it lands in one split
        warnings.filterwarnings("ignore", message="The least populated class")
        for k, (_, held) in enumerate(splitter.split(np.zeros(len(labels)), labels, groups)):
            folds[held] = k
    n_test = max(1, round(test_fraction * n_folds)) if test_fraction > 0 else 0
    n_val = max(1, round(validation_fraction * n_folds)) if validation_fraction > 0 else 0
    assignment = []
    for fold in folds:
        if fold < n_test:
            assignment.append("test")
        elif fold < n_test + n_val:
            assignment.append("validation")
        else:
            assignment.append("train")
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
