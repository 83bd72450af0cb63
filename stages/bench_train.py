"""Benchmark the training backends on one preset: tokens/s, peak GPU memory, final validation loss.

    python stages/bench_train.py --config stages/configs/train/smollm2-135m_lora.yaml \
        --variants hf:lora hf:qlora unsloth:lora --steps 200 --out reports

Each variant runs `stages/train.py` in its own process (unsloth patches libraries on import) with the
same data, steps and seed, and its train_summary.json is collected. A variant that cannot run is kept
in the report with the reason (the last lines of its error output). Writes train-backends.json and
train-backends.md into --out.
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


def run_variant(config: Path, backend: str, method: str, steps: int, extra: list[str], timeout: int) -> dict:
    run_name = f"bench-{backend}-{method}"
    cmd = [sys.executable, str(Path(__file__).with_name("train.py")), "--config", str(config),
           f"run_name={run_name}", f"training.backend={backend}", f"training.method={method}",
           f"training.max_steps={steps}", "training.early_stopping_patience=null", *extra]
    print("[bench] " + " ".join(cmd[1:]), flush=True)
    started = time.time()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = lambda b: b.decode(errors="replace") if isinstance(b, bytes) else (b or "")  # noqa: E731
        proc = subprocess.CompletedProcess(cmd, -1, out(e.stdout), out(e.stderr) + f"\ntimed out after {timeout} s")
    row = {"backend": backend, "method": method, "command": " ".join(["python", "stages/train.py", *cmd[2:]]),
           "wall_time_s": round(time.time() - started, 1), "returncode": proc.returncode}
    log = artifacts_dir() / f"{run_name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + "\n" + proc.stderr, encoding="utf-8")
    summary = artifacts_dir() / run_name / "train_summary.json"
    if proc.returncode == 0 and summary.is_file():
        s = json.loads(summary.read_text())
        peak = s["peak_memory_bytes"]
        row.update(status="ok", steps=s["global_step"], tokens_seen=s["tokens_seen"], tokens_per_s=s["tokens_per_s"],
                   train_runtime_s=s["train_runtime_s"], eval_loss_initial=s["eval_loss_initial"],
                   eval_loss_final=s["eval_loss_final"], device=s["device"],
                   peak_gpu_allocated_gib=round(peak.get("gpu_max_allocated", 0) / 2**30, 3),
                   peak_gpu_reserved_gib=round(peak.get("gpu_max_reserved", 0) / 2**30, 3))
    else:
        tail = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line.strip()][-12:]
        row.update(status="failed", error="\n".join(tail))
    print(f"[bench] {backend}:{method} -> {row['status']}", flush=True)
    return row


def markdown(report: dict) -> str:
    lines = [f"# Training backends on {report['preset']} ({report['device']})", "",
             f"Produced by `{report['command']}`; {report['steps']} steps each, same data, config and seed.", "",
             "| backend | method | status | steps | tokens/s | peak GPU alloc (GiB) | peak GPU reserved (GiB) "
             "| val loss before | val loss after | train time (s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        if r["status"] == "ok":
            lines.append(f"| {r['backend']} | {r['method']} | ok | {r['steps']} | {r['tokens_per_s']:.0f} | "
                         f"{r['peak_gpu_allocated_gib']:.2f} | {r['peak_gpu_reserved_gib']:.2f} | "
                         f"{r['eval_loss_initial']:.4f} | {r['eval_loss_final']:.4f} | {r['train_runtime_s']:.1f} |")
        else:
            lines.append(f"| {r['backend']} | {r['method']} | failed | | | | | | | |")
    for r in report["results"]:
        if r["status"] != "ok":
            lines += ["", f"## {r['backend']}:{r['method']} failed", "", "```", r["error"], "```"]
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()), ""]
    return "\n".join(lines)


def combine(reports: list[Path], out: Path) -> int:
    """One report from several runs of this script (e.g. a variant re-run with a longer --timeout)."""
    merged, rows = None, {}
    for path in reports:
        report = json.loads(path.read_text(encoding="utf-8"))
        merged = merged or report
        for row in report["results"]:
            rows[(row["backend"], row["method"])] = {**row, "report_command": report["command"]}
    merged["command"] = " ; ".join(json.loads(p.read_text(encoding="utf-8"))["command"] for p in reports)
    merged["results"] = [rows[k] for k in sorted(rows, key=lambda k: (k[0] != "hf", k))]
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "train-backends.json", merged)
    (out / "train-backends.md").write_text(markdown(merged), encoding="utf-8")
    print(markdown(merged))
    return 0 if all(r["status"] == "ok" for r in merged["results"]) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("stages/configs/train/smollm2-135m_lora.yaml"))
    parser.add_argument("--variants", nargs="+", default=["hf:lora", "hf:qlora", "unsloth:lora"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per variant")
    parser.add_argument("--combine", type=Path, nargs="+", metavar="REPORT.json",
                        help="merge earlier reports (later files win per variant) into --out, running nothing")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="passed to every train.py run")
    args = parser.parse_args(argv)
    if args.combine:
        return combine(args.combine, args.out)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from medtune.config import load_config
    from medtune.training import TrainConfig

    cfg = load_config(TrainConfig, args.config, args.overrides)
    results: list[dict] = []
    report = {
        "preset": cfg.model.preset, "config": str(args.config), "overrides": args.overrides, "steps": args.steps,
        "command": " ".join(["python", "stages/bench_train.py", *(argv if argv is not None else sys.argv[1:])]),
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else platform.processor() or "cpu",
        "versions": package_versions(("torch", "transformers", "trl", "peft", "datasets", "bitsandbytes",
                                      "unsloth", "unsloth_zoo", "accelerate")),
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:  # the report is rewritten after each variant, so a crash keeps the others
        results.append(run_variant(args.config, *variant.split(":"), args.steps, args.overrides, args.timeout))
        write_json(args.out / "train-backends.json", report)
        (args.out / "train-backends.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
