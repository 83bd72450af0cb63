"""Benchmark arithmetic (bench_train): GPU peak lookup, speed-up / MFU / loss-gap columns, parameter count."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))

import bench_train  # noqa: E402


def test_peak_flops_picks_the_specific_gpu_name_first():
    assert bench_train.peak_flops("NVIDIA H100 80GB HBM3") == 989.4e12
    assert bench_train.peak_flops("NVIDIA H100 PCIe") == 756e12
    assert bench_train.peak_flops("cpu") is None


def test_ratios_against_the_plain_baseline():
    common = {"status": "ok", "peak_gpu_allocated_gib": 1.0, "eval_loss_initial": 2.5, "throughput": {"measured_steps": 7},
              "description": "d"}
    report = {"device": "NVIDIA H100 80GB HBM3", "parameters": 100_000_000, "results": [
        {**common, "variant": "plain", "tokens_per_s": 10_000.0, "eval_loss_final": 2.0},
        {**common, "variant": "default", "tokens_per_s": 40_000.0, "eval_loss_final": 1.98},
        {"variant": "qlora", "status": "failed", "error": "x", "description": "d"}]}
    bench_train.add_ratios(report)
    plain, default, failed = report["results"]
    assert default["speedup_vs_plain"] == 4.0 and plain["speedup_vs_plain"] == 1.0
    assert default["val_loss_vs_plain"] == pytest.approx(-0.01)
    assert default["mfu"] == round(6 * 1e8 * 40_000 / 989.4e12, 4)   # 0.0243
    assert "mfu" not in failed
    table = bench_train.markdown({**report, "preset": "p", "command": "c", "train_samples": 8, "steps": 2,
                                  "effective_batch": 4, "versions": {}})
    assert "| default | ok | 40,000 | 4.0x | 2.4% |" in table and "## qlora failed" in table


def test_parameter_count_matches_the_loaded_model():
    from medtune.models import load_model, prepare

    model = load_model("smollm2-135m")
    assert bench_train.parameter_count(prepare("smollm2-135m")) == sum(p.numel() for p in model.parameters())
