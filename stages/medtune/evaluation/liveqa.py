"""LiveQA: real consumer health questions (TREC 2017 LiveQA medical task), for evaluation only.

People wrote these to the U.S. National Library of Medicine with their typos and rambling, unlike
MedQuAD's template questions, so they show whether fine-tuning helps outside the training
distribution. Each question has one or more reference answers that NLM staff picked from trusted
sources; an answer only has to match one of them, so every score takes its best reference (the
maximum over references, as multi-reference ROUGE does). 16 of the 104 items have references sharing
more than 20% of their word 8-grams with MedQuAD answers (a MedQuAD-trained model can score on those
by copying): they are reported apart from the other 88 ("no_overlap").
"""

from __future__ import annotations

from pathlib import Path

from ..files import InputError, read_jsonl
from . import text

OVERLAP_LIMIT = 0.2          # ref_medquad_overlap above this: the reference quotes MedQuAD's pages
REQUIRED = {"id": str, "question": str, "references": list, "ref_medquad_overlap": (int, float)}


def load(shared_dir: Path) -> list[dict]:
    """The LiveQA test questions from the shared data folder, every reference checked."""
    path = Path(shared_dir) / "liveqa" / "test.jsonl"
    rows = list(read_jsonl(path, REQUIRED))
    for row in rows:
        refs = row["references"]
        if not refs or not all(isinstance(r, str) and r.strip() for r in refs):
            raise InputError(f"{path}: item {row['id']}: field 'references' should be a list of non-empty strings")
    return rows


def words(answer: str) -> int:
    """Answer length in words, without the shared disclaimer."""
    return len(text.strip_disclaimer(answer).split())


def best_reference_scores(answer: str, references: list[str], cosines: list[float] | None = None) -> dict:
    """ROUGE-L, token F1 (and MiniLM cosine if given, one per reference): each the best over references.

    `best_reference` is the index of the reference with the highest ROUGE-L.
    """
    per_ref = [text.answer_scores(answer, ref) for ref in references]
    rouge_l = [s["rougeL"] for s in per_ref]
    out = {"rougeL": max(rouge_l), "f1": max(s["f1"] for s in per_ref),
           "best_reference": rouge_l.index(max(rouge_l)), "references": len(references)}
    out["cosine"] = max(cosines) if cosines else None
    return out


def score_answers(answers: list[str], items: list[dict], similarity: bool = True) -> list[dict]:
    """Best-reference scores of each answer to its item; MiniLM for all (answer, reference) pairs at once."""
    cosines: list[list[float] | None] = [None] * len(items)
    if similarity:
        pairs = [(i, ref) for i, item in enumerate(items) for ref in item["references"]]
        flat = text.cosine_similarities([text.strip_disclaimer(answers[i]) for i, _ in pairs],
                                        [text.strip_disclaimer(ref) for _, ref in pairs])
        cosines = [[] for _ in items]
        for (i, _), value in zip(pairs, flat):
            cosines[i].append(value)
    return [{**best_reference_scores(answer, item["references"], cos), "words": words(answer),
             "ref_medquad_overlap": item["ref_medquad_overlap"],
             "no_overlap": item["ref_medquad_overlap"] <= OVERLAP_LIMIT}
            for answer, item, cos in zip(answers, items, cosines)]
