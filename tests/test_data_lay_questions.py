"""Lay rewrites of MedQuAD's template questions (train only) and the cap on MedQuAD training rows."""

import random

from test_data_stage import config, make_root

from medtune.data import lay_questions
from medtune.data.pipeline import run


def test_every_template_type_has_lay_phrasings_that_keep_the_focus():
    rng = random.Random(0)
    for qtype, templates in lay_questions.TEMPLATES.items():
        for template in templates:
            question = template.replace("X", "Fabry disease")
            lay = lay_questions.lay_question(question, qtype, "Fabry disease", rng)
            assert lay and lay != question and "fabry disease" in lay.lower(), (qtype, template)


def test_questions_outside_the_templates_are_kept():
    rng = random.Random(0)
    assert lay_questions.lay_question("how is botulism diagnosed?", "exams and tests", "Botulism", rng) is None
    assert lay_questions.lay_question("What is Fabry disease?", "treatment", "Fabry disease", rng) is None
    assert lay_questions.lay_question("What is X?", "information", "", rng) is None


def test_rewrite_share_is_seeded_per_row():
    rows = [{"id": f"r{i}", "question": "What causes Gout?", "qtype": "causes", "focus": "Gout"} for i in range(400)]
    first = [lay_questions.maybe_rewrite(r, 0.5, 7) for r in rows]
    assert first == [lay_questions.maybe_rewrite(r, 0.5, 7) for r in rows]
    changed = sum(q != "What causes Gout?" for q in first)
    assert 150 < changed < 250
    assert all(lay_questions.maybe_rewrite(r, 0.0, 7) == "What causes Gout?" for r in rows)
    assert all(lay_questions.maybe_rewrite(r, 1.0, 7) != "What causes Gout?" for r in rows)


def medquad_rows(rows):
    return {r["id"]: r for r in rows if r["source"] == "medquad"}


def test_rewrite_changes_only_train_questions(tmp_path):
    root = make_root(tmp_path)
    plain = run(config(root, tmp_path / "a", "sources.medquad.lay_question_fraction=0"))["splits"]
    lay = run(config(root, tmp_path / "b", "sources.medquad.lay_question_fraction=1"))["splits"]
    assert lay["validation"] == plain["validation"] and lay["test"] == plain["test"]
    before, after = medquad_rows(plain["train"]), medquad_rows(lay["train"])
    assert before.keys() == after.keys()
    changed = 0
    for rid, row in before.items():
        assert after[rid]["messages"][2] == row["messages"][2]  # the answer is kept
        changed += after[rid]["messages"][1] != row["messages"][1]
    assert changed == len(before)  # every hand-made question is in a MedQuAD template
    others = [r for r in plain["train"] if r["source"] != "medquad"]
    assert others == [r for r in lay["train"] if r["source"] != "medquad"]


def test_max_train_rows_caps_single_turn_medquad(tmp_path):
    root = make_root(tmp_path)
    full = run(config(root, tmp_path / "a"))
    capped = run(config(root, tmp_path / "b", "sources.medquad.max_train_rows=10"))
    assert len(medquad_rows(capped["splits"]["train"])) == 10 < len(medquad_rows(full["splits"]["train"]))
    assert capped["splits"]["test"] == full["splits"]["test"]
    dropped = [d for d in capped["ledger"].dropped if d["reason"] == "over_max_train_rows"]
    assert len(dropped) == len(medquad_rows(full["splits"]["train"])) - 10


def test_max_train_rows_caps_refusals_and_counts_the_rest(tmp_path):
    root = make_root(tmp_path)
    full = run(config(root, tmp_path / "a"))
    refusals = [r for r in full["splits"]["train"] if r["source"] == "medsafetybench"]
    assert len(refusals) > 2
    capped = run(config(root, tmp_path / "b", "sources.medsafetybench.max_train_rows=2"))
    assert len([r for r in capped["splits"]["train"] if r["source"] == "medsafetybench"]) == 2
    assert capped["splits"]["validation"] == full["splits"]["validation"]  # only training rows are capped
    dropped = [d for d in capped["ledger"].dropped if d["reason"] == "over_max_train_rows"]
    assert len(dropped) == len(refusals) - 2
