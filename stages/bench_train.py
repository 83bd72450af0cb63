"""Training throughput benchmark: a plain baseline vs the project's default path vs unsloth vs QLoRA.

    python stages/bench_train.py --config stages/configs/train/smollm2-135m_lora.yaml --steps 60 \
        --variants plain default unsloth qlora liger padded-grouped --out reports

Every variant trains the same preset on the same conversations (a seeded subset of the training split)
for the same number of optimizer steps at the same effective batch (conversations per step), learning
rate and seed, so the validation losses are comparable. What differs is how each step is computed
(VARIANTS in medtune.bench). Each variant runs `stages/train.py` in its own process (unsloth patches libraries on
import); tokens/s counts real (non-padding) tokens over the optimizer steps alone: warm-up steps,
evaluations and checkpoint writes are left out (medtune.training.callbacks.Throughput). MFU = 6 * N * tokens/s
over the GPU's dense bf16 peak, N = the base model's parameters (LoRA's backward skips the frozen weight
gradients, so this over-counts the work done: the usual convention, comparable across variants).
A variant that cannot run stays in the report with the reason. Writes bench-train.json and .md to --out.

Several GPUs (issue 17): `--gpus 1 2` runs each variant on 1 and on 2 GPUs (DDP through `accelerate launch`
with stages/configs/accelerate/ddp.yaml, NCCL_NVLS_ENABLE=0) with the same conversations and the same global
batch (the per-GPU batch is the preset's divided by the GPUs) and writes bench-multigpu.json and .md:
tokens/s, the scaling over 1 GPU and the validation loss. On the offline 1.5B preset, padding-free (varlen):

    python stages/bench_train.py --gpus 1 2 --variants varlen --steps 60 \
        --config stages/configs/train/qwen2.5-coder-1.5b_lora.yaml --out reports
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

from medtune.bench import VARIANTS, add_ratios, add_scaling, markdown, multigpu_markdown, parameter_count
from medtune.errors import StageError
from medtune.files import package_versions, write_json
from medtune.paths import artifacts_dir
from medtune.stage import logger, stage_main

log = logger("bench")

ACCELERATE_DDP = Path(__file__).parent / "configs" / "accelerate" / "ddp.yaml"


class BenchError(StageError):
    pass


def launcher(gpus: int, python: str = sys.executable, ddp_config: Path = ACCELERATE_DDP) -> list[str]:
    """How train.py is started: plainly, or by `accelerate launch` with one DDP process per GPU."""
    if gpus == 1:
        return [python]
    return [python, "-m", "accelerate.commands.launch", "--config_file", str(ddp_config),
            "--num_processes", str(gpus), "--main_process_ip", "127.0.0.1", "--main_process_port", "29500"]


def missing_gpus(wanted: list[int], available: int) -> str | None:
    """Why `--gpus` cannot run here, or None when the machine has enough CUDA GPUs."""
    if max(wanted) <= available:
        return None
    return (f"--gpus {' '.join(map(str, wanted))} needs {max(wanted)} CUDA GPUs and this machine has {available} "
            f"(torch.cuda.device_count()); nothing was run. Run it on a host with {max(wanted)} GPUs (on RunPod: "
            f"RUNPOD_GPU_COUNT={max(wanted)}, see the README's multi-GPU section)")


def per_gpu_batch(batch: int, gpus: int) -> int:
    """The per-process batch that keeps the global batch of one GPU on `gpus` GPUs."""
    if batch % gpus:
        raise BenchError(f"training.batch_size={batch} cannot be split evenly over {gpus} GPUs; set "
                         f"training.batch_size to a multiple of {gpus} (the global batch must stay the same)")
    return batch // gpus


def run_variant(name: str, config: Path, steps: int, extra: list[str], timeout: int, batch: int,
                gpus: int | None = None) -> dict:
    """One train.py run of variant `name`; batch: conversations per step and process (before accumulation).

    gpus=None: the single-GPU comparison of variants; gpus=N: the run on N GPUs of `--gpus`.
    """
    description, overrides = VARIANTS[name]
    overrides = [o.format(batch=batch, quarter=max(1, batch // 4)) for o in overrides]
    label = name if gpus is None else f"{name}-{gpus}gpu"
    run_name = f"bench-{label}"
    per_gpu = [f"training.batch_size={batch}"] if gpus else []
    args = ["--config", str(config), f"run_name={run_name}",
            "training.fresh=true",  # a bench run replaces the last one's checkpoints
            f"training.max_steps={steps}", "training.early_stopping_patience=null",
            f"training.eval_steps={steps}", f"training.eval_batch_size={batch}", "merge.enabled=false", *extra,
            *overrides, *per_gpu]
    cmd = [*launcher(gpus or 1), str(Path(__file__).with_name("train.py")), *args]
    shown = shlex.join([*launcher(gpus or 1, "python", ACCELERATE_DDP.relative_to(Path(__file__).parents[1])),
                        "stages/train.py", *args])
    log(f"{label}: {shown}")
    # NVLink multicast (NVLS) off: the multi-GPU machines this is run on require it (issue 17)
    env = {**os.environ, "NCCL_NVLS_ENABLE": "0"} if gpus else None
    started = time.time()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        out = lambda b: b.decode(errors="replace") if isinstance(b, bytes) else (b or "")  # noqa: E731
        proc = subprocess.CompletedProcess(cmd, -1, out(e.stdout), out(e.stderr) + f"\ntimed out after {timeout} s")
    row = {"variant": label, "name": name, "gpus": gpus or 1, "per_gpu_batch": batch, "description": description,
           "command": shown,
           "wall_time_s": round(time.time() - started, 1), "returncode": proc.returncode}
    log = artifacts_dir() / f"{run_name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + "\n" + proc.stderr, encoding="utf-8")
    summary = artifacts_dir() / run_name / "train_summary.json"
    if proc.returncode == 0 and summary.is_file():
        s = json.loads(summary.read_text())
        peak = s["peak_memory_bytes"]
        row.update(status="ok", steps=s["global_step"], tokens_seen=s["tokens_seen"],
                   tokens_per_s=s["throughput"]["step_tokens_per_s"], throughput=s["throughput"],
                   tokens_per_s_with_evals=s["tokens_per_s"], train_runtime_s=s["train_runtime_s"],
                   eval_loss_initial=s["eval_loss_initial"], eval_loss_final=s["eval_loss_final"],
                   device=s["device"], peak_gpu_allocated_gib=round(peak.get("gpu_max_allocated", 0) / 2**30, 3),
                   peak_gpu_reserved_gib=round(peak.get("gpu_max_reserved", 0) / 2**30, 3))
    else:
        tail = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line.strip()][-12:]
        row.update(status="failed", error="\n".join(tail))
    log(f"{label} -> {row['status']} {row.get('tokens_per_s', '')}")
    return row


def write(report: dict, out: Path) -> None:
    add_ratios(report)
    out.mkdir(parents=True, exist_ok=True)
    name = report.get("name", "bench-train")
    write_json(out / f"{name}.json", report)
    (out / f"{name}.md").write_text(markdown(report), encoding="utf-8")


def write_multigpu(report: dict, out: Path) -> None:
    add_scaling(report)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "bench-multigpu.json", report)
    (out / "bench-multigpu.md").write_text(multigpu_markdown(report), encoding="utf-8")


def combine(reports: list[Path], out: Path) -> int:
    """One report from several runs of this script (later files win per variant)."""
    merged, rows = None, {}
    for path in reports:
        report = json.loads(path.read_text(encoding="utf-8"))
        merged = merged or report
        for row in report["results"]:
            rows[row["variant"]] = {**row, "report_command": report["command"]}
    merged["command"] = " ; ".join(json.loads(p.read_text(encoding="utf-8"))["command"] for p in reports)
    merged["results"] = [rows[k] for k in VARIANTS if k in rows]
    write(merged, out)
    print(markdown(merged))
    return 0 if all(r["status"] == "ok" for r in merged["results"]) else 1


@stage_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("stages/configs/train/smollm2-135m_lora.yaml"))
    parser.add_argument("--variants", nargs="+", default=["plain", "default", "unsloth", "qlora", "liger", "padded-grouped"],
                        choices=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--train-samples", type=int, default=None,
                        help="conversations trained on (default: steps x effective batch, so one pass)")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--name", default="bench-train", help="report file names: NAME.json and NAME.md")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per variant")
    parser.add_argument("--combine", type=Path, nargs="+", metavar="REPORT.json",
                        help="merge earlier reports into --out, running nothing")
    parser.add_argument("--gpus", type=int, nargs="+", metavar="N",
                        help="run every variant on N GPUs (DDP), the same global batch: --gpus 1 2 writes "
                             "bench-multigpu.{json,md}")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="passed to every train.py run")
    args = parser.parse_args(argv)
    if args.combine:
        return combine(args.combine, args.out)
    if args.gpus and "plain" in args.variants:
        parser.error("--gpus compares GPU counts at the preset's batch; 'plain' changes the batch: pick other variants")
    if args.gpus and min(args.gpus) < 1:
        parser.error("--gpus: GPU counts are 1 or more")
    import torch

    if args.gpus and (problem := missing_gpus(args.gpus, torch.cuda.device_count())):
        raise BenchError(problem)

    from medtune.config import load_config
    from medtune.models import prepare
    from medtune.training import TrainConfig

    cfg = load_config(TrainConfig, args.config, args.overrides)
    effective_batch = cfg.training.batch_size * cfg.training.grad_accum
    train_samples = args.train_samples or args.steps * effective_batch
    overrides = [f"data.max_train_samples={train_samples}", *args.overrides]
    results: list[dict] = []
    report = {
        "name": args.name, "preset": cfg.model.preset, "config": str(args.config), "overrides": overrides, "steps": args.steps,
        "effective_batch": effective_batch, "train_samples": train_samples,
        "parameters": parameter_count(prepare(cfg.model.preset)),
        "command": " ".join(["python", "stages/bench_train.py", *(argv if argv is not None else sys.argv[1:])]),
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor() or "cpu",
        "gpus": args.gpus, "gpus_present": torch.cuda.device_count(),
        "versions": package_versions(("torch", "transformers", "trl", "peft", "datasets", "liger_kernel",
                                      "bitsandbytes", "unsloth", "unsloth_zoo", "accelerate")),
        "results": results,
    }
    batches = {gpus: per_gpu_batch(cfg.training.batch_size, gpus) for gpus in args.gpus or []}
    batches[None] = effective_batch
    runs = [(name, gpus) for name in args.variants for gpus in (args.gpus or [None])]
    for name, gpus in runs:  # the report is rewritten after each run, so a crash keeps the others
        results.append(run_variant(name, args.config, args.steps, overrides, args.timeout, batches[gpus], gpus))
        (write_multigpu if args.gpus else write)(report, args.out)
    print(multigpu_markdown(report) if args.gpus else markdown(report))
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
