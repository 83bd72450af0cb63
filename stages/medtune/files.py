"""File I/O shared by the stages: strict JSONL reading, atomic output folders and manifests."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

from .errors import StageError
from .stage import logger


class InputError(StageError):
    """Bad input data. The message names the file, line and field."""


def read_jsonl(path: Path, required: dict[str, type | tuple[type, ...]] | None = None,
               strict: bool = True, skipped: list[dict] | None = None) -> Iterator[dict]:
    """Yield one dict per line of a JSON Lines file, checking required fields and their types.

    With strict=False a bad row (malformed JSON, a missing or mistyped field, bytes that are not UTF-8)
    is skipped and recorded in `skipped` (file, line, reason) instead of raising, so the caller can
    count it. A missing or empty file always raises.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    required = required or {}
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                err = InputError(f"{path}:{lineno}: not valid UTF-8 ({e.reason} at byte {e.start})")
                if strict:
                    raise err from None
                if skipped is not None:
                    skipped.append({"file": str(path), "line": lineno, "reason": str(err)})
                continue
            if not text.strip():
                continue
            try:
                row = json.loads(text)
                if not isinstance(row, dict):
                    raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
                for field, types in required.items():
                    if field not in row:
                        raise InputError(f"{path}:{lineno}: field '{field}' is missing")
                    if not isinstance(row[field], types):
                        want = types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
                        raise InputError(f"{path}:{lineno}: field '{field}' should be {want}, "
                                         f"got {type(row[field]).__name__}")
            except json.JSONDecodeError as e:
                err = InputError(f"{path}:{lineno}: malformed JSON, column {e.colno}: {e.msg}")
                if strict:
                    raise err from None
                if skipped is not None:
                    skipped.append({"file": str(path), "line": lineno, "reason": str(err)})
                continue
            except InputError as err:
                if strict:
                    raise
                if skipped is not None:
                    skipped.append({"file": str(path), "line": lineno, "reason": str(err)})
                continue
            yield row


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


def write_json(path: Path, obj: Any) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_leftovers(final: Path) -> list[Path]:
    """Delete the temp and old folders beside `final` that a killed run of atomic_dir left (their pid is gone)."""
    pattern = re.compile(rf"\.{re.escape(final.name)}\.(?:tmp|old)-(\d+)(?:-.*)?")
    removed = []
    for path in final.parent.glob(f".{final.name}.*"):
        match = pattern.fullmatch(path.name)
        if match and path.is_dir() and not _pid_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
            logger("files")(f"removed {path}, left by an interrupted run")
    return removed


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Write a stage's outputs into a temp folder beside `final`, then swap it in.

    A crash leaves the previous outputs untouched, so make never sees a half-written stage; what a
    killed run leaves (named with its pid) is removed by the next one.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; outputs are meant to be shared
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def package_versions(names=("torch", "transformers", "datasets", "peft", "trl", "accelerate",
                            "bitsandbytes", "unsloth", "gguf", "datasketch")) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def make_manifest(stage: str, config: Any, inputs: dict[str, Path] | None = None,
                  started: float | None = None, **extra) -> dict:
    """The small record each stage leaves beside its outputs: what went in, with what, how long."""
    manifest = {
        "stage": stage,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "config": config.model_dump(mode="json") if hasattr(config, "model_dump") else config,
        "inputs": {k: {"path": str(v), "sha256": sha256_file(v)} for k, v in (inputs or {}).items()
                   if Path(v).is_file()},
        "versions": package_versions(),
    }
    if started is not None:
        manifest["wall_time_s"] = round(time.time() - started, 2)
    manifest.update(extra)
    return manifest
