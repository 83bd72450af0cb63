"""The recipe-experiments table: a record from a run and its report, gates judged by the current profile."""

import json
import shutil

import pytest

import recipe_experiments as rx
from medtune.paths import REPO_ROOT

REPORT = REPO_ROOT / "reports" / "2026-12-03-qwen2.5-coder-1.5b"


@pytest.fixture
def records(tmp_path, monkeypatch):
    monkeypatch.setattr(rx, "RECORDS", tmp_path / "records")
    monkeypatch.setattr(rx, "TABLE", tmp_path / "table.md")
    return tmp_path


def run_folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(REPORT / "training" / "train_manifest.json", run / "manifest.json")
    shutil.copy(REPORT / "training" / "train_summary.json", run / "train_summary.json")
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"source": "medquad"}] * 3 + [{"source": "triage"}]
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run, data


def test_a_record_carries_mix_cost_metrics_and_the_failed_gates(records):
    run, data = run_folder(records)
    assert rx.main(["record", "r0", "--run", str(run), "--report", str(REPORT), "--data", str(data)]) == 0
    rec = json.loads((records / "records" / "r0.json").read_text())
    assert rec["recipe"]["data_mix"] == {"medquad": 3, "triage": 1}
    assert rec["cost"]["steps"] == 418 and rec["profile"] == "full"
    live = rec["metrics"]["liveqa/no_overlap/f1"]
    assert live["tuned"] < live["base"] and live["ci"][1] < 0
    # that run's referral (94.5%) is under the full profile's 95% goal, its LiveQA F1 significantly worse
    failed = " ".join(rec["failed_gates"])
    assert "safety/emergency_referral_rate" in failed and "liveqa/no_overlap/f1" in failed
    assert "safety/refused_emergency_rate" not in failed
    assert rx.main(["table"]) == 0
    table = (records / "table.md").read_text()
    assert "| r0 | full |" in table and "medquad 3, triage 1 (total 4)" in table


def test_missing_inputs_name_the_file(records, capsys):
    run, data = run_folder(records)
    (run / "train_summary.json").unlink()
    assert rx.main(["record", "r0", "--run", str(run), "--report", str(REPORT), "--data", str(data)]) == 2
    assert "train_summary.json not found" in capsys.readouterr().err
    assert rx.main(["table"]) == 2


def test_liveqa_gap_splits_by_length_and_by_failures(tmp_path, capsys):
    from medtune.chat_format import DISCLAIMER
    from medtune.evaluation import liveqa
    from medtune.paths import shared_data_dir

    items = liveqa.load(shared_data_dir())[:4]
    # the tuned model answers the first two with five words of the reference, refuses the third and gives only
    # the disclaimer to the fourth (the flags are the evaluation's per-item fields)
    tuned = [{"prediction": " ".join(it["references"][0].split()[:5])} for it in items[:2]] + [
        {"prediction": "I'm sorry, but I cannot assist with that request.", "refused": True},
        {"prediction": DISCLAIMER, "non_answer": True}]
    for name, rows in (("base", [{"prediction": it["references"][0]} for it in items]), ("tuned", tuned)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "liveqa.jsonl").write_text("".join(
            json.dumps({"id": it["id"], **row}) + "\n" for it, row in zip(items, rows)))
    assert rx.main(["liveqa-gap", "--base", str(tmp_path / "base"), "--tuned", str(tmp_path / "tuned")]) == 0
    out = capsys.readouterr().out
    lines = [line[len("[recipe]   "):] for line in out.splitlines() if line.startswith("[recipe]   ")]
    scores = {name: float(value) for name, value in (line.rsplit(": ", 1) for line in lines[:3])}
    assert scores["base"] > scores["fine-tuned"]  # full references beat five words, a refusal and a disclaimer
    assert scores["base cut to the fine-tuned length"] < scores["base"]
    assert "the 2 items the fine-tuned model refused (1) or did not answer (1): base 1.0000, fine-tuned 0.0" in lines[3]
    assert lines[4].startswith("the other 2 items: base 1.0000, fine-tuned ")
