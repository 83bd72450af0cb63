"""Small helpers shared by the project-written data builders (triage, sensitive, context): the way
people really type (lower case, no apostrophes, no final punctuation) and sentence joining."""

from __future__ import annotations

import random
import re


def sentence(text: str) -> str:
    """Upper-case first letter and a final full stop, question mark or exclamation mark."""
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def casual(text: str) -> str:
    """How a message looks typed quickly on a phone: lower case, no apostrophes, no final full stop."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"\.$", "", text.strip())


def message(body: str, suffix: str, rng: random.Random, casual_share: float) -> str:
    """A user message: the situation, then the question asked about it, sometimes typed casually."""
    text = sentence(body) + (" " + suffix if suffix else "")
    return casual(text) if rng.random() < casual_share else text


def join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())
