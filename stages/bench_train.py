"""Training throughput benchmark: a plain baseline vs the project's default path vs unsloth vs QLoRA.

    python stages/bench_train.py --config stages/configs/train/smollm2-135m_lora.yaml --steps 60 \
        --variants plain default unsloth qlora liger padded-grouped --out reports

Every variant trains the same preset on the same conversations (a seeded subset of the training split)
for the same number of optimizer steps at the same effective batch (conversations per step), learning
rate and seed, so the validation losses are comparable. What differs is how each step is computed
(VARIANTS below). Each variant runs `stages/train.py` in its own process (unsloth patches libraries on
import); tokens/s counts real (non-padding) tokens over the optimizer steps alone: warm-up steps,
evaluations and checkpoint writes are left out (medtune.training._Throughput). MFU = 6 * N * tokens/s
over the GPU's dense bf16 peak, N = the base model's parameters (LoRA's backward skips the frozen weight
gradients, so this over-counts the work done: the usual convention, comparable across variants).
A variant that cannot run stays in the report with the reason. Writes bench-train.json and .md to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
}
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


def run_variant(name: str, config: Path, steps: int, extra: list[str], timeout: int, batch: int) -> dict:
    description, overrides = VARIANTS[name]
    overrides = [o.format(batch=batch, quarter=max(1, batch // 4)) for o in overrides]
    run_name = f"bench-{name}"
    cmd = [sys.executable, str(Path(__file__).with_name("train.py")), "--config", str(config),
           f"run_name={run_name}", "training.fresh=true",  # a bench run replaces the last one's checkpoints
           f"training.max_steps={steps}", "training.early_stopping_patience=null",
           f"training.eval_steps={steps}", f"training.eval_batch_size={batch}", "merge.enabled=false", *extra, *overrides]
    print(f"[bench] {name}: " + " ".join(cmd[2:]), flush=True)
    started = time.time()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = lambda b: b.decode(errors="replace") if isinstance(b, bytes) else (b or "")  # noqa: E731
        proc = subprocess.CompletedProcess(cmd, -1, out(e.stdout), out(e.stderr) + f"\ntimed out after {timeout} s")
    row = {"variant": name, "description": description,
           "command": " ".join(["python", "stages/train.py", *cmd[2:]]),
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
    print(f"[bench] {name} -> {row['status']} {row.get('tokens_per_s', '')}", flush=True)
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
    for r in report["results"]:
        if r["status"] != "ok":
            lines += ["", f"## {r['variant']} failed", "", "```", r["error"], "```"]
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()), ""]
    return "\n".join(lines)


def write(report: dict, out: Path) -> None:
    add_ratios(report)
    out.mkdir(parents=True, exist_ok=True)
    name = report.get("name", "bench-train")
    write_json(out / f"{name}.json", report)
    (out / f"{name}.md").write_text(markdown(report), encoding="utf-8")


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
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="passed to every train.py run")
    args = parser.parse_args(argv)
    if args.combine:
        return combine(args.combine, args.out)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

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
        "versions": package_versions(("torch", "transformers", "trl", "peft", "datasets", "liger_kernel",
                                      "bitsandbytes", "unsloth", "unsloth_zoo", "accelerate")),
        "results": results,
    }
    for name in args.variants:  # the report is rewritten after each variant, so a crash keeps the others
        results.append(run_variant(name, args.config, args.steps, overrides, args.timeout, effective_batch))
        write(report, args.out)
    print(markdown(report))
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
