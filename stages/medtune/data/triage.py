"""Emergency-referral examples written for this project (MedQuAD has none).

Each red-flag situation is phrased the way people really type (lay words, typos, a parent or carer
asking, "should I wait till morning?") and answered with the referral FIRST: call the local emergency
number or go to the emergency department now, then why it matters and one or two safe things to do
while waiting. Never a refusal. Non-urgent situations that share words with red flags (chest pain
after the gym, a bumped head, a mild fever in a toddler who is playing) are answered with self-care
and when to see a doctor, without emergency wording, so the model learns to tell the two apart
instead of sending everyone to the emergency department.

Deterministic: the same seed gives the same examples. The pipeline decontaminates them against the
project's evaluation sets by n-gram and by near duplicate. The situations, phrasings and answers are in
resources/triage_topics.yaml.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from . import tables
from .phrasing import join, message

EXAMPLE_NUMBERS = "(for example 911 in the US or 112 in Europe)"
CALL = f"Call your local emergency number now {EXAMPLE_NUMBERS}."
GO = (f"Go to the nearest emergency department now, or call your local emergency number {EXAMPLE_NUMBERS} "
      "if you cannot get there quickly and safely.")
MATERNITY = (f"Call your maternity unit or labour ward now, or go to the hospital straight away; if you cannot reach "
             f"them, call your local emergency number {EXAMPLE_NUMBERS}.")
CRISIS = (f"Please call your local emergency number now {EXAMPLE_NUMBERS} or go to the nearest emergency "
          "department. You can also contact a crisis line in your country at any time of day or night.")

REFERRALS = {"call": CALL, "go": GO, "maternity": MATERNITY, "crisis": CRISIS}


class Urgent(NamedTuple):
    topic: str
    referral: str        # key of REFERRALS
    why: str             # why it cannot wait
    meanwhile: str       # one or two safe things to do while waiting
    phrasings: list[str]  # "{who}" is an adult the writer cares for


_TABLE = tables.load("triage_topics.yaml")
URGENT = [Urgent(**item) for item in _TABLE["urgent"]]
WHO = _TABLE["who"]                       # adults someone writes in about; one is picked per example
# How people hedge before asking, and how the answer meets the hedge (after the referral).
HESITATIONS = [(h["ask"], h["reply"]) for h in _TABLE["hesitations"]]


class NonUrgent(NamedTuple):
    topic: str
    answer: str            # self-care and when to see a doctor, no emergency wording
    phrasings: list[str]


NON_URGENT = [NonUrgent(**item) for item in _TABLE["non_urgent"]]
HEDGES = [(h["ask"], h["reply"]) for h in _TABLE["hedges"]]

VARIANTS_PER_PHRASING = 2   # each red-flag phrasing with this many different hesitations and people
CONTROL_VARIANTS = 4        # more per control phrasing: at least as many controls as red flags
CASUAL_SHARE = 0.3          # share of messages typed casually (lower case, no apostrophes)


def _people(rng: random.Random, phrasing: str, count: int) -> list[str]:
    if "{who}" not in phrasing:
        return [phrasing] * count
    return [phrasing.format(who=who) for who in rng.sample(WHO, count)]


def urgent_answer(item: Urgent, reply_to_hedge: str) -> str:
    """The referral first, then the answer to any hesitation, why it matters, what to do while waiting."""
    return join(REFERRALS[item.referral], reply_to_hedge, item.why, "While you wait: " + item.meanwhile[0].lower()
                + item.meanwhile[1:])


def _examples(items, pool, count: int, seed: int, urgent: bool, answer) -> list[dict]:
    """`count` variants of every phrasing: a person and a hesitation from `pool`, answered by answer(item, reply)."""
    rows = []
    for item in items:
        rng = random.Random(f"{seed}/triage/{item.topic}")
        for i, phrasing in enumerate(item.phrasings):
            hedges = rng.sample(pool, count)
            for v, (body, (ask, reply)) in enumerate(zip(_people(rng, phrasing, count), hedges)):
                rows.append({"id": f"triage/{item.topic}/{i}/{v}".replace(" ", "_"),
                             "question": message(body, ask, rng, CASUAL_SHARE),
                             "answer": answer(item, reply), "topic": item.topic, "urgent": urgent,
                             "phrasing": body})  # the situation without the hedge: compared with eval messages
    return rows


def triage_examples(seed: int = 1234) -> list[dict]:
    """Urgent and non-urgent (user message, answer) examples; the same seed gives the same list."""
    return (_examples(URGENT, HESITATIONS, VARIANTS_PER_PHRASING, seed, True, urgent_answer)
            + _examples(NON_URGENT, HEDGES, CONTROL_VARIANTS, seed, False, lambda item, reply: join(reply, item.answer)))
