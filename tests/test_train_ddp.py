"""Data-parallel training (issue 17) on the CPU: `make train NPROC=2` starts two processes through
`accelerate launch` (gloo backend on 127.0.0.1) that train the embedded SmolLM2-135M on the padding-free
varlen path with 2 conversations each per step. One process with 4 conversations per step on the same
data must reach the same losses, step by step, and only the first process writes the outputs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import yaml
from test_train import tiny_config, write_data

from medtune.training import run

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
STEPS = 3
# Both runs sum the same token losses over the same 4 conversations per step (the trainer divides by the
# tokens of every process); only the order of the float32 additions differs (measured: 3e-7 relative).
LOSS_TOLERANCE = 1e-4


def config(data: Path, run_name: str, batch_size: int):
    cfg = tiny_config(data, run_name, batch_size=batch_size, max_steps=STEPS, eval_steps=STEPS,
                      eval_batch_size=1, padding_free=True)
    cfg.model.attn_implementation = "varlen"
    cfg.merge.enabled = False  # the merge runs in the first process only, after training: not what is tested
    return cfg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_env(artifacts: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDTUNE_", "MAKE", "MFLAGS"))}
    env.update(MEDTUNE_ARTIFACTS_DIR=str(artifacts), CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    if Path("/sys/class/net/lo").exists():
        env["GLOO_SOCKET_IFNAME"] = "lo"  # the processes talk over the loopback interface only
    return env


def losses(out: Path) -> list[float]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [row["loss"] for row in rows if "loss" in row]


def test_two_processes_reach_the_loss_of_one_on_the_same_global_batch(tmp_path, make_tree, monkeypatch, capsys):
    data = write_data(tmp_path / "data", n_train=12, n_val=4)

    monkeypatch.setenv("MEDTUNE_ARTIFACTS_DIR", str(tmp_path / "single"))
    single = run(config(data, "single", batch_size=4))
    assert "global batch: 4 per process x 1 accumulation x 1 process = 4 conversations" in capsys.readouterr().out

    config_file = tmp_path / "ddp.yaml"
    config_file.write_text(yaml.safe_dump(config(data, "ddp", batch_size=2).model_dump(mode="json")))
    artifacts = tmp_path / "ddp-artifacts"
    result = subprocess.run(
        ["make", "-C", str(make_tree), "--no-print-directory", "train", "NPROC=2", f"TRAIN_PORT={free_port()}",
         f"TRAIN_CONFIG={config_file}", f"VENV={REPO / '.venv'}", "STAGE_DEPS=", "-o", "data/processed/manifest.json"],
        env=loopback_env(artifacts), capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "-m accelerate.commands.launch --config_file stages/configs/accelerate/ddp.yaml --num_processes 2" in log
    assert ("global batch: 2 per process x 1 accumulation x 2 processes (DDP) = 4 conversations per optimizer "
            "step; learning rate 0.002") in log

    a = json.loads((single / "train_summary.json").read_text())
    b = json.loads((artifacts / "ddp" / "train_summary.json").read_text())
    assert b["global_step"] == a["global_step"] == STEPS
    assert b["tokens_seen"] == a["tokens_seen"]  # the same conversations, counted over both processes
    assert losses(artifacts / "ddp") == pytest.approx(losses(single), rel=LOSS_TOLERANCE)
    assert len(losses(single)) == STEPS
    for key in ("eval_loss_initial", "eval_loss_final"):
        assert b[key] == pytest.approx(a[key], rel=LOSS_TOLERANCE), key
    assert b["eval_loss_final"] < b["eval_loss_initial"]

    # One set of outputs, from the first process; the second left only its copy of the initial evaluation.
    assert sorted(p.name for p in artifacts.iterdir()) == ["ddp", "ddp.work"]
    assert [p.relative_to(artifacts) for p in artifacts.rglob("train_summary.json")] == [Path("ddp/train_summary.json")]
    for name in ("adapter/adapter_config.json", "adapter/adapter_model.safetensors", "metrics.jsonl",
                 "loss_curve.png", "manifest.json"):
        assert (artifacts / "ddp" / name).is_file(), name
    assert log.count("[train] wrote ") == 1
    assert sorted(p.name for p in (artifacts / "ddp.work").glob("initial_eval*.json")) == \
        ["initial_eval.json", "initial_eval.rank1.json"]
