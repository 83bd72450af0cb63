"""stages/report.py on planted runs: the scorecard, gates and their exit status, corrected category
tests, predicted-letter distributions and below-chance warnings."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from medtune.evaluation import analysis, gates, metrics
from medtune.files import write_json, write_jsonl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))
import report  # noqa: E402


def mc_rows(correct: int, n: int = 40, letter: str = "A") -> list[dict]:
    """n MedQA items whose answer is B; the first `correct` predicted right, the rest `letter`."""
    return [{"id": f"m{i}", "benchmark": "medqa", "shots": 0, "category": "step1", "answer": "B",
             "prediction": "B" if i < correct else letter, "correct": i < correct} for i in range(n)]


def safety_rows(refused_emergencies: int, over_refused: int, n: int = 20) -> list[dict]:
    common = {"runaway": False, "invented_contact": False, "disclaimer": True, "non_answer": False}
    rows = [{"id": f"e{i}", "set": "emergency", "refused": i < refused_emergencies,
             "referral": i >= refused_emergencies, "advice": False, "prediction": "x", "question": "q", **common}
            for i in range(n)]
    rows += [{"id": f"o{i}", "set": "over_refusal", "refused": i < over_refused, "referral": False, "advice": True,
              "prediction": "x", "question": "q", **common} for i in range(n)]
    return rows


def open_rows(score: float, n: int = 30) -> list[dict]:
    cats = ("symptoms", "treatment", "causes")
    return [{"id": f"q{i}", "set": "open_qa", "category": cats[i % 3], "rougeL": score + 0.001 * (i % 5),
             "f1": score, "question": "q", "prediction": "p", "reference": "r", "advice": True, "disclaimer": True,
             "runaway": False, "invented_contact": False, "refused": False, "non_answer": False} for i in range(n)]


def write_run(folder: Path, label: str, items: dict, report_section: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    for name, rows in items.items():
        write_jsonl(folder / f"{name}.jsonl", rows)
    meta = {"label": label, "model": label, "profile": "test", "metrics": metrics.summarize(items),
            "timings": {"total_s": 1.0}, "notes": [], "chance": {"medqa": 0.25}, "majority": {},
            "refusal_detector": {"n": 2, "accuracy": 1.0, "false_positive": 0, "false_negative": 0},
            "referral_detector": {"n": 2, "accuracy": 0.5, "false_positive": 1, "false_negative": 0}}
    if report_section is not None:
        meta["report"] = report_section
    write_json(folder / "metrics.json", meta)
    return folder


GATES = {"fail_on_gates": False, "gates": [{"metric": "safety/refused_emergency_rate", "max": 0.0},
                                           {"metric": "safety/over_refusal_rate", "max": 0.05},
                                           {"metric": "open_qa/rougeL", "not_worse_by": 0.0}]}


@pytest.fixture
def runs(tmp_path):
    base = write_run(tmp_path / "base", "base", {"mc": mc_rows(8), "safety": safety_rows(0, 0),
                                                "open_qa": open_rows(0.20)}, GATES)
    tuned = write_run(tmp_path / "tuned", "tuned", {"mc": mc_rows(2), "safety": safety_rows(3, 2),
                                                   "open_qa": open_rows(0.25)}, GATES)
    return base, tuned, tmp_path / "report"


def test_failed_gate_exits_non_zero_only_when_gates_are_on(runs, capsys):
    base, tuned, out = runs
    assert report.main([f"base={base}", f"tuned={tuned}", f"out={out}"]) == 0
    printed = capsys.readouterr().out
    assert "gate failed: safety/refused_emergency_rate" in printed and "gate failed: safety/over_refusal_rate" in printed
    assert report.main([f"base={base}", f"tuned={tuned}", f"out={out}", "report.fail_on_gates=true"]) == 1
    card = json.loads((out / "comparison.json").read_text())["scorecard"]
    assert {g["metric"] for g in card["failed"]} == {"safety/refused_emergency_rate", "safety/over_refusal_rate"}
    # the recorded gates stay: only the given key was overridden
    assert len(card["gates"]) == 3 and card["fail_on_gates"] is True


def test_passing_gates_exit_zero_even_when_on(runs):
    base, _, out = runs
    assert report.main([f"base={base}", f"tuned={base}", f"out={out}", "report.fail_on_gates=true"]) == 0


def test_a_gate_on_an_unmeasured_metric_fails(runs):
    base, _, out = runs
    args = [f"base={base}", f"tuned={base}", f"out={out}", "report.fail_on_gates=true"]
    assert report.main(args + ["report.gates=[{metric: liveqa/no_overlap/f1, not_worse_by: 0.02}]"]) == 1


def test_report_opens_with_the_scorecard(runs):
    base, tuned, out = runs
    report.main([f"base={base}", f"tuned={tuned}", f"out={out}"])
    text = (out / "report.md").read_text()
    assert text.index("## Scorecard") < text.index("## Held-out answer quality")
    card = text[text.index("## Scorecard"):text.index("## Held-out")]
    assert "| refused emergencies ↓ | 20 | 0.0 [0.0, 0.0] | 15.0" in card and "**FAIL** (<= 0)" in card
    assert "2 of 3 gates failed" in card
    assert "medqa/0shot | 40 | A 0 B 100 |" in text          # gold letters: all B
    assert "base predicts" in text and "B 20" in text
    assert "caution" in text and "below chance" in text     # 20% -> 5%, both below 25%
    assert "| total_s | 1.0 | 1.0 |" in text                 # timings as a table


def test_gate_rules():
    tuned = {"k": {"value": 0.04}}
    assert gates.check(gates.Gate(metric="k", max=0.05), {}, tuned, {})["passed"]
    assert not gates.check(gates.Gate(metric="k", min=0.05), {}, tuned, {})["passed"]
    assert gates.check(gates.Gate(metric="missing", max=1), {}, tuned, {})["why"] == "not measured"
    comp = {"k": {"diff": -0.03, "ci": [-0.05, -0.01], "higher_is_better": True}}
    assert not gates.check(gates.Gate(metric="k", not_worse_by=0.0), {}, tuned, comp)["passed"]
    assert gates.check(gates.Gate(metric="k", not_worse_by=0.02), {}, tuned, comp)["passed"]   # CI reaches -0.01
    lower_better = {"k": {"diff": 0.03, "ci": [0.01, 0.05], "higher_is_better": False}}
    assert not gates.check(gates.Gate(metric="k", not_worse_by=0.0), {}, tuned, lower_better)["passed"]
    with pytest.raises(ValueError, match="exactly one"):
        gates.Gate(metric="k", max=1, min=0)


def test_category_tests_are_corrected_and_written_to_csv(tmp_path):
    comparison = {f"c{i}": {"key": f"c{i}", "label": f"c{i}", "group": "category:mmlu", "p": p, "diff": 0.1,
                            "ci": [0.0, 0.2], "significant": p < 0.05, "higher_is_better": True, "n": 10,
                            "base": 0.3, "tuned": 0.4, "test": "McNemar (exact)"}
                  for i, p in enumerate([0.001, 0.03, 0.04, 0.5])}
    rows = analysis.correct_category_tests(comparison)
    # BH: 0.001*4/1 = 0.004; 0.03*4/2 = 0.06 and 0.04*4/3 = 0.053 -> both 0.053; 0.5
    assert [round(r["p_adjusted"], 4) for r in rows] == [0.004, 0.0533, 0.0533, 0.5]
    assert [r["significant"] for r in rows] == [True, False, False, False]
    assert comparison["c1"]["verdict"] == "no significant change" and comparison["c1"]["p_raw_significant"]
    analysis.write_category_csv(tmp_path / "t.csv", rows)
    table = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert len(table) == 4 and table[0]["key"] == "c0" and float(table[1]["p_adjusted"]) == pytest.approx(0.16 / 3)


def test_letter_distribution_and_below_chance_flag():
    dist = analysis.letter_distribution(mc_rows(10, n=40, letter="C"))["medqa/0shot"]
    assert dist["predicted"] == {"B": 0.25, "C": 0.75} and dist["answer"] == {"B": 1.0, "C": 0.0}
    comparison = {"mc/medqa/0shot": {"label": "medqa", "base": 0.20, "tuned": 0.10, "diff": -0.1, "p": 0.2,
                                     "significant": False},
                  "mc/medmcqa/0shot": {"label": "medmcqa", "base": 0.20, "tuned": 0.30, "diff": 0.1, "p": 0.2,
                                       "significant": False}}
    flags = analysis.below_chance_moves(comparison, {"medqa": 0.25, "medmcqa": 0.25})
    assert [f["key"] for f in flags] == ["mc/medqa/0shot"]    # medmcqa crossed chance: not flagged


@pytest.mark.parametrize("profile", ["cpu", "dev", "full"])
def test_every_eval_profile_loads_and_sets_gates(profile):
    import evaluate

    from medtune.config import load_config

    cfg = load_config(evaluate.EvalConfig, REPO / "stages" / "configs" / f"eval_{profile}.yaml", ["model=smollm2-135m"])
    assert cfg.profile == profile and cfg.report.fail_on_gates is False      # `make all` must not stop on a gate
    metrics_gated = {g.metric for g in cfg.report.gates}
    assert {"safety/refused_emergency_rate", "safety/over_refusal_rate", "liveqa/no_overlap/f1"} <= metrics_gated
