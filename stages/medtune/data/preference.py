"""Preference pairs for a DPO stage after SFT, built from processed training conversations (no model needed).

The SFT model's failures on real patient questions are what the rejected answers imitate: it refused benign
questions in MedSafetyBench's words ("I'm sorry, but I cannot assist with that request"), answered some with the
disclaimer alone, ran on until the token limit, and missed some red flags. Each pair keeps the conversation's own
last answer as `chosen` (a helpful answer, the referral for a red flag, the refusal for a harmful request) and one
failure as `rejected`:

  refusal               a benign question refused
  sensitive_refusal     a benign question that sounds sensitive (source "sensitive": self-harm scars, asking a friend
                        about suicide, disposing of opioids, contraception for teens) refused; `refusal` draws from
                        all information rows, mostly MedQuAD, so these few hundred rows need a cap of their own
  non_answer            an information answer replaced by the disclaimer alone
  too_short             an information answer cut after its first sentences (greedy decoding of the SFT model
                        ended answers at half their training length: LiveQA 166 -> 73 words)
  runaway               the answer repeated well past its length and cut mid-sentence, without the disclaimer
  invented_contact      the answer with a made-up helpline number added (the evaluation counts any phone number,
                        web or e-mail address the conversation did not give)
  over_triage           a non-urgent triage question sent to the emergency number
  emergency_refusal     a red flag refused
  emergency_non_answer  a red flag answered with the disclaimer alone
  emergency_under_triage  a red flag answered without the referral: the answer's sentences that send the person
                        to emergency care (or tell them not to wait) dropped, a routine "see your doctor" added
  harmful_compliance    a harmful request (MedSafetyBench) answered with the opening of a compliant answer
  past_disclaimer       the whole answer and its disclaimer, then the answer again, cut mid-sentence: the model goes
                        on after the disclaimer instead of ending its turn (r3-rpo, with 400 runaway pairs whose
                        rejected answers have no disclaimer: 98 of 2,545 answers, 4 of them to the token limit)

The kinds pull against each other on purpose: a first DPO run (the 1.5B, r1-dpo in reports/recipe-experiments.md)
with only the refusal, non-answer, runaway and red-flag kinds lost the refusal style on harmful requests (refusals
72.9%, against 100% after SFT alone in r0), sent half the non-urgent controls to the emergency number and added helpline
numbers; too_short, over_triage, harmful_compliance and invented_contact are the counterweights.
Emergencies, non-urgent triage, harmful requests and sensitive questions have caps of their own: a few hundred rows
would otherwise be a sliver of each sample.

A pair is TRL's conversational preference format: {"id", "kind", "prompt": [messages up to the last user turn],
"chosen": [{"role": "assistant", ...}], "rejected": [{"role": "assistant", ...}]}. Sampling is seeded per kind.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable

from ..chat_format import DISCLAIMER
from .triage import CALL, EXAMPLE_NUMBERS

INFORMATION_KINDS = ("refusal", "non_answer", "too_short", "runaway", "invented_contact")
EMERGENCY_KINDS = ("emergency_refusal", "emergency_non_answer", "emergency_under_triage")
# newer kinds last: a kind added at the end leaves the order of the other kinds' pairs as it was
KINDS = (*INFORMATION_KINDS, "over_triage", *EMERGENCY_KINDS, "harmful_compliance", "sensitive_refusal",
         "past_disclaimer")
SENSITIVE_SOURCES = frozenset({"sensitive"})  # benign questions that sound sensitive (the data stage's sensitive.py)
BENIGN_SOURCES = frozenset({"medquad", "medquad_multiturn", "sensitive", "context", "triage"})
HARMFUL_SOURCES = frozenset({"medsafetybench"})

# MedSafetyBench's refusal style, the one the SFT model over-applied (each is caught by the evaluation's
# refusal detector, see tests/test_prefer.py).
REFUSALS = (
    "I'm sorry, but I cannot assist with that request.",
    "I'm sorry, but I can't help with that.",
    "I'm sorry, but I cannot provide information on this topic.",
    "I apologize, but I am unable to provide assistance with this request.",
    "I'm sorry, but I cannot provide medical advice on this matter. Please consult a healthcare professional.",
    "I'm sorry, but it would not be appropriate for me to answer this question.",
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# what an under-triaged red flag sounds like: the referral gone, a routine visit in its place (the SFT model's
# missed red flags were answered as information, not refused)
REFERRAL_SENTENCE = re.compile(r"emergenc|urgent|poison|crisis|danger|\b(?:911|112|999|ambulance|wait)\b", re.IGNORECASE)
ROUTINE_ADVICE = "If it does not get better in a few days, make an appointment with your doctor."
# the opening of a compliant answer to a harmful request: no harmful content is needed to push its likelihood down
COMPLIANCE = ("Sure, here is how you can do that.", "Of course. Here are the steps to follow:",
              "Yes, that is possible. Here is a plan you can use:", "Certainly. Here is what you need to do:")
# made-up helplines (555 numbers are reserved for fiction): any number the user did not give is an invented one
HELPLINES = ("the National {topic} Helpline at 1-800-555-{n:04d}", "the {topic} Information Line on 0800 555 {n:04d}",
             "the {topic} Support Center at (888) 555-{n:04d} or www.{slug}-help.org")
TOO_SHORT_MIN_SENTENCES = 4  # answers of at least this many sentences get a too_short pair


def answer_content(answer: str) -> str:
    """The answer without the disclaimer the data stage appends to information answers."""
    return answer.replace(DISCLAIMER, "").strip()


def is_emergency(row: dict) -> bool:
    """A red flag: a triage row marked urgent (category "emergency"), or any written conversation whose last
    answer opens with the referral (triage and context referrals name EXAMPLE_NUMBERS in their first sentence)."""
    if row.get("category") == "emergency":
        return True
    first = SENTENCE_END.split(row["messages"][-1]["content"], maxsplit=1)[0]
    return EXAMPLE_NUMBERS in first


def classify(row: dict) -> str:
    """"information", "emergency", "harmful_request", or why the row gets no pair (unknown_source, ...)."""
    messages = row.get("messages")
    if not isinstance(messages, list) or len(messages) < 2:
        return "no_conversation"
    if messages[-1].get("role") != "assistant" or messages[-2].get("role") != "user":
        return "no_final_answer"
    source = row.get("source")
    if source in HARMFUL_SOURCES:
        return "harmful_request"
    if source not in BENIGN_SOURCES:
        return "unknown_source"
    if is_emergency(row):
        return "emergency"
    if not answer_content(messages[-1]["content"]):
        return "disclaimer_only_answer"
    return "information"


def runaway_text(answer: str, factor: float) -> str:
    """The answer's content repeated past `factor` times its length, cut inside a sentence (no end, no disclaimer)."""
    content = answer_content(answer)
    target = max(int(len(content) * factor), len(content) + 1)
    text = content
    while len(text) < target + len(content):
        text += "\n\n" + content
    cut = text[:target]
    cut = cut[:cut.rfind(" ")] if " " in cut[len(content):] else cut  # end on a whole word
    return cut.rstrip(" \n.!?:;,-")  # never at a sentence end


def past_disclaimer_text(answer: str) -> str | None:
    """The answer with its disclaimer, then its content again cut inside a sentence; None without a disclaimer."""
    if DISCLAIMER not in answer:
        return None
    again = answer_content(answer)
    cut = again[:max(len(again) // 2, 1)]
    cut = cut[:cut.rfind(" ")] if " " in cut else cut
    return f"{answer.rstrip()}\n{cut.rstrip(' .!?:;,-')}"


def under_triage_text(answer: str) -> str:
    """The answer without the sentences that send the person to emergency care, and a routine visit instead."""
    kept = [s for s in SENTENCE_END.split(answer_content(answer)) if s.strip() and not REFERRAL_SENTENCE.search(s)]
    return " ".join([*kept, ROUTINE_ADVICE])


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text) if s.strip()]


def too_short_text(answer: str) -> str | None:
    """The answer's first quarter of sentences (at least one), with the disclaimer if it had one; None for answers
    of fewer than TOO_SHORT_MIN_SENTENCES sentences."""
    parts = sentences(answer_content(answer))
    if len(parts) < TOO_SHORT_MIN_SENTENCES:
        return None
    short = " ".join(parts[:max(1, len(parts) // 4)])
    return f"{short}\n\n{DISCLAIMER}" if DISCLAIMER in answer else short


def with_invented_contact(answer: str, row: dict, rng: random.Random) -> str:
    topic = str(row.get("focus") or "Health").strip()[:40] or "Health"
    slug = re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-") or "health"
    line = rng.choice(HELPLINES).format(topic=topic, slug=slug, n=rng.randrange(10_000))
    extra = f"For more help, contact {line}."
    content = answer_content(answer)
    return f"{content} {extra}\n\n{DISCLAIMER}" if DISCLAIMER in answer else f"{content} {extra}"


def over_triage_text(answer: str) -> str:
    return f"{CALL} {answer_content(answer)}"


def eligible_kinds(label: str, row: dict) -> tuple[str, ...]:
    if label == "emergency":
        return EMERGENCY_KINDS
    if label == "harmful_request":
        return ("harmful_compliance",)
    kinds = [k for k in INFORMATION_KINDS if k != "too_short" or too_short_text(row["messages"][-1]["content"])]
    if row.get("category") == "non_urgent":
        kinds.append("over_triage")
    if row.get("source") in SENSITIVE_SOURCES:
        kinds.append("sensitive_refusal")
    if DISCLAIMER in row["messages"][-1]["content"]:
        kinds.append("past_disclaimer")
    return tuple(kinds)


def rejected_text(kind: str, row: dict, rng: random.Random, runaway_factor: float) -> str:
    if kind in ("refusal", "emergency_refusal", "sensitive_refusal"):
        return rng.choice(REFUSALS)
    if kind in ("non_answer", "emergency_non_answer"):
        return DISCLAIMER
    if kind == "runaway":
        return runaway_text(row["messages"][-1]["content"], runaway_factor)
    if kind == "emergency_under_triage":
        return under_triage_text(row["messages"][-1]["content"])
    if kind == "too_short":
        return too_short_text(row["messages"][-1]["content"])
    if kind == "invented_contact":
        return with_invented_contact(row["messages"][-1]["content"], row, rng)
    if kind == "over_triage":
        return over_triage_text(row["messages"][-1]["content"])
    if kind == "harmful_compliance":
        return rng.choice(COMPLIANCE)
    if kind == "past_disclaimer":
        return past_disclaimer_text(row["messages"][-1]["content"])
    raise ValueError(f"unknown pair kind '{kind}'; kinds: {', '.join(KINDS)}")


def make_pair(kind: str, row: dict, row_id: str, rejected: str) -> dict:
    messages = row["messages"]
    return {"id": f"{kind}/{row_id}", "kind": kind, "prompt": [dict(m) for m in messages[:-1]],
            "chosen": [{"role": "assistant", "content": messages[-1]["content"]}],
            "rejected": [{"role": "assistant", "content": rejected}]}


def build_pairs(rows: list[dict], caps: dict[str, int], seed: int = 42, runaway_factor: float = 2.5,
                fits: Callable[[dict], bool] | None = None) -> tuple[list[dict], dict]:
    """Pairs of each kind (at most caps[kind]; a kind missing from `caps` gets none), each kind drawn with a seed
    of its own, and a summary.

    `fits(row)` (optional) says whether the row's prompt and chosen answer fit the trainer's length; rows that
    do not are counted as too_long. The summary counts rows per class, eligible rows and pairs per kind, the rows
    that fit no kind (`skipped`, by reason) and those that fit one but were not drawn (`rows_not_drawn`, caps).
    """
    unknown = sorted(set(caps) - set(KINDS))
    if unknown:
        raise ValueError(f"pair caps name unknown kinds {unknown}; kinds: {', '.join(KINDS)}")
    classes, skipped = Counter(), Counter()
    eligible: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for i, row in enumerate(rows):
        label = classify(row)
        classes[label] += 1
        if label not in ("information", "emergency", "harmful_request"):
            skipped[label] += 1
        elif fits is not None and not fits(row):
            skipped["too_long"] += 1
        else:
            for kind in eligible_kinds(label, row):
                eligible[kind].append(i)
    pairs, used = [], set()
    for kind in KINDS:
        rng = random.Random(f"{seed}/preference/{kind}")
        drawn = sorted(rng.sample(eligible[kind], min(caps.get(kind, 0), len(eligible[kind]))))
        for i in drawn:
            row_id = str(rows[i].get("id", f"row{i}"))
            pairs.append(make_pair(kind, rows[i], row_id, rejected_text(kind, rows[i], rng, runaway_factor)))
        used.update(drawn)
    fitting = {i for indices in eligible.values() for i in indices}
    summary = {
        "rows": len(rows), "classes": dict(sorted(classes.items())),
        "eligible": {kind: len(indices) for kind, indices in eligible.items()},
        "pairs": {kind: sum(p["kind"] == kind for p in pairs) for kind in KINDS},
        "total_pairs": len(pairs),
        "skipped": dict(sorted(skipped.items())),  # rows that fit no kind, by reason
        "rows_not_drawn": len(fitting - used),     # rows that fit a kind but were left out by the caps
    }
    return pairs, summary
