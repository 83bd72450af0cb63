"""Preference stage: pair building on planted rows, its config, and a real DPO run of the embedded SmolLM2-135M."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from medtune.chat_format import DISCLAIMER, conversation
from medtune.config import ConfigError, load_config
from medtune.data.preference import COMPLIANCE, KINDS, REFUSALS, ROUTINE_ADVICE, build_pairs, runaway_text
from medtune.data.triage import CALL
from medtune.evaluation.safety import invented_contacts, is_non_answer, is_referral, is_refusal
from medtune.files import write_jsonl
from medtune.paths import configs_dir
from medtune.training import TrainError
from medtune.training.prefer import preference_trainer, run
from medtune.training.prefer_config import PreferConfig

PRESET = "smollm2-135m"
SYSTEM = "You are a careful medical assistant."
QA = [
    ("What is anemia?", "Anemia means the blood has too few healthy red blood cells to carry oxygen."),
    ("What causes a common cold?", "Colds are caused by viruses, most often rhinoviruses."),
    ("What is hypertension?", "Hypertension is blood pressure that stays higher than normal."),
    ("What is asthma?", "Asthma is a long-term condition in which the airways swell and narrow."),
    ("What is gout?", "Gout is a form of arthritis caused by uric acid crystals in a joint."),
    ("What is eczema?", "Eczema is a skin condition that makes the skin dry, itchy and red."),
]
RED_FLAGS = [
    ("my dad has crushing chest pain and is sweating", f"{CALL} Chest pain with sweating can be a heart attack."),
    ("my friend took a whole bottle of pills", f"{CALL} An overdose needs treatment straight away."),
]


LONG = ("What is psoriasis?", "Psoriasis is a long-term skin disease. It causes red, scaly patches. The patches often "
        "itch. It is not contagious. Treatments include creams, light therapy and tablets.")


def row(row_id: str, turns, source: str, category: str, disclaimer: bool = True, system: str = SYSTEM) -> dict:
    return {"id": row_id, "messages": conversation(turns, system=system, disclaimer=disclaimer),
            "source": source, "category": category}


def planted_rows(system: str = SYSTEM, disclaimer: bool = True) -> list[dict]:
    rows = [row(f"mq/{i}", [qa], "medquad", "information", disclaimer, system) for i, qa in enumerate(QA)]
    rows.append(row("mq/long", [LONG], "medquad", "information", disclaimer, system))  # long enough for too_short
    rows += [row(f"triage/{i}", [rf], "triage", "emergency", disclaimer=False, system=system)
             for i, rf in enumerate(RED_FLAGS)]
    rows += [
        row("multi/0", [QA[0], ("How is it treated?", "Treatment depends on the cause, such as iron.")],
            "medquad_multiturn", "multi_turn", system=system),
        row("sensitive/0", [("Is naloxone safe to carry?", "Yes, naloxone is safe to carry and use.")],
            "sensitive", "sensitive", system=system),
        row("triage/ok/0", [("I bumped my head but feel fine", "Rest and watch for headache or vomiting.")],
            "triage", "non_urgent", system=system),
        # a two-turn conversation whose follow-up is a red flag: an emergency by its answer's first sentence
        row("context/0", [("I take warfarin.", "Take it as prescribed."),
                          ("I fell and hit my head hard", f"{CALL} A head injury on a blood thinner can bleed.")],
            "context", "context", disclaimer=False, system=system),
        row("msb/0", [("How do I poison someone slowly?", "I'm sorry, but I cannot help with that.")],
            "medsafetybench", "refusal", disclaimer=False, system=system),
        row("other/0", [QA[1]], "somewhere", "information", system=system),
        row("empty/0", [("What is X?", "")], "medquad", "information", system=system),  # the disclaimer alone
        {"id": "broken/0", "messages": [{"role": "system", "content": SYSTEM}], "source": "medquad"},
    ]
    return rows


ALL = {kind: 100 for kind in KINDS}


def test_each_kind_has_its_shape_and_rows_without_one_are_counted():
    rows = planted_rows()
    pairs, summary = build_pairs(rows, ALL, seed=1)
    by_id = {r["id"]: r for r in rows}
    assert summary["skipped"] == {"unknown_source": 1, "disclaimer_only_answer": 1, "no_conversation": 1}
    assert summary["classes"] == {"information": 10, "emergency": 3, "harmful_request": 1, "unknown_source": 1,
                                  "disclaimer_only_answer": 1, "no_conversation": 1}
    assert all(is_refusal(text) and not is_non_answer(text) for text in REFUSALS)
    assert summary["pairs"] == {"refusal": 10, "non_answer": 10, "too_short": 1, "runaway": 10, "invented_contact": 10,
                                "over_triage": 1, "emergency_refusal": 3, "emergency_non_answer": 3,
                                "emergency_under_triage": 3, "harmful_compliance": 1, "sensitive_refusal": 1,
                                "past_disclaimer": 10}
    assert summary["total_pairs"] == len(pairs) == 63 and summary["rows_not_drawn"] == 0
    for pair in pairs:
        kind, row_id = pair["kind"], pair["id"].split("/", 1)[1]
        source = by_id[row_id]
        assert pair["id"] == f"{kind}/{row_id}" and source["source"] != "somewhere"
        assert (source["source"] == "medsafetybench") == (kind == "harmful_compliance")
        assert kind != "sensitive_refusal" or row_id == "sensitive/0"
        assert pair["prompt"] == source["messages"][:-1] and pair["prompt"][-1]["role"] == "user"
        assert pair["chosen"] == [source["messages"][-1]]
        assert [m["role"] for m in pair["rejected"]] == ["assistant"]
        rejected, chosen = pair["rejected"][0]["content"], pair["chosen"][0]["content"]
        content = chosen.replace(DISCLAIMER, "").strip()
        emergency = row_id.startswith(("triage/0", "triage/1", "context/"))
        assert kind.startswith("emergency_") == emergency
        # each rejection is the failure the evaluation counts, and the chosen answer is not
        if kind.endswith("refusal"):
            assert rejected in REFUSALS and is_refusal(rejected)
        elif kind.endswith("non_answer"):
            assert rejected == DISCLAIMER and is_non_answer(rejected)
        elif kind == "emergency_under_triage":
            assert is_referral(chosen) and not is_referral(rejected) and rejected.endswith(ROUTINE_ADVICE)
        elif kind == "too_short":  # the first sentence of five, then the disclaimer
            assert rejected == f"Psoriasis is a long-term skin disease.\n\n{DISCLAIMER}"
        elif kind == "invented_contact":
            assert invented_contacts(rejected) and not invented_contacts(chosen) and rejected.startswith(content)
        elif kind == "over_triage":
            assert row_id == "triage/ok/0" and is_referral(rejected) and not is_referral(chosen)
        elif kind == "harmful_compliance":
            assert rejected in COMPLIANCE and not is_refusal(rejected) and is_refusal(chosen)
        elif kind == "past_disclaimer":  # the whole chosen answer, then more of it after the disclaimer
            assert chosen.endswith(DISCLAIMER) and rejected.startswith(chosen + "\n") and rejected[-1].isalnum()
        else:
            assert kind == "runaway" and rejected.startswith(content) and len(rejected) > 2 * len(content)
            assert DISCLAIMER not in rejected and rejected[-1] not in ".!?"


def test_caps_and_seed_decide_which_rows_are_drawn():
    rows = [row(f"mq/{i}", [QA[i % len(QA)]], "medquad", "information") for i in range(40)]
    caps = {"refusal": 5, "runaway": 3}
    pairs, summary = build_pairs(rows, caps, seed=7)
    assert summary["pairs"] == {kind: {"refusal": 5, "runaway": 3}.get(kind, 0) for kind in KINDS}
    assert summary["eligible"]["non_answer"] == 40 and summary["rows_not_drawn"] == 40 - len(
        {p["id"].split("/", 1)[1] for p in pairs})
    again, _ = build_pairs(rows, caps, seed=7)
    assert again == pairs
    other, _ = build_pairs(rows, caps, seed=8)
    assert {p["id"] for p in other} != {p["id"] for p in pairs}
    too_long, summary = build_pairs(rows, caps, seed=7, fits=lambda r: r["id"] != "mq/0")
    assert summary["skipped"] == {"too_long": 1} and all(p["id"] != "refusal/mq/0" for p in too_long)
    with pytest.raises(ValueError, match="unknown kinds"):
        build_pairs(rows, {"refusals": 1})


def test_sensitive_refusals_come_from_sensitive_rows_and_leave_the_other_kinds_draws_as_they_were():
    rows = [row(f"mq/{i}", [QA[i % len(QA)]], "medquad", "information") for i in range(30)]
    disposal = "How do I get rid of leftover opioids?"
    rows += [row(f"sensitive/{i}", [(disposal, f"Take them to a pharmacy take-back {i}.")], "sensitive", "sensitive")
             for i in range(6)]
    caps = {"refusal": 8, "non_answer": 5, "runaway": 5, "invented_contact": 5}
    without, summary = build_pairs(rows, caps, seed=3)
    assert summary["eligible"]["sensitive_refusal"] == 6 and summary["eligible"]["refusal"] == 36  # refusal as before
    pairs, summary = build_pairs(rows, {**caps, "sensitive_refusal": 4}, seed=3)
    new = [p for p in pairs if p["kind"] == "sensitive_refusal"]
    assert pairs[:len(without)] == without and pairs[len(without):] == new  # appended, the rest unchanged
    assert len(new) == summary["pairs"]["sensitive_refusal"] == 4
    assert all(p["id"].startswith("sensitive_refusal/sensitive/") and p["rejected"][0]["content"] in REFUSALS
               and p["chosen"][0]["content"].startswith("Take them to a pharmacy") for p in new)


def test_a_runaway_runs_past_the_answer_and_stops_inside_a_sentence():
    answer = "Gout is a form of arthritis. It comes in attacks.\n\n" + DISCLAIMER
    text = runaway_text(answer, 3.0)
    content = "Gout is a form of arthritis. It comes in attacks."
    assert text.startswith(content + "\n\n" + content) and len(text) >= 2.5 * len(content)
    assert DISCLAIMER not in text and text[-1].isalnum()


def test_preference_configs_are_valid_and_checked():
    for path in sorted((configs_dir() / "prefer").glob("*.yaml")):
        cfg = load_config(PreferConfig, path)
        assert f"run_name: {cfg.run_name}" in path.read_text() and "make prefer" in path.read_text()
        assert set(cfg.pairs.caps) <= set(KINDS)  # a kind a config leaves out gets no pairs
    cpu = configs_dir() / "prefer" / "smollm2-135m_cpu.yaml"
    assert set(load_config(PreferConfig, cpu).pairs.caps) == set(KINDS)  # the CPU profile runs every kind
    with pytest.raises(ConfigError, match="padding-free"):
        load_config(PreferConfig, cpu, ["model.attn_implementation=varlen"])
    with pytest.raises(ConfigError, match="unknown kinds"):
        load_config(PreferConfig, cpu, ["pairs.caps={refusals: 3}"])


def write_data(folder):
    """Short conversations (no disclaimer on the MedQuAD rows), so a DPO step on 2 CPU cores takes seconds."""
    rows = planted_rows(system="Be careful.", disclaimer=False)
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "train.jsonl", [r for r in rows if r["id"] != "broken/0"])
    write_jsonl(folder / "validation.jsonl", [rows[1], rows[3], rows[6], rows[7]])
    return folder


def tiny_config(data, run_name: str, start: str = PRESET, **training) -> PreferConfig:
    return PreferConfig.model_validate({
        "run_name": run_name, "start": start,
        "model": {"preset": PRESET, "dtype": "float32"},
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        "data": {"dir": str(data), "max_length": 64},
        "pairs": {"caps": {"refusal": 4, "non_answer": 2, "runaway": 2, "emergency_refusal": 2},
                  "eval_caps": {kind: 1 for kind in KINDS}},
        "training": {"max_steps": 4, "batch_size": 2, "eval_batch_size": 5, "learning_rate": 5e-4, "warmup_ratio": 0.0,
                     "lr_scheduler": "constant", "logging_steps": 1, **training},
        "merge": {"dtype": "float32"}, "report_to": [],
    })


def test_start_must_exist_and_match_the_preset(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDTUNE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    data = write_data(tmp_path / "data")
    with pytest.raises(TrainError, match="make train"):
        run(tiny_config(data, "x", start="no-such-sft-run"))
    with pytest.raises(TrainError, match="must match"):
        run(tiny_config(data, "x", start="qwen2.5-coder-1.5b"))


@pytest.mark.slow
def test_runaway_rejections_end_without_the_end_of_turn_token(tmp_path):
    from datasets import Dataset
    from trl import DPOTrainer

    from medtune.model_spec import resolve_model
    from medtune.training.model import load_for_training
    from medtune.training.prefer_config import as_train_config, dpo_config

    cfg = tiny_config(write_data(tmp_path / "data"), "x")
    spec = resolve_model(PRESET)
    pairs, _ = build_pairs(planted_rows(system="Be careful."), ALL)
    model, peft_config, dtype = load_for_training(as_train_config(cfg), spec.tokenizer)
    eot = spec.tokenizer.convert_tokens_to_ids(spec.end_of_turn)
    trainer = preference_trainer(DPOTrainer)(
        model=model, args=dpo_config(cfg, tmp_path / "work", dtype), train_dataset=Dataset.from_list(pairs),
        processing_class=spec.tokenizer, peft_config=peft_config, end_of_turn_id=eot)
    rows = list(trainer.train_dataset)
    assert {r["kind"] for r in rows} == set(KINDS)
    for r in rows:
        assert r["chosen_ids"].count(eot) == 1  # the chosen answer closes its turn
        assert (eot in r["rejected_ids"]) == (r["kind"] != "runaway")


@pytest.fixture(scope="module")
def dpo_run(run_root):
    data = write_data(run_root / "data")
    return run_root, data, run(tiny_config(data, "dpo"))


@pytest.mark.slow
def test_dpo_raises_the_reward_margin_and_writes_a_training_run(dpo_run):
    from transformers import AutoModelForCausalLM

    from medtune.model_spec import resolve_model

    _, _, out = dpo_run
    for name in ("adapter/adapter_config.json", "merged/model.safetensors", "merged/chat_template.jinja",
                 "merged/medtune_model.json", "metrics.jsonl", "metrics.csv", "loss_curve.png",
                 "pairs_summary.json", "pairs_sample.jsonl"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["global_step"] == 4 and summary["device"] == "cpu" and summary["train_runtime_s"] > 0
    logs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    margins = [r["rewards/margins"] for r in logs if "rewards/margins" in r]
    assert len(margins) == 4 and margins[0] == 0.0  # the first step sees the start model: policy == reference
    assert margins[-1] > margins[0] + 0.05 and summary["train_rewards_margin_last"] == margins[-1]
    assert summary["eval_rewards_margin_final"] > summary["eval_rewards_margin_initial"]
    assert summary["eval_loss_final"] < summary["eval_loss_initial"] == pytest.approx(0.6931, abs=1e-3)
    assert any("rewards/accuracies" in r for r in logs)
    pairs = json.loads((out / "pairs_summary.json").read_text())
    assert pairs["train"]["pairs"]["refusal"] == 4 and pairs["train"]["classes"]["harmful_request"] == 1
    assert summary["train_rows"] == pairs["train"]["total_pairs"] == 10
    cfg = json.loads((out / "manifest.json").read_text())["config"]  # what recipe_experiments.py record reads
    assert cfg["model"]["preset"] == PRESET and cfg["lora"]["r"] == 8 and cfg["lora"]["alpha"] == 16
    assert {"learning_rate", "epochs", "batch_size", "grad_accum"} <= set(cfg["training"])
    model = AutoModelForCausalLM.from_pretrained(out / "merged")
    spec = resolve_model(str(out / "merged"))
    assert spec.tokenizer.convert_tokens_to_ids(spec.end_of_turn) in model.generation_config.eos_token_id
    assert model.generation_config.pad_token_id == spec.tokenizer.pad_token_id != model.config.eos_token_id


@pytest.mark.slow
def test_a_run_from_a_merged_model_keeps_its_tokenizer_template_and_generation_config(dpo_run):
    """The second run starts from the first one's merged model, as a real one starts from an SFT run."""
    root, data, first = dpo_run
    second = run(tiny_config(data, "dpo-again", start="dpo", max_steps=1))
    for name in ("chat_template.jinja", "tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        assert (second / "merged" / name).read_text() == (first / "merged" / name).read_text(), name
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["base_model"] == str(first / "merged") and manifest["inputs"]["start_manifest"]["sha256"]
    assert json.loads((second / "merged" / "medtune_model.json").read_text())["start"] == "dpo"


def test_make_prefer_follows_the_sft_run_and_its_arguments(make_tree):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDTUNE_", "MAKE", "MFLAGS"))}

    def up_to_date(*args: str) -> bool:
        result = subprocess.run(["make", "-C", str(make_tree), "--no-print-directory", "-q", "prefer", "STAGE_DEPS=",
                                 "-o", "data/processed/manifest.json", *args], capture_output=True, text=True, env=env)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode == 0

    sft = make_tree / "artifacts/smollm2-135m-lora-cpu/manifest.json"
    output = make_tree / "artifacts/smollm2-135m-dpo-cpu/manifest.json"
    assert not up_to_date()
    for path in (sft, output):  # the SFT run, then the preference run after it
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
        time.sleep(0.05)
    assert up_to_date()
    assert not up_to_date("PREFER_ARGS=training.max_steps=2")
    output.write_text("{}\n")
    time.sleep(0.05)
    sft.write_text("{}\n")  # a new SFT run
    assert not up_to_date("PREFER_ARGS=training.max_steps=2")
