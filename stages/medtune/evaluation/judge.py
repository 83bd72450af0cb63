"""Optional LLM-as-judge: a HealthBench-style rubric scored by any OpenAI-compatible model.

Off by default (judge.enabled=false). The judge sees the question, the reference answer and the
model's answer, and returns 1-5 scores for accuracy, completeness, communication and context
awareness as JSON. Replies that cannot be parsed are counted, never guessed.
"""

from __future__ import annotations

import json
import re

from .generation import EndpointGenerator
from .progress import bar

CRITERIA = ("accuracy", "completeness", "communication", "context_awareness")

RUBRIC = """You grade a medical assistant's answer. Score each criterion from 1 (poor) to 5 (excellent):
- accuracy: medically correct, no invented facts, doses, phone numbers or sources
- completeness: covers what the question needs, as in the reference answer
- communication: clear, plain language, appropriate length, says when to see a clinician
- context_awareness: uses what the person said about themselves; asks or refers when needed
Reply with JSON only, for example {"accuracy": 4, "completeness": 3, "communication": 5, "context_awareness": 4}.

Question: {question}

Reference answer: {reference}

Assistant's answer: {answer}"""


def parse_scores(reply: str) -> dict[str, int] | None:
    """The four integer scores from a judge reply, or None if any is missing or out of range."""
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    scores = {c: data.get(c) for c in CRITERIA}
    if not all(isinstance(v, int) and 1 <= v <= 5 for v in scores.values()):
        return None
    return scores


def judge_rows(rows: list[dict], endpoint: str, model: str, api_key: str | None, limit: int | None) -> dict:
    """Score open-question rows in place (fields judge_<criterion>, summarised by metrics.py)."""
    client = EndpointGenerator(endpoint, model, api_key)
    unparsed = 0
    todo = rows[:limit] if limit else rows
    show = bar("LLM judge", "answer")
    for i, row in enumerate(todo):
        prompt = (RUBRIC.replace("{question}", row["question"]).replace("{reference}", row["reference"])
                  .replace("{answer}", row["prediction"]))
        reply = client.chat([{"role": "user", "content": prompt}], max_new_tokens=128)["text"]
        scores = parse_scores(reply)
        unparsed += scores is None
        for c, v in (scores or {}).items():
            row[f"judge_{c}"] = v
        show(i + 1, len(todo))
    return {"unparsed": unparsed, "judged": min(len(rows), limit or len(rows))}
