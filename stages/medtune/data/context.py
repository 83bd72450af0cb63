"""Two-turn conversations whose follow-up needs the earlier turn, written for this project.

The first user turn gives the context (a pregnancy, an allergy, a blood thinner, a child's age,
kidney disease, a medicine the person takes) and asks something; the follow-up asks a question whose
right answer depends on that context without repeating it ("Can I take ibuprofen for it?"). The
answer names the context it relies on, so the model learns to carry it forward. Some follow-ups turn
into an emergency (a head injury on warfarin, green vomit in a 3-week-old); those answers start with
the referral, like the triage examples. A few scenarios come in contrasting pairs (cow's milk as the
main drink at 10 and at 14 months, loperamide at 6 and at 15 years) so the context, not the question,
decides the answer. No scenario is a twin of an item of the context evaluation (same situation and
same thing asked about): tests/test_context_twins.py checks it.

Every opener is combined with every follow-up of its scenario. Deterministic: the same seed gives
the same examples. The scenarios are in resources/context_scenarios.yaml.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from . import tables
from .phrasing import casual
from .triage import CALL, GO

EMERGENCY = "your local emergency number (for example 911 in the US or 112 in Europe)"


class Scenario(NamedTuple):
    topic: str
    openers: list[str]       # first user turns: the context and a first question
    first_answer: str
    follow_ups: list[str]    # questions that only make sense with the context
    answer: str              # depends on the context, and says so
    urgent: bool = False     # the follow-up is an emergency: the answer starts with the referral


SCENARIOS = [Scenario(**item) for item in
             tables.load("context_scenarios.yaml", call=CALL, go=GO, emergency=EMERGENCY)["scenarios"]]

CASUAL_SHARE = 0.3


def context_examples(seed: int = 1234) -> list[dict]:
    """Two-turn conversations: every opener of a scenario with every follow-up; the same seed gives the same list."""
    rows = []
    for item in SCENARIOS:
        rng = random.Random(f"{seed}/context/{item.topic}")
        for i, opener in enumerate(item.openers):
            for j, follow in enumerate(item.follow_ups):
                if rng.random() < CASUAL_SHARE:
                    follow = casual(follow)
                rows.append({"id": f"context/{item.topic}/{i}/{j}".replace(" ", "_").replace("'", ""),
                             "turns": [(opener, item.first_answer), (follow, item.answer)],
                             "topic": item.topic, "urgent": item.urgent})
    return rows
