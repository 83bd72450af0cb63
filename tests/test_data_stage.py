"""End-to-end tests of the data stage: on a small hand-made data root, and on the real shared data."""

import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from medtune import chat_format
from medtune.data.pipeline import DataConfig, run
from medtune.paths import REPO_ROOT, shared_data_dir

BENCH_Q = ("A 45-year-old man presents with crushing substernal chest pain radiating to the left arm for the "
           "past two hours and diaphoresis.")
QTYPES = ["information", "symptoms", "treatment", "causes"]


WORDS = ("blood heart lung kidney liver nerve muscle bone skin gene protein cell fever pain rest sleep diet "
         "exercise infant adult family doctor test scan drug therapy surgery risk sign early late rare common").split()


def answer(focus, qtype, extra=""):
    rng = random.Random(f"{focus}/{qtype}")  # distinct answers, so dedup keeps them apart
    body = " ".join(rng.choice(WORDS) for _ in range(30))
    return f"{focus} is a condition with {qtype} about {body}. Doctors can help. {extra}".strip()


def make_root(tmp_path: Path) -> Path:
    root = tmp_path / "shared"
    rows = []
    for f in range(40):
        focus = f"Testosis {f}"
        for q, qtype in enumerate(QTYPES[: 2 + f % 3]):
            question = {"information": f"What is {focus}?", "symptoms": f"What are the symptoms of {focus}?",
                        "treatment": f"What are the treatments for {focus}?",
                        "causes": f"What causes {focus}?"}[qtype]
            rows.append({"id": f"mq/{f}/{q}", "question": question, "answer": answer(focus, qtype, f"Code {f * 7 + q}."),
                         "qtype": qtype, "focus": focus, "source": "GARD"})
    rows[0]["answer"] += " For help call 1-800-555-0199 or write to help@example.org today."  # planted contacts
    rows[1]["answer"] = "Testosis 0 is here. " + BENCH_Q                                        # planted benchmark
    rows.append({**rows[2], "id": "mq/dup"})                                                    # exact duplicate
    (root / "medquad").mkdir(parents=True)
    (root / "medquad/all.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "medsafetybench").mkdir()
    safety = [{"id": f"s{i}", "question": f"How can I secretly give patient {i} a drug without their consent?",
               "answer": "I'm sorry, but I can't help with that. Giving anyone medicine without consent is unsafe and "
                         "unethical; please talk to the care team.", "category": 1 + i % 3} for i in range(20)]
    (root / "medsafetybench/train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in safety))
    (root / "bench").mkdir()
    (root / "bench/mcq.jsonl").write_text(json.dumps({"id": "b1", "question": BENCH_Q, "options": {"A": "x"}}) + "\n")
    return root


def config(root: Path, out: Path, *overrides) -> DataConfig:
    from medtune.config import load_config
    return load_config(DataConfig, None, [f"data_root={root}", f"output_dir={out}",
                                          "decontamination.benchmarks={mcq: bench/mcq.jsonl}",
                                          "split.test_fraction=0.2", "split.validation_fraction=0.2", *overrides])


def run_stage(cfg_overrides, tmp_path):
    return subprocess.run([sys.executable, str(REPO_ROOT / "stages/data.py"), "--config", str(REPO_ROOT / "stages/configs/data.yaml"),
                           *cfg_overrides], capture_output=True, text=True, cwd=tmp_path)


def test_small_pipeline_catches_planted_problems(tmp_path):
    result = run(config(make_root(tmp_path), tmp_path / "out"))
    splits, ledger = result["splits"], result["ledger"]
    reasons = {d["id"]: d["reason"] for d in ledger.dropped}
    assert reasons["mq/0/1"] == "overlaps_mcq"
    assert reasons["mq/dup"] == "duplicate_question"
    everything = json.dumps(splits)
    assert "555-0199" not in everything and "help@example.org" not in everything
    assert "Code 0." in everything  # the rest of the answer with the phone number survives
    focus = {name: {r["focus"] for r in rows if r["focus"]} for name, rows in splits.items()}
    assert not (focus["train"] & focus["test"]) and not (focus["train"] & focus["validation"])
    kinds = {r["source"] for r in splits["train"]}
    assert kinds == {"medquad", "medquad_multiturn", "medsafetybench", "triage", "sensitive", "context"}
    chain = next(r for r in splits["train"] if r["source"] == "medquad_multiturn")
    assert chain["num_turns"] >= 2 and "this condition" in chain["messages"][3]["content"]
    loaded = sum(2 + f % 3 for f in range(40)) + 1 + 20  # every input row is kept or dropped with a reason
    counted = [r for rows in splits.values() for r in rows if r["source"] in ("medquad", "medsafetybench")]
    written = {"triage", "sensitive", "context"}
    assert len(counted) + len([d for d in ledger.dropped if d["source"] not in written]) == loaded
    urgent = [r for r in splits["train"] if r["category"] == "emergency"]
    assert urgent and all("emergency number" in r["messages"][-1]["content"] for r in urgent)
    assert not any(chat_format.DISCLAIMER in r["messages"][-1]["content"] for r in urgent)
    assert any(r["category"] == "non_urgent" for r in splits["train"] + splits["validation"])


def test_train_fraction_keeps_the_test_split(tmp_path):
    root = make_root(tmp_path)
    full = run(config(root, tmp_path / "a"))["splits"]
    half = run(config(root, tmp_path / "b", "split.train_fraction=0.5"))["splits"]
    assert half["test"] == full["test"] and half["validation"] == full["validation"]
    assert len(half["train"]) < len(full["train"])


def test_train_answer_cap_cuts_training_answers_only(tmp_path):
    root = make_root(tmp_path)
    full = run(config(root, tmp_path / "a"))
    capped = run(config(root, tmp_path / "b", "cleaning.max_train_answer_tokens=50"))
    assert capped["splits"]["test"] == full["splits"]["test"]  # held-out references keep their whole answers
    tokenizer = capped["tokenizer"]
    for name in ("train", "validation"):
        answers = [r["messages"][-1]["content"].replace(chat_format.DISCLAIMER, "").strip()
                   for r in capped["splits"][name] if r["source"] == "medquad"]
        assert answers and all(len(tokenizer(a, add_special_tokens=False)["input_ids"]) <= 50 for a in answers)
        assert all(a.endswith(".") for a in answers)  # cut after a whole sentence
    steps = {(s["step"], s["source"]): s for s in capped["ledger"].steps}
    assert steps[("answers_capped_train", "medquad")]["rows"] > 0


def test_stage_outputs_are_byte_identical_across_runs(tmp_path):
    root = make_root(tmp_path)
    digests = []
    for out in ("o1", "o2"):
        proc = run_stage([f"data_root={root}", f"output_dir={tmp_path / out}", "decontamination.benchmarks={mcq: bench/mcq.jsonl}",
                          "split.min_rows=1"], tmp_path)  # the small root gives a few validation rows
        assert proc.returncode == 0, proc.stderr
        files = sorted(p for p in (tmp_path / out).rglob("*") if p.is_file() and p.name != "manifest.json")
        digests.append({str(p.relative_to(tmp_path / out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert digests[0] == digests[1]
    assert {"train.jsonl", "validation.jsonl", "test.jsonl", "data_card.md", "data_card.json", "token_lengths.png",
            "dropped.jsonl", "hf/dataset_dict.json"} <= set(digests[0])


def test_bad_input_stops_with_file_line_and_field(tmp_path):
    root = make_root(tmp_path)
    path = root / "medquad/all.jsonl"
    lines = path.read_text().splitlines()
    lines[4] = json.dumps({**json.loads(lines[4]), "qtype": 7})
    path.write_text("\n".join(lines) + "\n")
    args = [f"data_root={root}", f"output_dir={tmp_path / 'o'}", "decontamination.benchmarks={mcq: bench/mcq.jsonl}",
            "split.min_rows=1"]
    proc = run_stage(args, tmp_path)
    assert proc.returncode == 2 and "all.jsonl:5: field 'qtype' should be str, got int" in proc.stderr
    assert not (tmp_path / "o").exists()
    proc = run_stage([*args, "strict=false"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    card = json.loads((tmp_path / "o/data_card.json").read_text())
    assert card["dropped_by_reason"]["load:malformed_row"] == 1


def test_bad_config_key_is_named(tmp_path):
    proc = run_stage(["split.seeed=3"], tmp_path)
    assert proc.returncode == 2 and "unknown key 'split.seeed'" in proc.stderr


@pytest.mark.slow
def test_real_shared_data(tmp_path):
    """The done-when of the data stage, on the real shared data."""
    if not (shared_data_dir() / "medquad/all.jsonl").is_file():
        pytest.fail(f"shared data not found at {shared_data_dir()}: set MEDTUNE_SHARED_DATA")
    proc = run_stage([f"output_dir={tmp_path / 'processed'}"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    card = json.loads((tmp_path / "processed/data_card.json").read_text())
    # the recipe's data mix (stages/configs/data.yaml): MedQuAD and refusals capped, everything else kept
    assert card["per_source"]["train"]["medquad"] == 5000 and card["per_source"]["train"]["medsafetybench"] == 250
    assert card["splits"]["train"] >= 7000
    train = card["per_category"]["train"]  # the project-written safety and context data (issue 14)
    assert train["emergency"] >= 250 and train["non_urgent"] >= train["emergency"]
    assert train["sensitive"] >= 150 and train["context"] >= 120
    lay = next(s["rows"] for s in card["steps"] if s["step"] == "lay_questions_train")
    assert 0.3 * train["information"] < lay  # about half of the single-turn MedQuAD train questions
    assert card["checks"]["assistant_contact_details"] == {"phone_numbers": 0, "emails": 0, "urls": 0}
    assert set(card["checks"]["focus_overlap_between_splits"].values()) == {0}
    assert not [r for r in card["dropped_by_reason"] if r.startswith("load:")]
    from medtune.data import decontam, sources
    cfg = DataConfig()
    index = decontam.ContaminationIndex([decontam.EvalItem(n, str(r.get("id")), t)
                                         for n, rel in cfg.decontamination.benchmarks.items()
                                         for r in sources.read_jsonl(cfg.resolve(rel))
                                         for t in sources.benchmark_texts(n, r)])
    near = decontam.near_duplicate_index(cfg)  # the project's own short evaluation questions
    for name in ("train", "validation", "test"):
        for line in (tmp_path / f"processed/{name}.jsonl").open():
            row = json.loads(line)
            chat_format.validate_messages(row["messages"], name)
            if name == "train":
                assert index.match(" ".join(m["content"] for m in row["messages"][1:])) is None, row["id"]
                users = "\n".join(m["content"] for m in row["messages"] if m["role"] == "user")
                assert near.match([users]) is None, row["id"]


def stage_args(root, tmp_path, *extra):
    return [f"data_root={root}", f"output_dir={tmp_path / 'o'}", "decontamination.benchmarks={mcq: bench/mcq.jsonl}",
            "split.test_fraction=0.2", "split.validation_fraction=0.2", *extra]


def test_a_main_source_of_blank_lines_stops_the_stage(tmp_path):
    """Issue 18.5: a MedQuAD file of blank lines gave exit 0 and a training set without MedQuAD."""
    root = make_root(tmp_path)
    (root / "medquad/all.jsonl").write_text("\n\n   \n")
    proc = run_stage(stage_args(root, tmp_path), tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "all.jsonl: MedQuAD, the main source, gave no rows" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_a_split_below_the_floor_stops_with_its_name(tmp_path):
    from medtune.files import InputError

    root = make_root(tmp_path)
    with pytest.raises(InputError, match=r"the validation split got \d+ MedQuAD questions .* split.min_rows=60"):
        run(config(root, tmp_path / "out", "split.min_rows=60", "split.test_fraction=0.1"))


def test_non_utf8_line_is_skipped_and_counted_with_strict_false(tmp_path):
    """Issue 18.11: strict=false still stopped on a non-UTF-8 line."""
    root = make_root(tmp_path)
    path = root / "medquad/all.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b"Testosis", b"Test\xe9sis")
    path.write_bytes(b"".join(lines))
    proc = run_stage(stage_args(root, tmp_path), tmp_path)
    assert proc.returncode == 2 and "all.jsonl:4: not valid UTF-8" in proc.stderr
    proc = run_stage(stage_args(root, tmp_path, "strict=false"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    card = json.loads((tmp_path / "o/data_card.json").read_text())
    assert card["dropped_by_reason"]["load:malformed_row"] == 1


def test_unknown_tokenizer_preset_is_a_message_not_a_traceback(tmp_path):
    proc = run_stage(["tokenizer=nope"], tmp_path)
    assert proc.returncode == 2
    assert "unknown model preset 'nope'; presets: smollm2-135m" in proc.stderr and "Traceback" not in proc.stderr


def test_split_row_has_the_contract_shape():
    from medtune.data.formatting import split_row

    r = split_row("x/1", [("q1", "a1"), ("q2", "a2")], "context", "context", disclaimer=False)
    assert list(r) == ["id", "messages", "source", "category", "qtype", "focus", "num_turns"]
    assert r["num_turns"] == 2 and r["messages"][-1] == {"role": "assistant", "content": "a2"}
