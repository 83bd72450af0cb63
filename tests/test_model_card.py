"""Model card, `make push-hub --dry-run` and `make clean` / `make clean-runs` on folders made in tmp.

The export folder here is laid out like `make export` leaves it (the training summary and the report's
comparison.json are the real H100 run's, from reports/); the end-to-end export test checks the card
that a real export writes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import ModelCard

from medtune.chat_format import DISCLAIMER
from medtune.model_card import write_model_card
from medtune.models import get_preset

REPO = Path(__file__).resolve().parents[1]
H100_RUN = REPO / "reports" / "2026-11-22-smollm2-135m"


def _export_folder(root: Path, name: str, report: bool) -> Path:
    run = root / name
    (run / "gguf").mkdir(parents=True)
    files = {}
    for quant, size in (("f16", 300), ("q8_0", 160)):
        path = run / "gguf" / f"{name}-{quant}.gguf"
        path.write_bytes(b"G" * size)
        files[quant] = {"file": path.name, "bytes": size, "sha256": "ab" * 32}
    (run / "gguf" / "manifest.json").write_text(json.dumps({"stage": "export", "files": files}))
    (run / "Modelfile").write_text(f"FROM gguf/{name}-q8_0.gguf\n")
    # make train's manifest: its config and the run's train_summary.json
    train = {"stage": "train", "config": {"run_name": name, "model": {"preset": "smollm2-135m"}, "lora": {"r": 16},
                                          "training": {"method": "lora", "batch_size": 32}, "data": {}},
             **json.loads((H100_RUN / "training" / "train_summary.json").read_text())}
    (run / "manifest.json").write_text(json.dumps(train))
    if report:
        (run / "report").mkdir()
        shutil.copy(H100_RUN / "comparison.json", run / "report" / "comparison.json")
    return run


def test_card_has_the_hub_header_the_scorecard_and_the_disclaimer(tmp_path):
    run = _export_folder(tmp_path, "my-run", report=True)
    card = ModelCard.load(write_model_card(run, get_preset("smollm2-135m")))
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert card.data.license == "apache-2.0" and card.data.pipeline_tag == "text-generation"
    assert card.data.datasets == ["lavita/MedQuAD"] and "medical" in card.data.tags
    comparison = json.loads((run / "report" / "comparison.json").read_text())["comparison"]
    refusal = comparison["safety/refusal_rate"]
    assert (f"| {refusal['label']} (higher is better) | {refusal['n']} | {refusal['base']:.3f} | "
            f"{refusal['tuned']:.3f} | {refusal['diff']:+.3f}") in card.text
    assert "by_subject" not in card.text and "Not evaluated" not in card.text
    summary = json.loads((H100_RUN / "training" / "train_summary.json").read_text())
    assert f"| training conversations | {summary['train_rows']} |" in card.text
    assert DISCLAIMER in card.text and "local emergency number" in card.text
    assert "ollama create medtune -f Modelfile" in card.text and "gguf/my-run-q8_0.gguf" in card.text


def test_card_without_report_says_not_evaluated(tmp_path):
    run = _export_folder(tmp_path, "base-gemma-2b", report=False)
    (run / "manifest.json").unlink()  # a base export has no training manifest
    card = ModelCard.load(write_model_card(run, get_preset("gemma-2b")))
    assert "Not evaluated" in card.text and "None: this is the base model" in card.text
    assert card.data.license == "gemma" and card.data.base_model == "google/gemma-2b-it"


def _push(run_dir: Path, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "MEDTUNE_ARTIFACTS_DIR": str(run_dir.parent), "HF_HUB_OFFLINE": "1",
           **(env_extra or {})}
    return subprocess.run([sys.executable, str(REPO / "stages" / "push_hub.py"), "--run", run_dir.name, *args],
                          capture_output=True, text=True, env=env)


def test_push_hub_dry_run_lists_the_files(tmp_path):
    run = _export_folder(tmp_path, "my-run", report=True)
    write_model_card(run, get_preset("smollm2-135m"))
    result = _push(run, "--repo", "someone/medtune-test", "--dry-run")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert listed == ["README.md", "Modelfile", "gguf/manifest.json", "gguf/my-run-f16.gguf", "gguf/my-run-q8_0.gguf"]
    assert "would upload 5 files" in result.stdout
    # The merged model instead: its files at the top of the repository, with the card.
    (run / "merged").mkdir()
    (run / "merged" / "config.json").write_text("{}")
    (run / "merged" / "model.safetensors").write_bytes(b"w")
    merged = _push(run, "--repo", "someone/medtune-test", "--what", "merged", "--dry-run")
    assert [line.split()[0] for line in merged.stdout.splitlines()[1:]] == ["README.md", "config.json",
                                                                          "model.safetensors"]


@pytest.mark.parametrize("args, message", [
    (["--repo", "someone/x"], "HF_TOKEN is not set"),
    (["--repo", "no-slash", "--dry-run"], "expected <user or org>/<name>"),
])
def test_push_hub_refuses_clearly(tmp_path, args, message):
    run = _export_folder(tmp_path, "my-run", report=False)
    write_model_card(run, get_preset("smollm2-135m"))
    result = _push(run, *args)
    assert result.returncode == 2 and message in result.stderr


def test_push_hub_without_card_says_to_export(tmp_path):
    run = _export_folder(tmp_path, "my-run", report=False)
    result = _push(run, "--repo", "someone/x", "--dry-run")
    assert result.returncode == 2 and "make export" in result.stderr


def _make(target: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(REPO), target,
                           f"MEDTUNE_ARTIFACTS_DIR={tmp_path / 'artifacts'}", f"MEDTUNE_DATA_DIR={tmp_path / 'data'}",
                           f"PYTHON_BIN={sys.executable}", *extra],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


def _tree(tmp_path: Path) -> None:
    for folder in ("data/processed", "artifacts/my-run/adapter", "artifacts/my-run.work/checkpoints",
                   "artifacts/baseline-smollm2-135m/eval/cpu", "artifacts/base-smollm2-135m/gguf"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "artifacts" / "README.md").write_text("kept")


def test_make_clean_keeps_trained_runs(tmp_path):
    _tree(tmp_path)
    result = _make("clean", tmp_path)
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in (tmp_path / "artifacts").iterdir())
    assert left == ["README.md", "my-run", "my-run.work"]
    assert (tmp_path / "artifacts" / "my-run" / "adapter").is_dir()
    assert not (tmp_path / "data" / "processed").exists()
    assert "kept 2 trained run folder(s)" in result.stdout and "clean-runs FORCE=1" in result.stdout


def test_make_clean_runs_needs_force(tmp_path):
    _tree(tmp_path)
    refused = _make("clean-runs", tmp_path)
    assert refused.returncode != 0 and "FORCE=1" in refused.stderr
    assert (tmp_path / "artifacts" / "my-run" / "adapter").is_dir()
    forced = _make("clean-runs", tmp_path, "FORCE=1")
    assert forced.returncode == 0, forced.stderr
    assert sorted(p.name for p in (tmp_path / "artifacts").iterdir()) == ["README.md"]
