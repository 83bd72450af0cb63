"""Where things live. Every path can be moved with an environment variable (see .env.example)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def shared_data_dir() -> Path:
    """The offline medical datasets (read-only). Default: ../shared/data beside the repository."""
    return _env_path("MEDTUNE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")


def data_dir() -> Path:
    return _env_path("MEDTUNE_DATA_DIR", REPO_ROOT / "data")


def artifacts_dir() -> Path:
    return _env_path("MEDTUNE_ARTIFACTS_DIR", REPO_ROOT / "artifacts")


def cache_dir() -> Path:
    """Slow-to-make things kept outside the repository: dequantized models, llama.cpp builds."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "medtune"
    return _env_path("MEDTUNE_CACHE_DIR", default)


def configs_dir() -> Path:
    return REPO_ROOT / "stages" / "configs"


def repo_path(path: str | Path) -> Path:
    """A path from a config or the command line: absolute as given, otherwise relative to the repository."""
    return Path(path) if Path(path).is_absolute() else REPO_ROOT / path
