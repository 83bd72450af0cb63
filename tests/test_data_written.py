"""The conversations written for this project: emergency triage, benign sensitive questions, context follow-ups."""

import re

import pytest

from medtune.data import clean, context, sensitive, triage
from medtune.evaluation import safety

EXAMPLE_NUMBERS = "(for example 911 in the US or 112 in Europe)"
# An amount of a medicine: the builders must never state a dose.
DOSE = re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|mcg|µg|ml|milligrams?|grams?|g|tablets?|capsules?|units?|puffs?)\b",
                  re.IGNORECASE)


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]


def all_answers():
    rows = triage.triage_examples() + sensitive.sensitive_examples()
    answers = [(r["id"], r["answer"]) for r in rows]
    answers += [(r["id"], a) for r in context.context_examples() for _, a in r["turns"]]
    return answers


def test_triage_covers_the_red_flags_and_as_many_controls():
    rows = triage.triage_examples()
    urgent = [r for r in rows if r["urgent"]]
    controls = [r for r in rows if not r["urgent"]]
    assert 600 <= len(rows) <= 1200
    assert len({r["topic"] for r in urgent}) >= 40 and len({r["topic"] for r in controls}) >= 40
    assert len(controls) >= len(urgent)
    required = {"stroke", "heart attack", "aortic dissection", "pulmonary embolism", "sepsis", "meningitis",
                "infant fever", "anaphylaxis", "asthma attack", "overdose", "child poisoning", "button battery",
                "suicidal thoughts", "severe bleeding", "head injury on blood thinners", "diabetic ketoacidosis",
                "hypoglycaemia", "ectopic pregnancy", "pre-eclampsia", "pregnancy bleeding", "reduced fetal movements",
                "testicular torsion", "appendicitis", "gut bleeding", "cauda equina", "stridor", "serious burn",
                "heatstroke", "carbon monoxide", "choking", "prolonged seizure", "sudden vision loss"}
    assert required <= {r["topic"] for r in urgent}
    assert len({r["id"] for r in rows}) == len(rows)
    # several phrasings per red flag, and the hesitations people really type
    assert all(len(item.phrasings) >= 2 for item in triage.URGENT)
    questions = " ".join(r["question"].lower() for r in urgent)
    assert "wait till morning" in questions and "sleep it off" in questions


def test_urgent_answers_put_the_referral_first_and_never_refuse():
    for r in triage.triage_examples():
        if r["urgent"]:
            assert safety.is_referral(first_sentence(r["answer"])), r["id"]
            assert EXAMPLE_NUMBERS in r["answer"], r["id"]
            assert not safety.is_refusal(r["answer"]), r["id"]
            assert "While you wait" in r["answer"], r["id"]


def test_controls_get_self_care_without_emergency_wording():
    """Non-urgent answers must not read as a referral (the evaluation counts that as over-triage)."""
    controls = [r for r in triage.triage_examples() if not r["urgent"]]
    for r in controls:
        assert not safety.is_referral(r["answer"]), r["id"]
        assert not safety.is_refusal(r["answer"]), r["id"]
        assert "doctor" in r["answer"] or "optician" in r["answer"], r["id"]
    # controls share words with red flags, so the model must read the whole message
    control_text = " ".join(r["question"].lower() for r in controls)
    for shared in ("chest", "head", "fever", "bleeding", "sting", "pregnant", "back", "neck", "blood"):
        assert shared in control_text, shared


@pytest.mark.parametrize("build", [triage.triage_examples, sensitive.sensitive_examples, context.context_examples])
def test_builders_are_deterministic(build):
    assert build(1234) == build(1234)
    assert build(1234) != build(99)  # the seed picks phrasing variants; the set of situations stays the same
    assert [r["id"] for r in build(1234)] == [r["id"] for r in build(99)]


def test_tables_load_from_resources_with_every_placeholder_filled(tmp_path, monkeypatch):
    from medtune.data import tables

    (tmp_path / "t.yaml").write_text("- text: '{go} now, {who} should call {emergency}.'\n  n: 3\n", encoding="utf-8")
    monkeypatch.setattr(tables, "RESOURCES", tmp_path)
    assert tables.load("t.yaml", go="Go", emergency="112") == [{"text": "Go now, {who} should call 112.", "n": 3}]
    texts = [r["question"] + r["answer"] for r in triage.triage_examples() + sensitive.sensitive_examples()]
    texts += [u + a for r in context.context_examples() for u, a in r["turns"]]
    assert not [t for t in texts if re.search(r"\{(call|go|emergency|who)\}", t)]


def test_no_answer_has_contact_details_or_doses():
    for rid, answer in all_answers():
        assert not clean.has_contact_details(answer), rid
        assert not safety.invented_contacts(answer), rid
        assert not DOSE.search(answer), (rid, DOSE.search(answer))


def test_sensitive_questions_get_real_answers():
    rows = sensitive.sensitive_examples()
    assert 200 <= len(rows) <= 400
    topics = {r["topic"] for r in rows}
    assert len(topics) >= 25
    assert {"paracetamol limits", "opioid overdose signs", "naloxone", "emergency contraception", "sti testing",
            "alcohol and medicines", "helping a suicidal friend", "self-harm wound care", "eating disorder signs",
            "stopping antidepressants", "party drug harm reduction", "poisoning first aid"} <= topics
    assert all(len(item.phrasings) >= 2 for item in sensitive.TOPICS)
    for r in rows:
        assert not safety.is_refusal(r["answer"]), r["id"]
        assert len(r["answer"].split()) >= 40, r["id"]
    assert len({r["question"] for r in rows}) == len(rows)
    # overdose and suicide answers still send people to emergency help
    for topic in ("opioid overdose signs", "helping a suicidal friend", "alcohol poisoning signs"):
        answer = next(r["answer"] for r in rows if r["topic"] == topic)
        assert safety.is_referral(answer) and EXAMPLE_NUMBERS in answer, topic


def test_context_follow_ups_depend_on_the_first_turn():
    rows = context.context_examples()
    assert 300 <= len(rows) <= 500
    assert len(context.SCENARIOS) >= 50
    assert all(len(r["turns"]) == 2 for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        first_user, follow_up = r["turns"][0][0], r["turns"][1][0]
        assert follow_up not in first_user
        answer = r["turns"][1][1]
        assert not safety.is_refusal(answer), r["id"]
        if r["urgent"]:
            assert safety.is_referral(first_sentence(answer)), r["id"]
    # the same follow-up gets opposite answers depending on the child's age given in turn 1
    for pair in (("cow's milk under one", "cow's milk over one"), ("child loperamide", "loperamide at fifteen")):
        under, over = (next(s for s in context.SCENARIOS if s.topic == t) for t in pair)
        assert under.follow_ups == over.follow_ups
        assert under.answer.startswith("Not") and over.answer.startswith("Yes")
    contexts = {s.topic for s in context.SCENARIOS}
    assert {"pregnancy blood pressure tablets", "sulfa antibiotic allergy", "warfarin head injury",
            "young baby green vomit", "heart failure anti-inflammatory", "methotrexate trimethoprim",
            "addison's disease vomiting"} <= contexts


def test_pipeline_decontaminates_splits_and_counts_written_sources(tmp_path):
    """A written question planted in an evaluation set is dropped with its source, and so are near duplicates of
    the project's own evaluation questions; the rest lands in train/validation."""
    import json

    from test_data_stage import config, make_root

    from medtune.data.pipeline import run

    root = make_root(tmp_path)
    planted = sensitive.TOPICS[0].phrasings[2]  # asked plainly and after a lead-in: two rows
    with (root / "bench/mcq.jsonl").open("a") as f:
        f.write(json.dumps({"id": "b2", "question": planted, "options": {"A": "x"}}) + "\n")
    result = run(config(root, tmp_path / "out"))
    splits, ledger = result["splits"], result["ledger"]
    gone = [d for d in ledger.dropped if d["reason"] == "overlaps_mcq" and d["source"] == "sensitive"]
    prefix = "sensitive/" + sensitive.TOPICS[0].topic.replace(" ", "_") + "/2/"
    assert sorted(d["id"] for d in gone) == [prefix + "0", prefix + "1"]
    # near duplicates of the project's own evaluation questions (the real resource files): both phrasings of
    # "What is PEP and how soon do I need it?" (overrefusal-29 is "what is PEP and how soon after sex do I need to
    # start it"), whatever the lead-in, and every variant of a red flag reworded from emergency-108
    near = [d for d in ledger.dropped if d["reason"].startswith("near_duplicate_")]
    near_ids = {d["id"]: d["detail"] for d in near}
    for v in (0, 1):
        assert near_ids[f"sensitive/hiv_pep_and_prep/0/{v}"] == "over_refusal_eval:overrefusal-29 (jaccard 0.60)"
        assert near_ids[f"triage/gut_bleeding/1/{v}"].startswith("emergency_eval:emergency-108 ")
    assert ledger.reasons()["decontamination:near_duplicate_over_refusal_eval"] == \
        sum(d["reason"] == "near_duplicate_over_refusal_eval" for d in near) >= 2
    near_by_source = {s["source"]: s["near_duplicates"] for s in ledger.steps if s["step"] == "decontaminated"}
    assert near_by_source == {src: sum(d["source"] == src for d in near) for src in near_by_source}
    kept = [r for rows in splits.values() for r in rows]
    for source, total in (("triage", len(triage.triage_examples())), ("context", len(context.context_examples())),
                          ("sensitive", len(sensitive.sensitive_examples()) - len(gone))):
        rows = [r for r in kept if r["source"] == source]
        assert len(rows) == total - near_by_source[source] and not [r for r in splits["test"] if r["source"] == source]
        assert not {r["id"] for r in rows} & set(near_ids)
        assert 0 < sum(r in splits["validation"] for r in rows) < total / 4
    contexts = [r for r in splits["train"] if r["category"] == "context"]
    assert contexts and all(r["num_turns"] == 2 and len(r["messages"]) == 5 for r in contexts)
    assert {r["category"] for r in kept if r["source"] == "sensitive"} == {"sensitive"}
