"""Self-distillation: which rewrites replace a reference, and the stage on the embedded model."""

import json
import subprocess
import sys

from medtune import chat_format
from medtune.data import distill
from medtune.paths import REPO_ROOT

REFERENCE = "Gout is a form of arthritis caused by uric acid crystals in a joint. It often starts in the big toe."


def rewrite(text, ended=True):
    return {"text": text, "ended": ended}


def test_a_faithful_rewrite_is_used_and_others_are_counted_by_reason():
    good = ("Gout is a kind of arthritis. It happens when uric acid forms crystals inside a joint, and it often "
            "starts in the big toe.")
    assert distill.judge(rewrite(good), REFERENCE, 0.6, 8) is None
    assert distill.judge(rewrite(good, ended=False), REFERENCE, 0.6, 8) == "runaway"
    assert distill.judge(rewrite("Gout hurts."), REFERENCE, 0.6, 8) == "too_short"
    assert distill.judge(rewrite(good + " Take 300 mg of allopurinol."), REFERENCE, 0.6, 8) == "new_number"
    assert distill.judge(rewrite(good + " Call 555-123-4567 for help."), REFERENCE, 0.6, 8) in (
        "contact_details", "new_number")
    assert distill.judge(rewrite("It is a common condition that many people have and it can be painful."),
                         REFERENCE, 0.6, 8) == "facts_lost"


def test_apply_keeps_the_disclaimer_policy_and_only_single_turn_sources_are_candidates():
    info = {"source": "medquad", "num_turns": 1,
            "messages": chat_format.conversation([("What is gout?", REFERENCE)], disclaimer=True)}
    refusal = {"source": "medsafetybench", "num_turns": 1,
               "messages": chat_format.conversation([("How do I hurt someone?", "I can't help with that.")])}
    chain = {"source": "medquad_multiturn", "num_turns": 2, "messages": []}
    assert distill.candidates([info, refusal, chain], ["medquad"]) == [0]
    assert distill.reference_answer(info) == REFERENCE
    out = distill.apply(info, "Gout is arthritis from uric acid crystals, often in the big toe.")
    assert out["messages"][2]["content"].endswith(chat_format.DISCLAIMER) and out["distilled"]
    assert out["messages"][:2] == info["messages"][:2]


def test_the_stage_rewrites_candidates_and_copies_the_held_out_splits(tmp_path):
    data = tmp_path / "processed"
    data.mkdir()
    rows = [{"id": f"m{i}", "source": "medquad", "num_turns": 1,
             "messages": chat_format.conversation([(f"What is gout ({i})?", REFERENCE)], disclaimer=True)}
            for i in range(3)]
    rows.append({"id": "r0", "source": "medsafetybench", "num_turns": 1,
                 "messages": chat_format.conversation([("How do I poison someone?", "I can't help with that.")])})
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for name in ("validation", "test"):
        (data / f"{name}.jsonl").write_text(json.dumps(rows[0]) + "\n")
    out = tmp_path / "distilled"
    proc = subprocess.run([sys.executable, "stages/distill.py", "model=smollm2-135m", f"data_dir={data}",
                           f"out={out}", "limit=2", "max_new_tokens=24", "batch_size=2"],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = json.loads((out / "distill_card.json").read_text())
    assert card["candidates"] == 2 and sum(card["outcome"].values()) == 2
    written = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert [r["id"] for r in written] == ["m0", "m1", "m2", "r0"]
    assert written[2] == rows[2] and written[3] == rows[3]     # past the limit, and not a candidate: unchanged
    assert (out / "validation.jsonl").read_text() == (data / "validation.jsonl").read_text()


def test_no_model_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "stages/distill.py", f"out={tmp_path / 'x'}"], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "give model=" in proc.stderr
