"""The format step: the shape of every split row, and MedQuAD's multi-turn chains."""

from __future__ import annotations

import random
import re
from collections import defaultdict

from .. import chat_format
from .config import MultiTurn


def split_row(row_id: str, turns: list[tuple[str, str]], source: str, category: str, disclaimer: bool,
              qtype: str | None = None, focus: str | None = None) -> dict:
    """One row of a split, in the shape the later stages read (see medtune.data)."""
    return {"id": row_id, "messages": chat_format.conversation(turns, disclaimer=disclaimer),
            "source": source, "category": category, "qtype": qtype, "focus": focus, "num_turns": len(turns)}


def _follow_up(question: str, focus: str, reference: str) -> str | None:
    """Rewrite a question so it refers back to the earlier turn ("... of this condition?")."""
    pattern = re.compile(re.escape(focus), re.IGNORECASE)
    if not focus or not pattern.search(question):
        return None
    return pattern.sub(reference, question, count=1)


QTYPE_ORDER = ["information", "causes", "symptoms", "exams and tests", "treatment", "prevention",
               "outlook", "inheritance", "genetic changes", "frequency", "susceptibility", "complications",
               "stages", "research", "considerations", "support groups"]


def build_multi_turn(rows: list[dict], cfg: MultiTurn, split: str, seed: int, disclaimer: bool) -> list[dict]:
    """Chains of questions about one focus where every follow-up says "this condition" instead of its name."""
    by_focus: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_focus[r["focus"]].append(r)
    focuses = sorted(f for f, rs in by_focus.items() if len(rs) >= 2)
    random.Random(f"{seed}-{split}").shuffle(focuses)
    out = []
    limit = cfg.max_conversations_per_split.get(split, 0)
    for focus in focuses:
        if len(out) >= limit:
            break
        members = sorted(by_focus[focus], key=lambda r: (QTYPE_ORDER.index(r["qtype"])
                                                         if r["qtype"] in QTYPE_ORDER else 99, r["id"]))
        turns = [(members[0]["question"], members[0]["answer"])]
        used = [members[0]]
        tokens = members[0]["tokens"]
        for r in members[1:]:
            if len(turns) >= cfg.max_turns:
                break
            follow = _follow_up(r["question"], focus, cfg.reference)
            cost = r["tokens"]
            if follow and tokens + cost <= cfg.max_tokens:
                turns.append((follow, r["answer"]))
                used.append(r)
                tokens += cost
        if len(turns) < 2:
            continue
        out.append(split_row(f"multiturn/{used[0]['id']}", turns, "medquad_multiturn", "multi_turn", disclaimer,
                             used[-1]["qtype"], focus))
    return out
