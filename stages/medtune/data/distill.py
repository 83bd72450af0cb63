"""Self-distillation of training answers: the base model rewrites each reference answer in its own words.

Fine-tuning on MedQuAD's answers taught the 1.5B model a shorter register than its own (LiveQA answers 166 -> 80
words, and a few answers that are the disclaimer alone: reports/2026-12-03-qwen2.5-coder-1.5b/README.md). Training
on the base model's own phrasing of the same facts keeps its voice ("Self-Distillation Bridges Distribution Gap in
Language Model Fine-Tuning", Yang et al., ACL 2024). A rewrite replaces the reference only when it keeps the facts
and adds no number or contact detail of its own; every other row keeps its reference, counted by reason.
"""

from __future__ import annotations

import re

from .. import chat_format
from . import clean

REWRITE_SYSTEM = ("You rewrite medical reference answers for patients. Use only the facts in the reference answer; "
                  "do not add facts, numbers, doses, names, phone numbers or web addresses that it does not contain.")
REWRITE_PROMPT = ("A patient asked: {question}\n\nReference answer:\n{answer}\n\nAnswer the patient in your own words, "
                  "clearly and completely, using only the facts of the reference answer.")
STOPWORDS = frozenset("""a an and are as at be by can for from has have how in is it its may of on or that the their
this to was were what when which who will with you your not no do does did if than then there these they those
also such other more most some any all into about over after before during between because""".split())
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS and len(w) > 2}


def candidates(rows: list[dict], sources: list[str]) -> list[int]:
    """Indices of single-turn rows from these sources (refusals, triage and the written sets keep their wording)."""
    return [i for i, r in enumerate(rows) if r["source"] in sources and r.get("num_turns", 1) == 1]


def reference_answer(row: dict) -> str:
    return row["messages"][2]["content"].replace(chat_format.DISCLAIMER, "").strip()


def rewrite_request(row: dict) -> list[dict]:
    question = row["messages"][1]["content"]
    answer = reference_answer(row)
    return [{"role": "system", "content": REWRITE_SYSTEM},
            {"role": "user", "content": REWRITE_PROMPT.format(question=question, answer=answer)}]


def judge(rewrite: dict, reference: str, min_fact_recall: float, min_words: int) -> str | None:
    """Why a rewrite is not used (None: use it)."""
    text = rewrite["text"].strip()
    if not rewrite.get("ended", True):
        return "runaway"
    if len(text.split()) < min_words:
        return "too_short"
    if clean.has_contact_details(text):
        return "contact_details"
    if set(NUMBER.findall(text)) - set(NUMBER.findall(reference)):
        return "new_number"
    ref_words = content_words(reference)
    if ref_words and len(ref_words & content_words(text)) / len(ref_words) < min_fact_recall:
        return "facts_lost"
    return None


def apply(row: dict, rewrite: str) -> dict:
    """The row with its answer replaced (the disclaimer policy of the original kept)."""
    original = row["messages"][2]["content"]
    had_disclaimer = chat_format.DISCLAIMER in original
    answer = chat_format.with_disclaimer(rewrite.strip()) if had_disclaimer else rewrite.strip()
    messages = [*row["messages"][:2], {"role": "assistant", "content": answer}]
    return {**row, "messages": messages, "distilled": True}
