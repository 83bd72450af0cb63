"""Training stage on the embedded SmolLM2-135M: labels, padding, errors, a real tiny run, resume, merge."""

from __future__ import annotations

import json
import re

import pytest
import torch

from medtune.chat_format import DISCLAIMER, conversation
from medtune.files import write_jsonl
from medtune.model_spec import resolve_model
from medtune.models import ModelError, load_model, load_tokenizer
from medtune.training import (IGNORE_INDEX, TrainConfig, TrainError, check_device, run, set_pad_token,
                              tokenize_conversation)

PRESET = "smollm2-135m"
EOT = "<|im_end|>"

QA = [
    ("What is anemia?", "Anemia means the blood has too few healthy red blood cells to carry oxygen."),
    ("What causes a common cold?", "Colds are caused by viruses, most often rhinoviruses."),
    ("What is hypertension?", "Hypertension is blood pressure that stays higher than normal."),
    ("What is asthma?", "Asthma is a long-term condition in which the airways swell and narrow."),
    ("What is a migraine?", "A migraine is a headache, often on one side, that can come with nausea."),
    ("What is type 2 diabetes?", "Type 2 diabetes is a condition in which blood sugar stays too high."),
    ("What is eczema?", "Eczema is a skin condition that makes the skin dry, itchy and red."),
    ("What is gout?", "Gout is a form of arthritis caused by uric acid crystals in a joint."),
    ("What is a cataract?", "A cataract is a clouding of the lens of the eye."),
    ("What is tinnitus?", "Tinnitus is hearing ringing or other sounds that no outside source makes."),
]


@pytest.fixture(scope="module")
def tokenizer():
    tok = load_tokenizer(PRESET)
    set_pad_token(tok, EOT)
    return tok


def labelled_text(tokenizer, item) -> str:
    return tokenizer.decode([t for t, lab in zip(item["input_ids"], item["labels"]) if lab != IGNORE_INDEX])


def test_labels_cover_every_assistant_turn_and_its_end_of_turn(tokenizer):
    messages = conversation([QA[0], QA[1], QA[2]], disclaimer=True)
    item = tokenize_conversation(tokenizer, messages, EOT)
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    assert labelled_text(tokenizer, item) == "".join(a + EOT for a in answers)
    eot_id = tokenizer.convert_tokens_to_ids(EOT)
    labelled_eot = [lab for lab in item["labels"] if lab == eot_id]
    assert len(labelled_eot) == len(answers)
    # the end-of-turn tokens closing the system and user turns are not trained
    assert item["input_ids"].count(eot_id) == len(messages)
    assert item["labels"][-1] == IGNORE_INDEX or item["labels"][-1] == eot_id
    # the tokens are those of the plain rendering (what the model sees at inference)
    assert item["input_ids"] == tokenizer(tokenizer.apply_chat_template(messages, tokenize=False),
                                          add_special_tokens=False)["input_ids"]


def test_only_last_turn_for_reference_answers(tokenizer):
    messages = conversation([QA[3], QA[4]], disclaimer=True)
    item = tokenize_conversation(tokenizer, messages, EOT, only_last=True)
    assert labelled_text(tokenizer, item) == messages[-1]["content"] + EOT
    assert messages[-1]["content"].endswith(DISCLAIMER)


def test_padding_never_masks_the_end_of_turn_token(tokenizer):
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    assert tokenizer.pad_token != EOT  # SmolLM2 ships pad == eos == <|im_end|>
    eot_id = tokenizer.convert_tokens_to_ids(EOT)
    short = tokenize_conversation(tokenizer, conversation([QA[5]]), EOT)
    long = tokenize_conversation(tokenizer, conversation([QA[6], QA[7]]), EOT)
    batch = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id)([short, long])
    for row, item in zip(batch["labels"].tolist(), [short, long]):
        assert row.count(eot_id) == item["labels"].count(eot_id) > 0
    assert batch["input_ids"][0, len(short["input_ids"]):].eq(tokenizer.pad_token_id).all()


def test_truncation_keeps_prefix(tokenizer):
    messages = conversation([QA[8]])
    full = tokenize_conversation(tokenizer, messages, EOT)
    cut = tokenize_conversation(tokenizer, messages, EOT, max_length=10)
    assert cut["input_ids"] == full["input_ids"][:10] and cut["labels"] == full["labels"][:10]


def write_data(folder, n_train=16, n_val=4):
    folder.mkdir(parents=True, exist_ok=True)
    system = "You are a careful medical assistant."
    rows = [{"id": str(i), "messages": conversation([QA[i % len(QA)]], system=system, disclaimer=True)}
            for i in range(n_train + n_val)]
    write_jsonl(folder / "train.jsonl", rows[:n_train])
    write_jsonl(folder / "validation.jsonl", rows[n_train:])
    return folder


def tiny_config(data_dir, run_name, **training) -> TrainConfig:
    return TrainConfig.model_validate({
        "run_name": run_name,
        "model": {"preset": PRESET, "dtype": "float32"},
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        "data": {"dir": str(data_dir), "max_length": 64},
        "training": {"max_steps": 6, "batch_size": 2, "learning_rate": 2e-3, "warmup_ratio": 0.0,
                     "eval_steps": 3, "logging_steps": 1, "early_stopping_patience": None,
                     "lr_scheduler": "linear", **training},
        "merge": {"dtype": "float32"},
        "report_to": [],
    })


def test_errors_name_the_fix(tmp_path):
    with pytest.raises(TrainError, match="make data"):
        run(tiny_config(tmp_path / "missing", "x"))
    data = write_data(tmp_path / "data")
    cfg = tiny_config(data, "x")
    cfg.model.preset = "nope"
    with pytest.raises(ModelError, match="presets: smollm2-135m"):
        run(cfg)
    if not torch.cuda.is_available():
        for override in ({"method": "qlora"}, {"backend": "unsloth"}):
            cfg = tiny_config(data, "x", **override)
            with pytest.raises(TrainError, match="CUDA"):
                check_device(cfg)


@pytest.fixture(scope="module")
def full_run(run_root):
    data = write_data(run_root / "data")
    return run_root, data, run(tiny_config(data, "full"))


@pytest.mark.slow
def test_loss_falls_and_outputs_are_complete(full_run):
    _, _, out = full_run
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["eval_loss_final"] < summary["eval_loss_initial"]
    losses = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").read_text().splitlines()
              if "loss" in json.loads(line)]
    assert losses[-1] < losses[0]
    for name in ("adapter/adapter_config.json", "merged/model.safetensors", "merged/chat_template.jinja",
                 "loss_curve.png", "metrics.csv", "manifest.json"):
        assert (out / name).is_file(), name
    gen = json.loads((out / "merged" / "generation_config.json").read_text())
    tok = load_tokenizer(PRESET)
    assert tok.convert_tokens_to_ids(EOT) in gen["eos_token_id"]
    assert gen["pad_token_id"] != tok.convert_tokens_to_ids(EOT)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tokens_seen"] > 0 and manifest["inputs"]["train"]["sha256"]


@pytest.mark.slow
def test_resume_reaches_the_same_loss(full_run):
    root, data, out = full_run
    assert run(tiny_config(data, "resumed", stop_after_steps=3)) is None
    resumed = run(tiny_config(data, "resumed", resume=True))
    a = json.loads((out / "train_summary.json").read_text())
    b = json.loads((resumed / "train_summary.json").read_text())
    assert b["global_step"] == a["global_step"] == 6
    assert b["eval_loss_final"] == pytest.approx(a["eval_loss_final"], rel=1e-3)
    assert b["train_loss_last"] == pytest.approx(a["train_loss_last"], rel=1e-3)


@pytest.mark.slow
def test_compiled_decoder_layers_train_to_the_same_loss(full_run):
    _, data, out = full_run
    compiled = run(tiny_config(data, "compiled", torch_compile=True))
    a = json.loads((out / "train_summary.json").read_text())
    b = json.loads((compiled / "train_summary.json").read_text())
    assert b["global_step"] == a["global_step"]
    assert b["eval_loss_final"] == pytest.approx(a["eval_loss_final"], rel=1e-3)


@pytest.mark.slow
def test_padding_free_varlen_attention_trains_like_padded_batches(full_run):
    """The same conversations per step, padded (SDPA + mask, the stock trainer loop) or concatenated in one row
    (varlen attention, lean_trainer); the second run also writes a profile."""
    _, data, _ = full_run
    padded = run(tiny_config(data, "padded-random", group_by_length=False, lean_trainer=False))
    varlen = tiny_config(data, "varlen", padding_free=True, profile_steps=(2, 3))
    varlen.model.attn_implementation = "varlen"
    varlen = run(varlen)
    profile = (varlen.parent / "varlen.work" / "profile.txt").read_text()
    assert "steps 2-3:" in profile and "aten::" in profile
    assert (varlen.parent / "varlen.work" / "profile_trace.json.gz").stat().st_size > 0
    a = json.loads((padded / "train_summary.json").read_text())
    b = json.loads((varlen / "train_summary.json").read_text())
    assert b["eval_loss_initial"] == pytest.approx(a["eval_loss_initial"], rel=1e-4)
    assert b["eval_loss_final"] == pytest.approx(a["eval_loss_final"], rel=1e-3)
    assert b["eval_loss_final"] < b["eval_loss_initial"]


def test_varlen_attention_needs_padding_free_batches(tmp_path):
    cfg = tiny_config(write_data(tmp_path / "data"), "x")
    cfg.model.attn_implementation = "varlen"
    with pytest.raises(TrainError, match="training.padding_free=true"):
        run(cfg)


@pytest.mark.slow
def test_merged_logits_equal_base_plus_adapter(full_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    _, _, out = full_run
    tok = load_tokenizer(PRESET)
    ids = tok(tok.apply_chat_template(conversation([QA[9]]), tokenize=False), return_tensors="pt").input_ids
    with torch.no_grad():
        base_logits = load_model(PRESET).eval()(ids).logits
        peft_logits = PeftModel.from_pretrained(load_model(PRESET), str(out / "adapter")).eval()(ids).logits
        merged_logits = AutoModelForCausalLM.from_pretrained(out / "merged", dtype=torch.float32).eval()(ids).logits
    adapter_effect = (peft_logits - base_logits).abs().max().item()
    assert adapter_effect > 0.1
    assert (merged_logits - peft_logits).abs().max().item() < 1e-3 * max(1.0, adapter_effect)


def test_every_preset_config_is_valid_and_shows_its_command():
    from medtune.config import load_config
    from medtune.models import get_preset
    from medtune.paths import configs_dir

    paths = sorted((configs_dir() / "train").glob("*.yaml"))
    assert any(p.name == "smollm2-135m_lora_cpu.yaml" for p in paths)
    for path in paths:
        cfg = load_config(TrainConfig, path)
        get_preset(cfg.model.preset)
        assert path.stem.startswith(cfg.model.preset + "_") and f"_{cfg.training.method}" in path.stem
        header = path.read_text().split("run_name:")[0]
        assert f"configs/train/{path.name}" in header


def test_overlong_rows_are_dropped_and_counted(tmp_path, tokenizer):
    from medtune.training import load_split

    data = write_data(tmp_path / "data", n_train=6, n_val=1)
    lengths = [len(tokenize_conversation(tokenizer, conversation([QA[i]], system="You are a careful medical "
                                         "assistant.", disclaimer=True), EOT)["input_ids"]) for i in range(6)]
    limit = sorted(lengths)[2]
    dropped: dict[str, int] = {}
    kept = load_split(data / "train.jsonl", tokenizer, EOT, limit, None, 0, dropped, overlong="drop")
    assert len(kept) == sum(n <= limit for n in lengths) and sum(dropped.values()) == 6 - len(kept)
    assert all(item["labels"].count(tokenizer.convert_tokens_to_ids(EOT)) == 1 for item in kept)


def test_train_if_needed_skips_only_a_repeated_mode():
    from medtune.training import train_if_needed

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    model.eval()
    train_if_needed(model)
    assert model.training and all(m.training for m in model.modules())
    model[1].training = False          # only a full walk would reset it
    train_if_needed(model)
    assert not model[1].training
    train_if_needed(model, False)
    assert not any(m.training for m in model.modules())


def test_varlen_sequence_bounds_follow_each_batch():
    from medtune.attention import sequence_bounds

    first = torch.tensor([[0, 1, 2, 0, 1]])
    second = torch.tensor([[0, 1, 0, 1, 2, 3]])
    for position_ids, bounds, longest in ((first, [0, 3, 5], 3), (first, [0, 3, 5], 3), (second, [0, 2, 6], 4)):
        cu, got = sequence_bounds({"position_ids": position_ids}, position_ids.shape[1], "cpu")
        assert cu.tolist() == bounds and got == longest and cu.dtype == torch.int32
    cu, got = sequence_bounds({"cu_seq_lens_q": torch.tensor([0, 4]), "max_length_q": 4}, 4, "cpu")
    assert cu.tolist() == [0, 4] and got == 4 and cu.dtype == torch.int32


@pytest.mark.slow
def test_a_diverging_run_stops_at_the_first_nan_and_merges_nothing(tmp_path, monkeypatch, capsys):
    """A learning rate of 1e30 blows the LoRA weights up at the first update, so the next evaluation or gradient
    is NaN. The run must stop there, say so with the knobs, exit non-zero, and leave no merged model behind."""
    import yaml

    import train as train_stage  # stages/train.py, the command line (stages/ is on pytest's path)
    monkeypatch.setenv("MEDTUNE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    cfg = tiny_config(write_data(tmp_path / "data"), "diverge", learning_rate=1e30, max_steps=4, eval_steps=1,
                      lr_scheduler="constant", max_grad_norm=0.0)
    config = tmp_path / "diverge.yaml"
    config.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    assert train_stage.main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"training diverged: non-finite (gradient|eval_loss|validation loss).* at optimizer step 1", err)
    assert "training.learning_rate" in err and "nothing was merged" in err
    assert not (tmp_path / "artifacts" / "diverge").exists()
    assert not list((tmp_path / "artifacts" / "diverge.work" / "checkpoints").glob("checkpoint-*"))


def test_divergence_message_names_the_last_checkpoint_before_the_bad_step(tmp_path):
    from medtune.guards import NonFiniteTraining, divergence_message

    for step in (2, 4, 6):
        (tmp_path / f"checkpoint-{step}").mkdir()
    message = divergence_message(NonFiniteTraining(5, "non-finite gradient (NaN or inf)", applied=False), tmp_path)
    assert "at optimizer step 5" in message and "before the optimizer applied it" in message
    assert f"last good checkpoint is {tmp_path / 'checkpoint-4'} " in message
    assert "no checkpoint" in divergence_message(NonFiniteTraining(2, "non-finite loss (nan)"), tmp_path)


@pytest.mark.slow
def test_merge_refuses_an_adapter_with_nan_weights(full_run, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from medtune.training import merge_adapter

    _, data, out = full_run
    adapter = tmp_path / "adapter"
    shutil.copytree(out / "adapter", adapter)
    weights = load_file(adapter / "adapter_model.safetensors")
    name = next(iter(weights))
    weights[name][0, 0] = float("nan")
    save_file(weights, adapter / "adapter_model.safetensors")
    with pytest.raises(TrainError, match=r"refusing to merge: \d+ tensors hold NaN or inf"):
        merge_adapter(tiny_config(data, "full"), adapter, tmp_path / "merged", resolve_model(PRESET))
    assert not (tmp_path / "merged").exists()


def plant_checkpoint(work, step, max_steps=6, complete=True):
    folder = work / "checkpoints" / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    if complete:
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step, "max_steps": max_steps}))
    return folder


def test_a_run_without_resume_refuses_to_delete_checkpoints(tmp_path, monkeypatch):
    """Issue 18.2: a run without RESUME=1 silently deleted the previous run's checkpoints."""
    monkeypatch.setenv("MEDTUNE_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    data = write_data(tmp_path / "data")
    work = tmp_path / "artifacts" / "kept.work"
    checkpoint = plant_checkpoint(work, 3)
    with pytest.raises(TrainError) as e:
        run(tiny_config(data, "kept", learning_rate=1e-3))
    message = str(e.value)
    assert "1 checkpoint(s) of an earlier run, the last at step 3 of 6" in message
    assert "RESUME=1" in message and "FRESH=1" in message
    assert (checkpoint / "trainer_state.json").is_file()
    with pytest.raises(TrainError, match="exclude each other"):
        run(tiny_config(data, "kept", resume=True, fresh=True))


def test_fresh_deletes_and_resume_skips_a_torn_last_checkpoint(tmp_path, capsys):
    from medtune.training import TrainingSection, start_or_resume

    work = tmp_path / "run.work"
    good = plant_checkpoint(work, 2)
    plant_checkpoint(work, 4, complete=False)        # killed while the trainer was saving it
    assert start_or_resume(TrainingSection(resume=True), work) == str(good)
    assert "checkpoint-4 is incomplete" in capsys.readouterr().out
    assert (work / "torn" / "checkpoint-4").is_dir() and not (work / "checkpoints" / "checkpoint-4").exists()
    (good / "trainer_state.json").write_text('{"global_st')  # torn inside the file: no complete one left
    with pytest.raises(TrainError, match="no complete checkpoint"):
        start_or_resume(TrainingSection(resume=True), work)
    assert start_or_resume(TrainingSection(fresh=True), work) is None
    assert not work.exists()


@pytest.mark.slow
def test_resume_after_a_torn_checkpoint_reaches_the_planned_step(full_run, capsys):
    """Issue 18.6: a torn last checkpoint made resume fail with a traceback."""
    root, data, _ = full_run
    assert run(tiny_config(data, "torn", eval_steps=2, stop_after_steps=4)) is None
    work = root / "artifacts" / "torn.work"
    (work / "checkpoints" / "checkpoint-4" / "trainer_state.json").unlink()
    resumed = run(tiny_config(data, "torn", eval_steps=2, resume=True))
    assert "checkpoint-4 is incomplete" in capsys.readouterr().out
    summary = json.loads((resumed / "train_summary.json").read_text())
    assert summary["global_step"] == 6 and summary["resumed"] is True
