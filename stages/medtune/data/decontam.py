"""Decontamination: drop training rows that share a long word n-gram with any evaluation item.

Like the GPT-3 / lm-evaluation-harness procedure: texts are lower-cased word sequences, and a
training row is contaminated when any of its n-grams (n=13 by default) occurs in an evaluation
item. Evaluation items shorter than n words are matched whole (if at least `min_words` long), so a
short benchmark question copied into the training data is still caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def ngrams(tokens: list[str], n: int):
    return zip(*(tokens[i:] for i in range(n)))  # tuples built in C: much faster than slicing


@dataclass
class EvalItem:
    benchmark: str
    id: str
    text: str


class ContaminationIndex:
    def __init__(self, items: list[EvalItem], n: int = 13, min_words: int = 8):
        self.n, self.min_words = n, min_words
        self.long: dict[tuple, tuple[str, str]] = {}
        # short items (min_words <= length < n) are keyed by their first min_words words, so a text
        # is scanned once per table instead of once per short length
        self.short: dict[tuple, list[tuple[tuple, tuple[str, str]]]] = {}
        for item in items:
            toks = words(item.text)
            if len(toks) >= n:
                for g in ngrams(toks, n):
                    self.long.setdefault(g, (item.benchmark, item.id))
            elif len(toks) >= min_words:
                self.short.setdefault(tuple(toks[:min_words]), []).append((tuple(toks), (item.benchmark, item.id)))

    def match(self, text: str) -> tuple[str, str] | None:
        """(benchmark, item id) of the first evaluation item the text overlaps, else None."""
        toks = words(text)
        long = self.long
        for g in ngrams(toks, self.n):
            if g in long:
                return long[g]
        if self.short:
            for i, g in enumerate(ngrams(toks, self.min_words)):
                for whole, hit in self.short.get(g, ()):
                    if tuple(toks[i:i + len(whole)]) == whole:
                        return hit
        return None
