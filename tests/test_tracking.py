"""Weights & Biases is an optional extra: a clear stop when the key is set but wandb is missing, and the key
reaches RunPod pods (masked in the launcher's output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))

import train  # noqa: E402

WANDB_KEY = "wandb_test_key_0123456789abcdef"


def test_key_set_without_wandb_stops_before_training(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("WANDB_API_KEY", WANDB_KEY)
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb now fails as if it were not installed
    # A data folder that does not exist: the check must come first, before data or model loading.
    code = train.main([f"data.dir={tmp_path / 'nothing'}", "training.max_steps=1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "WANDB_API_KEY is set" in err and "wandb package is not installed" in err
    assert "requirements-extras.txt" in err and "unset WANDB_API_KEY" in err
    assert WANDB_KEY not in err


def test_report_to_wandb_without_key_also_stops(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setitem(sys.modules, "wandb", None)
    assert train.main([f"data.dir={tmp_path / 'nothing'}", "report_to=[wandb]"]) == 2
    assert "report_to lists wandb" in capsys.readouterr().err


def test_without_key_the_check_passes_and_training_reports_its_own_errors(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setitem(sys.modules, "wandb", None)
    assert train.main([f"data.dir={tmp_path / 'nothing'}", "report_to=[]"]) == 2
    err = capsys.readouterr().err
    assert "wandb" not in err and "nothing" in err  # the next check (missing data) spoke instead


def test_runpod_pod_gets_the_wandb_key_masked_in_the_log():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "WANDB_"))}
    env.update(IMAGE_PREFIX="registry.example.org/medtune-", IMAGE_TAG="test", WANDB_API_KEY=WANDB_KEY)
    result = subprocess.run([sys.executable, str(REPO / "runpod" / "launch.py"), "--dry-run"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert WANDB_KEY not in result.stdout + result.stderr
    request = next(line for line in result.stdout.splitlines() if "API POST" in line)
    assert json.loads(request[request.index("{"):])["env"]["WANDB_API_KEY"] == "****"
