"""Benchmark arithmetic (bench_train): GPU peak lookup, speed-up / MFU / loss-gap columns, parameter count."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))

import bench_train  # noqa: E402
from medtune import bench  # noqa: E402  (the reports bench_train.py writes)


def test_peak_flops_picks_the_specific_gpu_name_first():
    assert bench.peak_flops("NVIDIA H100 80GB HBM3") == 989.4e12
    assert bench.peak_flops("NVIDIA H100 PCIe") == 756e12
    assert bench.peak_flops("cpu") is None


def test_ratios_against_the_plain_baseline():
    common = {"status": "ok", "peak_gpu_allocated_gib": 1.0, "eval_loss_initial": 2.5, "throughput": {"measured_steps": 7},
              "description": "d"}
    report = {"device": "NVIDIA H100 80GB HBM3", "parameters": 100_000_000, "results": [
        {**common, "variant": "plain", "tokens_per_s": 10_000.0, "eval_loss_final": 2.0},
        {**common, "variant": "default", "tokens_per_s": 40_000.0, "eval_loss_final": 1.98},
        {"variant": "qlora", "status": "failed", "error": "x", "description": "d"}]}
    bench.add_ratios(report)
    plain, default, failed = report["results"]
    assert default["speedup_vs_plain"] == 4.0 and plain["speedup_vs_plain"] == 1.0
    assert default["val_loss_vs_plain"] == pytest.approx(-0.01)
    assert default["mfu"] == round(6 * 1e8 * 40_000 / 989.4e12, 4)   # 0.0243
    assert "mfu" not in failed
    table = bench.markdown({**report, "preset": "p", "command": "c", "train_samples": 8, "steps": 2,
                                  "effective_batch": 4, "versions": {}})
    assert "| default | ok | 40,000 | 4.0x | 2.4% |" in table and "## qlora failed" in table


def test_parameter_count_matches_the_loaded_model():
    from medtune.models import load_model, prepare

    model = load_model("smollm2-135m")
    assert bench.parameter_count(prepare("smollm2-135m")) == sum(p.numel() for p in model.parameters())


def test_multigpu_run_without_enough_gpus_stops_with_a_clear_message(tmp_path, capsys):
    import torch

    wanted = torch.cuda.device_count() + 1  # always one more than this machine has
    out = tmp_path / "reports"
    code = bench_train.main(["--gpus", "1", str(wanted), "--variants", "varlen", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"error: --gpus 1 {wanted} needs {wanted} CUDA GPUs and this machine has {wanted - 1}" in err
    assert "nothing was run" in err and f"RUNPOD_GPU_COUNT={wanted}" in err
    assert not out.exists()
    assert bench_train.missing_gpus([1, 2], 2) is None


def test_multigpu_keeps_the_global_batch_and_launches_one_process_per_gpu():
    assert bench_train.per_gpu_batch(16, 2) == 8 and bench_train.per_gpu_batch(16, 1) == 16
    with pytest.raises(bench_train.BenchError, match="cannot be split evenly over 2 GPUs.*multiple of 2"):
        bench_train.per_gpu_batch(5, 2)
    assert bench_train.launcher(1, "python") == ["python"]
    two = bench_train.launcher(2, "python")
    assert two[:3] == ["python", "-m", "accelerate.commands.launch"]
    assert two[two.index("--num_processes") + 1] == "2" and two[two.index("--config_file") + 1].endswith("ddp.yaml")
    assert bench_train.ACCELERATE_DDP.is_file()


def test_multigpu_scaling_and_target():
    def row(name, gpus, tokens_per_s, loss):
        return {"variant": f"{name}-{gpus}gpu", "name": name, "gpus": gpus, "per_gpu_batch": 16 // gpus,
                "status": "ok", "tokens_per_s": tokens_per_s, "eval_loss_initial": 2.5, "eval_loss_final": loss}

    report = {"preset": "qwen2.5-coder-1.5b", "device": "NVIDIA H200", "command": "c", "train_samples": 960,
              "steps": 60, "effective_batch": 16, "versions": {}, "results": [
                  row("varlen", 1, 10_000.0, 2.0), row("varlen", 2, 18_500.0, 2.01),
                  row("liger", 1, 10_000.0, 2.0), row("liger", 2, 17_000.0, 2.0),
                  {"variant": "compile-2gpu", "name": "compile", "gpus": 2, "per_gpu_batch": 8, "status": "failed",
                   "error": "NCCL error", "description": "d"}]}
    bench.add_scaling(report)
    one, fast, _, slow, failed = report["results"]
    assert one["scaling_vs_1gpu"] == 1.0 and "meets_target" not in one
    assert fast["scaling_vs_1gpu"] == 1.85 and fast["val_loss_vs_1gpu"] == pytest.approx(0.005)
    assert fast["meets_target"] is True and slow["meets_target"] is False   # 1.7x < 1.8x
    assert "scaling_vs_1gpu" not in failed
    table = bench.multigpu_markdown(report)
    assert "| varlen | 2 | ok | 8 | 18,500 | 1.85x | 2.5000 | 2.0100 | +0.50% | yes |" in table
    assert "| liger | 2 | ok | 8 | 17,000 | 1.7x |" in table and "| no |" in table
    assert "## compile-2gpu failed" in table and "NCCL_NVLS_ENABLE=0" in table
