"""Training throughput benchmark: a plain baseline vs the project's default path vs unsloth vs QLoRA.

    python stages/bench_train.py --config stages/configs/train/smollm2-135m_lora.yaml --steps 60 \
        --variants plain default unsloth qlora liger padded-grouped --out reports

Every variant trains the same preset on the same conversations (a seeded subset of the training split)
for the same number of optimizer steps at the same effective batch (conversations per step), learning
rate and seed, so the validation losses are comparable. What differs is how each step is computed
(VARIANTS below). Each variant runs `stages/train.py` in its own process (unsloth patches libraries on
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

from medtune.files import package_versions, write_json
from medtune.paths import artifacts_dir

# name -> (what it is, overrides on top of the preset file). "default" is the preset file itself: the
# path `make train` takes. The others change only what their description says.
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "plain": ("plain baseline: a quarter of the batch x 4 accumulation steps, padded batches in random order, SDPA "
              "with PyTorch's default kernels, no Liger, peft's fp32 adapter inputs, the stock trainer loop (a typical notebook)",
              ["training.batch_size={quarter}", "training.grad_accum=4", "training.group_by_length=false",
               "training.padding_free=false", "model.attn_implementation=sdpa", "training.liger=false",
               "training.torch_compile=false", "lora.upcast_inputs=true", "training.lean_trainer=false"]),
    "default": ("the project's default path (the preset file as `make train` runs it)", []),
    "liger": ("default path + Liger's Triton RMSNorm/SwiGLU/RoPE kernels", ["training.liger=true"]),
    "padded-grouped": ("the previous default: padded batches of similar length (so other batches than plain's), "
                       "SDPA, Liger", ["training.padding_free=false", "training.group_by_length=true",
                                       "model.attn_implementation=sdpa"]),
    "compile": ("default path + torch.compile of each decoder layer (the first 10 steps, which compile, are "
                "not timed)", ["training.torch_compile=true", "training.throughput_skip_steps=10"]),
    "unsloth": ("unsloth backend (its own kernels instead of Liger), padded batches of similar length",
                ["training.backend=unsloth", "training.liger=false", "training.padding_free=false",
                 "training.group_by_length=true", "model.attn_implementation=sdpa"]),
    "qlora": ("default path on a 4-bit NF4 base (bitsandbytes)", ["training.method=qlora"]),
    "small-batches": ("default path in micro-batches of a quarter of the batch x 4 accumulation steps (the same "
                      "batches as plain: what a 24 GB card runs, see the *_24gb presets)",
                      ["training.batch_size={quarter}", "training.grad_accum=4"]),
    "varlen": ("default path with padding-free batches and the varlen Flash Attention kernel (what the GPU preset "
               "of the embedded model sets; the same batches for any number of GPUs)",
               ["training.padding_free=true", "model.attn_implementation=varlen"]),
}
ACCELERATE_DDP = Path(__file__).parent / "configs" / "accelerate" / "ddp.yaml"
# What the 2-GPU run is measured against (issue 17): tokens/s scaling at an equal validation loss.
SCALING_TARGET, LOSS_GAP_TARGET = 1.8, 0.01
# Dense bf16 peak of the GPUs this is likely run on (vendor figures, no sparsity).
PEAK_BF16_FLOPS = {"H100 PCIe": 756e12, "H100": 989.4e12, "H200": 989.4e12, "A100": 312e12, "L40S": 362e12,
                   "A10": 125e12, "L4": 121e12, "RTX 4090": 165e12, "RTX 3090": 71e12}


def peak_flops(device: str) -> float | None:
    for name, flops in PEAK_BF16_FLOPS.items():  # the more specific names come first
        if name in device:
            return flops
    return None


def parameter_count(model_dir: str) -> int:
    """Parameters of the unquantized base checkpoint, read from the safetensors headers."""
    from safetensors import safe_open

    total = 0
    for path in sorted(Path(model_dir).glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():
                n = 1
                for dim in f.get_slice(key).get_shape():
                    n *= dim
                total += n
    return total


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
        raise SystemExit(f"error: training.batch_size={batch} cannot be split evenly over {gpus} GPUs; set "
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
    print(f"[bench] {label}: {shown}", flush=True)
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
    print(f"[bench] {label} -> {row['status']} {row.get('tokens_per_s', '')}", flush=True)
    return row


def add_ratios(report: dict) -> None:
    """Speed-up over the plain baseline, MFU, and the validation-loss gap to the baseline."""
    rows = {r["variant"]: r for r in report["results"] if r["status"] == "ok"}
    plain = rows.get("plain")
    peak = peak_flops(report["device"])
    for r in rows.values():
        r["mfu"] = round(6 * report["parameters"] * r["tokens_per_s"] / peak, 4) if peak and r["tokens_per_s"] else None
        if plain and plain["tokens_per_s"] and r["tokens_per_s"]:
            r["speedup_vs_plain"] = round(r["tokens_per_s"] / plain["tokens_per_s"], 2)
            r["val_loss_vs_plain"] = round(r["eval_loss_final"] / plain["eval_loss_final"] - 1, 4)


def markdown(report: dict) -> str:
    lines = [f"# Training throughput on {report['preset']} ({report['device']})", "",
             f"Produced by `{report['command']}`.", "",
             f"Every variant: the same {report['train_samples']} training conversations, {report['steps']} "
             f"optimizer steps of {report['effective_batch']} conversations, the same learning rate and seed. "
             "tokens/s counts real (non-padding) tokens over the optimizer steps alone (warm-up, evaluations "
             f"and checkpoints left out); MFU = 6 x {report['parameters'] / 1e6:.1f}M parameters x tokens/s / "
             f"{(peak_flops(report['device']) or float('nan')) / 1e12:.0f} TFLOP/s dense bf16. The validation "
             "loss is measured on the same held-out conversations with the same batches for every variant.", "",
             "| variant | status | tokens/s | speed-up vs plain | MFU | peak GPU alloc (GiB) | val loss before "
             "| val loss after | vs plain | measured steps |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        if r["status"] == "ok":
            mfu = f"{100 * r['mfu']:.1f}%" if r.get("mfu") is not None else ""
            lines.append(f"| {r['variant']} | ok | {r['tokens_per_s']:,.0f} | {r.get('speedup_vs_plain', '')}x | "
                         f"{mfu} | {r['peak_gpu_allocated_gib']:.2f} | {r['eval_loss_initial']:.4f} | "
                         f"{r['eval_loss_final']:.4f} | {100 * r.get('val_loss_vs_plain', 0):+.2f}% | "
                         f"{r['throughput']['measured_steps']} |")
        else:
            lines.append(f"| {r['variant']} | failed | | | | | | | | |")
    lines += ["", "Variants:", ""]
    lines += [f"- **{r['variant']}**: {r['description']}" for r in report["results"]]
    return "\n".join(lines + failures_and_versions(report))


def failures_and_versions(report: dict) -> list[str]:
    """The end of every bench report: each failed run's error, then the library versions."""
    lines = []
    for r in report["results"]:
        if r["status"] != "ok":
            lines += ["", f"## {r['variant']} failed", "", "```", r["error"], "```"]
    return lines + ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()), ""]


def write(report: dict, out: Path) -> None:
    add_ratios(report)
    out.mkdir(parents=True, exist_ok=True)
    name = report.get("name", "bench-train")
    write_json(out / f"{name}.json", report)
    (out / f"{name}.md").write_text(markdown(report), encoding="utf-8")


def add_scaling(report: dict) -> None:
    """Each run's tokens/s over the same variant's on 1 GPU, its validation-loss gap to it, and the target."""
    rows = [r for r in report["results"] if r["status"] == "ok"]
    one_gpu = {r["name"]: r for r in rows if r["gpus"] == 1}
    for r in rows:
        one = one_gpu.get(r["name"])
        if not (one and one["tokens_per_s"] and r["tokens_per_s"]):
            continue
        r["scaling_vs_1gpu"] = round(r["tokens_per_s"] / one["tokens_per_s"], 2)
        r["val_loss_vs_1gpu"] = round(r["eval_loss_final"] / one["eval_loss_final"] - 1, 4)
        if r["gpus"] > 1:
            r["meets_target"] = (r["scaling_vs_1gpu"] >= SCALING_TARGET / 2 * r["gpus"]
                                 and abs(r["val_loss_vs_1gpu"]) <= LOSS_GAP_TARGET)


def multigpu_markdown(report: dict) -> str:
    lines = [f"# Training on several GPUs: {report['preset']} ({report['device']})", "",
             f"Produced by `{report['command']}`.", "",
             f"Every run: the same {report['train_samples']} training conversations, {report['steps']} optimizer "
             f"steps of {report['effective_batch']} conversations (the global batch; per GPU: divided by the GPUs), "
             "the same learning rate and seed. Several GPUs: DDP through `accelerate launch` "
             "(stages/configs/accelerate/ddp.yaml), NCCL_NVLS_ENABLE=0. tokens/s counts the real tokens of all "
             "GPUs over the optimizer steps alone. Target: a scaling of at least "
             f"{SCALING_TARGET / 2:.1f} x the GPUs ({SCALING_TARGET}x on 2) at a validation loss within "
             f"{100 * LOSS_GAP_TARGET:.0f}% of 1 GPU's.", "",
             "| variant | GPUs | status | per-GPU batch | tokens/s | scaling vs 1 GPU | val loss before | val loss after "
             "| vs 1 GPU | target met |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        if r["status"] == "ok":
            scaling = f"{r['scaling_vs_1gpu']}x" if "scaling_vs_1gpu" in r else ""
            gap = f"{100 * r['val_loss_vs_1gpu']:+.2f}%" if "val_loss_vs_1gpu" in r else ""
            target = {True: "yes", False: "no"}.get(r.get("meets_target"), "")
            lines.append(f"| {r['name']} | {r['gpus']} | ok | {r['per_gpu_batch']} | {r['tokens_per_s']:,.0f} | "
                         f"{scaling} | {r['eval_loss_initial']:.4f} | {r['eval_loss_final']:.4f} | {gap} | {target} |")
        else:
            lines.append(f"| {r['name']} | {r['gpus']} | failed | {r['per_gpu_batch']} | | | | | | |")
    lines += ["", "Variants:", ""]
    lines += [f"- **{name}**: {VARIANTS[name][0]}" for name in dict.fromkeys(r["name"] for r in report["results"])]
    return "\n".join(lines + failures_and_versions(report))


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
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    if args.gpus and (problem := missing_gpus(args.gpus, torch.cuda.device_count())):
        print(f"error: {problem}", file=sys.stderr)
        return 2

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
