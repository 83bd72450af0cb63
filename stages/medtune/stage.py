"""What every stage script (stages/*.py) shares: how it fails and how it reports progress.

A stage script reads top to bottom: its docstring says how to run it; `main(argv)`, decorated with
`stage_main`, loads the config, checks the inputs, loads the model, does the work and writes the outputs;
the helpers it calls live in this package. Importing this module makes the Hugging Face hub offline
unless HF_HUB_OFFLINE is set (medtune.config imports it too, so every stage gets it before anything
imports huggingface_hub, which reads the variable once).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

from .errors import StageError

# Every model and data set a stage uses is local (the Makefile and .env say the same); push_hub.py turns
# this off for its upload. Not in medtune/__init__.py: runpod/launch.py imports the package and must keep
# its own default for the pod.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def logger(stage: str) -> Callable[[str], None]:
    """A progress printer: `[stage] message` on stdout, flushed so `make` and log files show it as it happens."""
    def log(message: str) -> None:
        print(f"[{stage}] {message}", flush=True)

    return log


def print_error(error: Exception) -> None:
    print(f"error: {error}", file=sys.stderr)


def stage_main(main: Callable[..., int]) -> Callable[..., int]:
    """Decorate a stage's `main(argv)`: a StageError ends it with `error: <message>` on stderr and its exit code."""
    @functools.wraps(main)
    def run(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except StageError as e:
            print_error(e)
            return e.exit_code

    return run
