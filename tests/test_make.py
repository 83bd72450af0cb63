"""The Makefile in a copy of the code (the make_tree fixture): what make re-runs, its errors, `make clean`
(issue 18, items 3, 10 and 12). `make -q` answers whether a target is up to date without running it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDTUNE_", "MAKE", "MFLAGS"))}
    env.update(extra)
    return env


def make(tree: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-C", str(tree), "--no-print-directory", *args], env=env or clean_env(),
                          capture_output=True, text=True, timeout=300)


def finished(path: Path) -> None:
    """As if the stage had just written `path` (newer than the stamps make has written so far)."""
    time.sleep(0.05)  # beyond the file system's timestamp granularity
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}\n")


def test_changed_arguments_and_inputs_remake_the_stage(make_tree, tmp_path):
    """Issue 18.3: after one `make data`, other DATA_ARGS, TRAIN_ARGS or MEDTUNE_SHARED_DATA gave "Nothing to be done"."""
    shared = tmp_path / "shared"
    (shared / "medquad").mkdir(parents=True)
    (shared / "medquad" / "all.jsonl").write_text("{}\n")
    env = clean_env(MEDTUNE_SHARED_DATA=str(shared))

    def up_to_date(target: str, *args: str, environment=env) -> bool:
        upstream = [] if target == "data" else ["-o", "data/processed/manifest.json"]
        result = make(make_tree, "-q", target, "STAGE_DEPS=", "LLAMA_CPP_DEP=", *upstream, *args, env=environment)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode == 0

    assert not up_to_date("data")
    finished(make_tree / "data/processed/manifest.json")
    assert up_to_date("data")
    assert not up_to_date("data", "DATA_ARGS=seed=7 split.train_fraction=0.5")
    finished(make_tree / "data/processed/manifest.json")  # the stage ran with them
    assert up_to_date("data", "DATA_ARGS=seed=7 split.train_fraction=0.5")
    result = make(make_tree, "-q", "data", "STAGE_DEPS=", env=env)
    assert result.returncode == 1 and "its settings changed from" in result.stderr and "seed=7" in result.stderr
    finished(make_tree / "data/processed/manifest.json")
    other = tmp_path / "other"
    other.mkdir()
    assert not up_to_date("data", environment=clean_env(MEDTUNE_SHARED_DATA=str(other)))
    assert not up_to_date("data")  # back to the first location: its data may differ from the last run's
    finished(make_tree / "data/processed/manifest.json")
    time.sleep(0.05)
    (shared / "medquad" / "all.jsonl").write_text("{}\n{}\n")  # an input file changed
    assert not up_to_date("data")

    assert not up_to_date("train")
    finished(make_tree / "artifacts/smollm2-135m-lora-cpu/manifest.json")
    assert up_to_date("train")
    assert not up_to_date("train", "TRAIN_ARGS=training.max_steps=2")
    finished(make_tree / "artifacts/smollm2-135m-lora-cpu/manifest.json")
    # PREFER=0: export the SFT run itself (by default the recipe's DPO run, tested below)
    up_to_date("export", "TRAIN_ARGS=training.max_steps=2", "PREFER=0")  # writes the export's argument stamp
    finished(make_tree / "artifacts/smollm2-135m-lora-cpu/gguf/manifest.json")
    assert up_to_date("export", "TRAIN_ARGS=training.max_steps=2", "PREFER=0")
    assert not up_to_date("export", "TRAIN_ARGS=training.max_steps=2", "PREFER=0", "EXPORT_ARGS=quantizations=[q8_0]")


def test_missing_train_config_is_one_clear_error(make_tree):
    result = make(make_tree, "train", "TRAIN_CONFIG=stages/configs/train/nope.yaml")
    assert result.returncode == 2
    assert "TRAIN_CONFIG=stages/configs/train/nope.yaml: no such file" in result.stderr
    assert "sed:" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "smollm2-135m_lora_cpu.yaml" in result.stderr  # the presets there are


def test_clean_removes_what_killed_stages_left(make_tree):
    """Issue 18.10: a killed data stage left data/.processed.tmp-* that `make clean` did not remove."""
    leftovers = [make_tree / "data/.processed.tmp-4242-abcd", make_tree / "data/.processed.old-4243",
                 make_tree / "artifacts/.run.tmp-4244-efgh", make_tree / "data/processed"]
    for folder in leftovers:
        (folder / "x.jsonl").parent.mkdir(parents=True)
        (folder / "x.jsonl").write_text("{}\n")
    (make_tree / "data/README.md").write_text("kept\n")
    result = make(make_tree, "clean")
    assert result.returncode == 0, result.stderr
    assert not any(folder.exists() for folder in leftovers)
    assert (make_tree / "data/README.md").is_file()


def test_unknown_model_in_make_baseline_is_a_message(make_tree):
    result = make(make_tree, "baseline", "MODEL=nope", f"PY={sys.executable}", "STAGE_DEPS=",
                  "-o", "data/processed/manifest.json")
    assert result.returncode == 2
    assert "unknown model preset 'nope'; presets: smollm2-135m" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_edit_to_a_shared_module_remakes_every_stage(make_tree, tmp_path):
    """Issue 15.5: editing chat_format.py or models.py re-ran data, eval and export, but not training."""
    env = clean_env(MEDTUNE_SHARED_DATA=str(tmp_path / "shared"))
    sft, dpo = "artifacts/smollm2-135m-lora-cpu", "artifacts/smollm2-135m-dpo-cpu"  # the recipe: SFT, then DPO
    outputs = {"data": "data/processed/manifest.json", "train": f"{sft}/manifest.json",
               "prefer": f"{dpo}/manifest.json", "baseline": "artifacts/baseline-smollm2-135m/eval/cpu/metrics.json",
               "eval": f"{dpo}/eval/cpu/metrics.json", "export": f"{dpo}/gguf/manifest.json"}

    def up_to_date(target: str) -> bool:
        upstream = [arg for name, path in outputs.items() if name != target for arg in ("-o", path)]
        result = make(make_tree, "-q", target, "STAGE_DEPS=", "LLAMA_CPP_DEP=", *upstream, env=env)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode == 0

    for target, output in outputs.items():
        up_to_date(target)  # writes the argument stamps the rule depends on
        finished(make_tree / output)
        assert up_to_date(target), target
    for module in ("chat_format.py", "models.py"):
        time.sleep(0.05)
        (make_tree / "stages/medtune" / module).touch()
        assert [target for target in outputs if not up_to_date(target)] == list(outputs), module
        for output in outputs.values():
            finished(make_tree / output)
    time.sleep(0.05)
    (make_tree / "stages/medtune/training/callbacks.py").touch()  # a training module re-runs the trainings only
    assert [target for target in outputs if not up_to_date(target)] == ["train", "prefer"]
