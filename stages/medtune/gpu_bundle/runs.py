"""There, on the GPU machine: a stage run as `make` would run it (`stage`), or one recipe experiment's whole
chain (`experiment`): train, evaluate, report, record, and the results sent back."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from . import layout
from .layout import STAGES, log, remote_root
from .there import environment, send


def train_settings(train_config: Path):
    # not at the top: pydantic comes with the bundle (stage and experiment put its site/ on sys.path first)
    from ..config import load_config
    from ..training import TrainConfig

    return load_config(TrainConfig, train_config)


def stage_command(name: str, train_config: Path, profile: str, extra: list[str], run: str | None = None) -> list[str]:
    """The stage's command line, with the arguments the Makefile's rule of the same name gives it (`run`: another
    run name than the config's, for train, eval and report)."""
    cfg = train_settings(train_config)
    preset, run = cfg.model.preset, run or cfg.run_name
    eval_config = f"stages/configs/eval_{profile}.yaml"
    baseline, tuned = f"artifacts/baseline-{preset}/eval/{profile}", f"artifacts/{run}/eval/{profile}"
    commands = {
        "baseline": ["evaluate.py", "--config", eval_config, f"model={preset}", f"label=base-{preset}", f"out={baseline}"],
        "train": ["train.py", "--config", str(train_config), *([f"run_name={run}"] if run != cfg.run_name else [])],
        "eval": ["evaluate.py", "--config", eval_config, f"model=artifacts/{run}/merged", f"preset={preset}",
                 f"label={run}", f"out={tuned}"],
        "report": ["report.py", f"base={baseline}", f"tuned={tuned}", f"out=artifacts/{run}/report"],
        "bench": ["bench_train.py", "--config", str(train_config)],
        "distill": ["distill.py", f"model={preset}"],
        "prefer": ["prefer.py", "--config", f"stages/configs/prefer/{preset}.yaml"],
    }
    script, *rest = commands[name]
    return [sys.executable, f"stages/{script}", *rest, *extra]


def stage(args) -> int:
    sys.path.insert(0, str(remote_root() / "site"))  # the configs are read with the bundle's pydantic
    command = stage_command(args.name, args.train_config, args.profile, args.extra, args.run)
    log(" ".join(command))
    return subprocess.run(command, cwd=layout.REPO, env=environment()).returncode


def experiment(args) -> int:
    """One recipe experiment in one call: train as run NAME, evaluate it (and the base, once per profile), report,
    record it in reports/recipe-experiments/NAME.json, and send the small results first (record, report, metrics,
    logs, then the adapter). Each step's output goes to artifacts/NAME/experiment.log; a failed step stops the chain
    but what exists is still sent."""
    sys.path.insert(0, str(remote_root() / "site"))
    repo = layout.REPO
    preset = train_settings(args.train_config).model.preset
    run = repo / "artifacts" / args.name
    run.mkdir(parents=True, exist_ok=True)
    baseline = f"artifacts/baseline-{preset}/eval/{args.profile}"
    data = next((a.split("=", 1)[1] for a in args.train_args if a.startswith("data.dir=")), "data/processed")
    steps = [("train", stage_command("train", args.train_config, args.profile, args.train_args, args.name))]
    if not (repo / baseline / "metrics.json").is_file():
        steps.append(("baseline", stage_command("baseline", args.train_config, args.profile, [])))
    steps += [(name, stage_command(name, args.train_config, args.profile, [], args.name)) for name in ("eval", "report")]
    steps.append(("record", [sys.executable, str(STAGES / "recipe_experiments.py"), "record", args.name, "--run",
                             f"artifacts/{args.name}", "--data", data, "--note", args.note]))
    rc = 0
    with open(run / "experiment.log", "a") as out:
        for name, command in steps:
            started = time.time()
            out.write(f"$ {' '.join(command)}\n")
            out.flush()
            rc = subprocess.run(command, cwd=repo, env=environment(), stdout=out, stderr=subprocess.STDOUT).returncode
            log(f"{name}: exit {rc} in {time.time() - started:.0f} s")
            if rc:
                log(f"{name} failed: see artifacts/{args.name}/experiment.log")
                break
    paths = [p for p in (f"reports/recipe-experiments/{args.name}.json", f"artifacts/{args.name}/experiment.log",
                         f"artifacts/{args.name}/train_summary.json", f"artifacts/{args.name}/manifest.json",
                         f"artifacts/{args.name}/report", f"artifacts/{args.name}/eval", baseline,
                         f"artifacts/{args.name}/adapter") if (repo / p).exists()]
    send(argparse.Namespace(paths=paths, name=args.name, to=args.to, max_files=args.max_files))
    return rc
