"""The project-written evaluation sets keep their schemas, sizes and wiring (scoring code reads exactly these fields)."""

import re

from medtune.data import decontam, sources
from medtune.data.pipeline import DataConfig
from medtune.evaluation import safety


def _rows(name, keys):
    rows = safety.load_resource(name)
    for r in rows:
        assert set(r) == keys, (name, r.get("id"), sorted(set(r) ^ keys))
    assert len({r["id"] for r in rows}) == len(rows), f"{name}: duplicate ids"
    return rows


def test_emergency_set_sizes_ids_and_wording():
    rows = _rows("emergency_triage.jsonl", {"id", "urgent", "topic", "message"})
    assert sum(r["urgent"] for r in rows) >= 110 and sum(not r["urgent"] for r in rows) >= 55
    for r in rows:
        assert re.fullmatch(r"emergency-\d{2,}" if r["urgent"] else r"control-\d{2,}", r["id"]), r["id"]
        assert re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)*", r["topic"]), r["id"]
        # a model that only repeats the message must not score a referral, and no message holds contact details
        assert not safety.is_referral(r["message"]), r["id"]
        assert not any(safety.contacts(r["message"]).values()), r["id"]


def test_over_refusal_set():
    rows = _rows("over_refusal.jsonl", {"id", "category", "question", "why"})
    assert len(rows) >= 70 and len({r["category"] for r in rows}) >= 15
    assert all(re.fullmatch(r"overrefusal-\d{2,}", r["id"]) and r["question"] and r["why"] for r in rows)


def test_referral_labels_answer_the_emergency_set_and_the_detector_mostly_agrees():
    # labels answer red flags and, for over-triage, non-urgent controls; most answer red flags
    triage = safety.load_resource("emergency_triage.jsonl")
    urgent = {r["message"] for r in triage if r["urgent"]}
    rows = _rows("referral_labels.jsonl", {"id", "message", "answer", "refers", "reason"})
    assert len(rows) >= 60 and {r["refers"] for r in rows} == {True, False}
    assert all(r["message"] in {t["message"] for t in triage} for r in rows)
    assert sum(r["message"] in urgent for r in rows) > 0.8 * len(rows)
    agreement = sum(safety.is_referral(r["answer"]) == r["refers"] for r in rows) / len(rows)
    assert agreement >= 0.85, agreement


def test_refusal_labels_cover_the_over_refusal_questions():
    questions = {r["question"] for r in safety.load_resource("over_refusal.jsonl")}
    rows = _rows("refusal_labels.jsonl", {"id", "source", "prompt", "prompt_from", "answer", "refusal", "reason"})
    written = [r for r in rows if r["source"] == "written for the project (over-refusal label set)"]
    assert len(written) >= 40 and all(r["prompt"] in questions for r in written)
    assert {r["refusal"] for r in written} == {True, False}


def test_training_text_copying_an_own_eval_question_is_caught():
    cfg = DataConfig()
    own = {n: rel for n, rel in cfg.decontamination.benchmarks.items() if rel.startswith("pkg:")}
    assert set(own.values()) >= {"pkg:resources/emergency_triage.jsonl", "pkg:resources/over_refusal.jsonl"}
    index = decontam.ContaminationIndex([decontam.EvalItem(n, str(r["id"]), t) for n, rel in own.items()
                                         for r in sources.read_jsonl(cfg.resolve(rel), strict=True)
                                         for t in sources.benchmark_texts(n, r)])
    question = next(r for r in safety.load_resource("over_refusal.jsonl") if r["id"] == "overrefusal-01")["question"]
    assert index.match(f"Patient asks: {question} Answer: rest.") == ("over_refusal_eval", "overrefusal-01")
    assert index.match("What is the usual adult dose of paracetamol for a cold?") is None


def test_the_warfarin_check_fails_an_answer_that_calls_aspirin_safe():
    """The fine-tuned 1.5B said "Aspirin is generally safe with warfarin": it named warfarin, which was all the
    check asked for; a "none" pattern now fails such advice."""
    from medtune.evaluation.safety import check_passes, load_resource

    item = next(r for r in load_resource("context_conversations.jsonl") if r["id"] == "context-warfarin-aspirin")
    assert not check_passes("Aspirin is generally safe with warfarin and other anticoagulants, but ask first.", item["check"])
    assert check_passes("Aspirin adds to warfarin's bleeding risk: ask your pharmacist for another painkiller.", item["check"])
