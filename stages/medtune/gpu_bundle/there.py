"""There, on the GPU machine: parts kept as they arrive (`receive`), verified, joined and unpacked under the
remote root (`unpack`), any command run with the bundle's environment (`exec`), and results sent back in
chunks that fit what one call returns (`send`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from ..errors import StageError
from . import layout
from .layout import EMBEDDING_PACKAGE, log, remote_root

IMPORT_CHECK = ("trl", "datasets", "pydantic", "gguf", "rouge_score", "bitsandbytes", "peft", "transformers", "ftfy",
                "sentence_transformers", "medtune.training", "medtune.training.prefer", "medtune.evaluation.metrics",
                "medtune.data.distill")
CHUNK_BYTES = 15 * 2**20      # files back: at most 16 MiB each, 64 MiB a call


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def environment() -> dict[str, str]:
    """The stages' environment there: the bundle's packages, cache, shared data and embedding model, offline."""
    root = remote_root()
    return {**os.environ, "PYTHONPATH": f"{root / 'site'}:{layout.REPO / 'stages'}", "HF_HUB_OFFLINE": "1",
            "MEDTUNE_CACHE_DIR": str(root / "cache"), "MEDTUNE_SHARED_DATA": str(root / "shared" / "data"),
            "MEDTUNE_EMBEDDING_MODEL": str(root / "site" / EMBEDDING_PACKAGE / "model"),
            "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}


def receive(args) -> int:
    parts = remote_root() / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    for name in args.parts:
        shutil.move(name, parts / Path(name).name)
        log(f"received {Path(name).name}")
    return 0


def unpack(args) -> int:
    root, repo = remote_root(), layout.REPO
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
    (repo / "data").mkdir(exist_ok=True)
    shutil.rmtree(repo / "data" / "processed", ignore_errors=True)
    shutil.move(str(root / "data" / "processed"), repo / "data" / "processed")
    for path in manifest.get("carried", []):  # back to where they were in the checkout that built the bundle
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(repo / path, ignore_errors=True)
        shutil.move(str(root / "repo" / path), repo / path)
    check = "; ".join(f"import {m}" for m in IMPORT_CHECK)
    subprocess.run([sys.executable, "-c", check], env=environment(), check=True)
    log(f"unpacked into {root}; imports ok: {', '.join(IMPORT_CHECK)}")
    return 0


def run_any(args) -> int:
    return subprocess.run(args.command, cwd=layout.REPO, env=environment()).returncode


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
            for path in sorted(args.paths, key=lambda p: tree_bytes(layout.REPO / p)):
                tar.add(layout.REPO / path, arcname=path)
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
