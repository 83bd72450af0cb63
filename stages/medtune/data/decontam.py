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
        self.short: dict[int, dict[tuple, tuple[str, str]]] = {}
        for item in items:
            toks = words(item.text)
            if len(toks) >= n:
                for g in ngrams(toks, n):
                    self.long.setdefault(g, (item.benchmark, item.id))
            elif len(toks) >= min_words:
                self.short.setdefault(len(toks), {}).setdefault(tuple(toks), (item.benchmark, item.id))

    def match(self, text: str) -> tuple[str, str] | None:
        """(benchmark, item id) of the first evaluation item the text overlaps, else None."""
        toks = words(text)
        for g in ngrams(toks, self.n):
            hit = self.long.get(g)
            if hit:
                return hit
        for length, table in self.short.items():
            for g in ngrams(toks, length):
                hit = table.get(g)
                if hit:
                    return hit
        return None
