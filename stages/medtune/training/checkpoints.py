"""The checkpoints in artifacts/<run>.work: resume from the last complete one, refuse to delete them unasked."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..labels import TrainError
from ..stage import logger
from .config import TrainingSection

log = logger("train")


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _checkpoints(folder: Path) -> list[Path]:
    """checkpoint-<step> folders, oldest step first."""
    return sorted((p for p in folder.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                  key=lambda p: int(p.name.split("-")[-1]))


def _trainer_state(checkpoint: Path) -> dict | None:
    """The checkpoint's trainer_state.json, which the trainer writes last: None when it is missing or torn."""
    try:
        return json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return None


def start_or_resume(t: TrainingSection, work: Path) -> str | None:
    """What happens to the checkpoints in artifacts/<run>.work: the one to resume from, or None (a fresh start).

    Never deletes checkpoints unless asked (training.fresh); an incomplete last checkpoint (killed while it
    was written) is moved to <work>/torn/ and the run resumes from the one before it.
    """
    checkpoints = _checkpoints(work / "checkpoints")
    if t.resume and t.fresh:
        raise TrainError("training.resume and training.fresh exclude each other (RESUME=1 continues the "
                         "checkpoints, FRESH=1 deletes them)")
    if t.resume:
        while checkpoints and _trainer_state(checkpoints[-1]) is None:
            torn = checkpoints.pop()
            if is_main_process():
                moved = work / "torn" / torn.name
                shutil.rmtree(moved, ignore_errors=True)
                moved.parent.mkdir(parents=True, exist_ok=True)
                torn.rename(moved)
                log(f"notice: {torn.name} is incomplete (no readable trainer_state.json; interrupted "
                    f"while it was saved): moved to {moved}, resuming from the checkpoint before it")
        if not checkpoints:
            raise TrainError(f"nothing to resume: no complete checkpoint in {work / 'checkpoints'}; "
                             "run without RESUME=1")
        log(f"resuming from {checkpoints[-1]}")
        return str(checkpoints[-1])
    if checkpoints and not t.fresh:
        state = _trainer_state(checkpoints[-1]) or {}
        step, total = state.get("global_step", "?"), state.get("max_steps", "?")
        finished = " (a finished run: starting over also replaces its outputs)" if step == total else ""
        raise TrainError(f"{work} holds {len(checkpoints)} checkpoint(s) of an earlier run, the last at step "
                         f"{step} of {total}{finished}; starting over would delete them. Continue that run with "
                         "`make train RESUME=1` (training.resume=true), or delete them with `make train FRESH=1` "
                         "(training.fresh=true)")
    if work.exists() and is_main_process():
        if checkpoints:
            log(f"training.fresh: deleting {len(checkpoints)} checkpoint(s) in {work}")
        shutil.rmtree(work)
    return None


