"""Decontamination: drop training rows that share a long word n-gram with any evaluation item.

Like the GPT-3 / lm-evaluation-harness procedure: texts are lower-cased word sequences, and a
training row is contaminated when any of its n-grams (n=13 by default) occurs in an evaluation
item. Evaluation items shorter than n words are matched whole (if at least `min_words` long), so a
short benchmark question copied into the training data is still caught.

The project's own safety and context sets hold short questions that a reworded training question
never matches by 13-gram ("What is PEP and how soon do I need it?" against "what is PEP and how soon
after sex do I need to start it"), so rows are also compared with their items by near duplicate
(NearDuplicateIndex): content-word Jaccard, or one text (or its content words) contained in the other.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from . import sources
from .distill import STOPWORDS

# words that say nothing about a question's subject, on top of distill's list ("what should I do")
NEAR_STOPWORDS = STOPWORDS | frozenset("should would could but just get got know want dont cant".split())


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


def normal_words(text: str) -> list[str]:
    """Lower-case words without apostrophes: "Don't" and the casual "dont" are one word."""
    return words(text.replace("'", "").replace("\u2019", ""))


def user_text(row: dict) -> str:
    """The user turns of an evaluation item: its history's user turns, then its question or message."""
    turns = [t["user"] for t in row.get("history") or [] if isinstance(t, dict) and t.get("user")]
    return "\n".join(turns + [row.get("question") or row.get("message") or ""])


class NearDuplicateIndex:
    """Evaluation items that a training text rewords. A pair is a near duplicate when
    - the shorter text's words (at least `min_words`, two of them content words) appear whole in the longer
      ("How much ibuprofen is too much?" in "how much ibuprofen is too much in one day, my back is killing me"),
    - or every content word of the shorter text (at least `subset_min` of them) is in the longer ("I threw up
      something that looks like coffee grounds" against "my 70 yr old dad threw up something that looks like
      coffee grounds and now hes really pale"; with 3, "what should I know about chronic kidney disease?"
      matched a kidney-disease context item),
    - or their content-word Jaccard is at least `jaccard`.
    Content words: lower case, apostrophes dropped, longer than two letters, not in NEAR_STOPWORDS."""

    def __init__(self, items: list[EvalItem], jaccard: float = 0.6, min_words: int = 4, subset_min: int = 4):
        self.jaccard, self.min_words, self.subset_min = jaccard, min_words, subset_min
        self.items = [(item, *self._forms(item.text)) for item in items]
        self.by_word: dict[str, list[int]] = defaultdict(list)  # only items sharing a content word are compared
        for i, (_, _, content) in enumerate(self.items):
            for w in content:
                self.by_word[w].append(i)

    @staticmethod
    def _forms(text: str) -> tuple[str, set[str]]:
        toks = normal_words(text)
        return " " + " ".join(toks) + " ", {w for w in toks if len(w) > 2 and w not in NEAR_STOPWORDS}

    def _contains(self, longer: tuple[str, set[str]], shorter: tuple[str, set[str]]) -> str | None:
        (long_norm, long_content), (short_norm, short_content) = longer, shorter
        if len(short_norm.split()) >= self.min_words and len(short_content) >= 2 and short_norm in long_norm:
            return "containment"
        if len(short_content) >= self.subset_min and short_content <= long_content:
            return "content words contained"
        return None

    def match(self, texts: list[str]) -> tuple[str, str, str] | None:
        """(benchmark, item id, how) of the closest evaluation item any of the texts rewords, else None."""
        best = None
        for text in texts:
            forms = self._forms(text)
            for i in sorted({i for w in forms[1] for i in self.by_word.get(w, ())}):
                item, *item_forms = self.items[i]
                how = self._contains(item_forms, forms) or self._contains(forms, item_forms)
                if how:
                    return item.benchmark, item.id, how
                score = len(forms[1] & item_forms[1]) / len(forms[1] | item_forms[1])
                if score >= self.jaccard and (best is None or score > best[0]):
                    best = (score, item)
        return (best[1].benchmark, best[1].id, f"jaccard {best[0]:.2f}") if best else None


def eval_index(cfg) -> ContaminationIndex:
    """The n-gram index of every evaluation set (cfg: a DataConfig)."""
    eval_items = []
    for name, rel in sorted(cfg.decontamination.benchmarks.items()):
        for r in sources.read_jsonl(cfg.resolve(rel), strict=True):
            eval_items += [EvalItem(name, str(r.get("id")), t) for t in sources.benchmark_texts(name, r)]
    return ContaminationIndex(eval_items, cfg.decontamination.ngram, cfg.decontamination.min_words)


def near_duplicate_index(cfg) -> NearDuplicateIndex | None:
    """The near-duplicate index of the project's short evaluation sets, or None when switched off."""
    nd = cfg.decontamination.near_duplicate
    if not nd.enabled:
        return None
    items = [EvalItem(name, str(r.get("id")), user_text(r)) for name, rel in sorted(nd.sets.items())
             for r in sources.read_jsonl(cfg.resolve(rel), strict=True)]
    return NearDuplicateIndex(items, nd.jaccard, nd.min_words, nd.subset_min)
