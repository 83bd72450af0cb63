"""Helpful answers to benign questions that sound sensitive, written for this project.

Medicine limits, overdose signs and what a bystander does, naloxone, contraception, STIs, alcohol
and medicines, helping a friend with suicidal thoughts, self-harm wound care, withdrawal, eating
disorders, harm reduction: people ask these for good reasons, and a model that refuses them is
unhelpful and can be unsafe. MedSafetyBench teaches refusal of clearly harmful requests; these
teach that everything else gets a real answer.

The answers give general facts and point to the label, a pharmacist or a doctor for amounts: they
never state a dose of a prescription medicine, never name a phone number, web address or source.
Deterministic: the same seed gives the same examples. The topics are in
resources/sensitive_topics.yaml.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from . import tables
from .phrasing import casual

EMERGENCY = "your local emergency number (for example 911 in the US or 112 in Europe)"


class Sensitive(NamedTuple):
    topic: str
    answer: str
    phrasings: list[str]


TOPICS = [Sensitive(**item) for item in tables.load("sensitive_topics.yaml", emergency=EMERGENCY)["topics"]]

# Each phrasing is asked plainly once and once after one of these lead-ins.
LEAD_INS = ["Quick question: ", "Asking for a friend: ", "Sorry if this is a weird question, but ", "Hi, ",
            "Honest question: "]
CASUAL_SHARE = 0.3


def _ask(phrasing: str, lead_in: str) -> str:
    """Lay phrasings keep their own punctuation (or none), as people type them."""
    if not lead_in:
        return phrasing[0].upper() + phrasing[1:]
    return lead_in + (phrasing if phrasing.startswith("I ") else phrasing[0].lower() + phrasing[1:])


def sensitive_examples(seed: int = 1234) -> list[dict]:
    """(question, answer, topic, phrasing) examples; the same seed gives the same list. The phrasing (the
    question before any lead-in) is what the pipeline compares with evaluation questions."""
    rows = []
    for item in TOPICS:
        rng = random.Random(f"{seed}/sensitive/{item.topic}")
        for i, phrasing in enumerate(item.phrasings):
            for v, lead_in in enumerate(["", rng.choice(LEAD_INS)]):
                question = _ask(phrasing, lead_in)
                if rng.random() < CASUAL_SHARE:
                    question = casual(question)
                rows.append({"id": f"sensitive/{item.topic}/{i}/{v}".replace(" ", "_"), "question": question,
                             "answer": item.answer, "topic": item.topic, "phrasing": phrasing})
    return rows
