"""Here, in the full checkout: the bundle in parts that fit one transfer (`build`), and the chunks that came
back joined and unpacked into the checkout (`assemble`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from ..device_wheels import ALL_WHEELS, download_wheels, unpack_wheels
from ..errors import StageError
from ..paths import REPO_ROOT
from . import layout
from .layout import EMBEDDING_PACKAGE, log

SHARED_SETS = ("medqa_usmle", "medmcqa", "pubmedqa", "mmlu_medical", "medsafetybench", "liveqa")
TRANSFER_BYTES = 64 * 2**20   # what one call to the GPU machine carries: the checkout and one part
MARGIN_BYTES = 4_000_000      # the manifest and files the checkout gains between the build and the last transfer


def part_bytes(repo: Path) -> int:
    """What one transfer has left for a part after the checkout that travels with it (tracked files and untracked
    ones git does not ignore)."""
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    checkout = sum((repo / name).stat().st_size for name in listed if name and (repo / name).is_file())
    if checkout + MARGIN_BYTES >= TRANSFER_BYTES // 2:
        raise StageError(f"the checkout that travels with each part is {checkout / 1e6:.0f} MB: too little of a "
                         f"{TRANSFER_BYTES / 1e6:.0f} MB transfer is left for the bundle; ignore large untracked files")
    return TRANSFER_BYTES - checkout - MARGIN_BYTES


def build(args) -> int:
    # not at the top: the GPU machine imports this module with its bare python3
    from ..models import get_preset, gguf_path, joined_gguf
    from ..paths import data_dir, shared_data_dir

    out = layout.REPO / ".device"
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
        source = layout.REPO / path
        if not source.exists():
            raise StageError(f"--carry {path}: no such file or folder in the checkout")
        (stage / "repo" / path).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, stage / "repo" / path)
    parts = pack_parts(stage, out, part_bytes(REPO_ROOT))
    shutil.rmtree(stage)
    manifest = {"parts": parts, "presets": args.presets, "python": args.python, "wheels": list(ALL_WHEELS),
                "carried": args.carry}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    log(f"{len(parts)} parts in {out} ({sum(p['bytes'] for p in parts) / 1e6:.0f} MB); send each with "
        f"`receive`, then `unpack .device/manifest.json`")
    return 0


def pack_parts(stage: Path, out: Path, size: int) -> list[dict]:
    """One gzip stream of `stage` (level 1: the GGUF hardly compresses), cut into out/part-NN of `size` bytes;
    each part's name, size and SHA-256 for the manifest."""
    log(f"packing into parts of {size / 1e6:.1f} MB ...")
    tar = subprocess.Popen(["tar", "-C", str(stage), "-cf", "-", "."], stdout=subprocess.PIPE)
    gz = subprocess.Popen(["gzip", "-1"], stdin=tar.stdout, stdout=subprocess.PIPE)
    parts, index = [], 0
    while block := gz.stdout.read(size):
        part = out / f"part-{index:02d}"
        while len(block) < size and (more := gz.stdout.read(size - len(block))):
            block += more
        part.write_bytes(block)
        parts.append({"name": part.name, "bytes": len(block), "sha256": hashlib.sha256(block).hexdigest()})
        index += 1
    if tar.wait() or gz.wait():
        raise StageError("packing the bundle failed")
    return parts


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
        joined = layout.REPO / ".device" / name
        joined.parent.mkdir(parents=True, exist_ok=True)
        with open(joined, "wb") as out:
            for p in paths:
                out.write(p.read_bytes())
        with tarfile.open(joined) as tar:
            tar.extractall(layout.REPO, filter="data")
            log(f"{name}: {len(tar.getnames())} files unpacked into the checkout")
    return 0
