"""`make clean` and `make clean-runs`: delete what can be made again, and trained runs only when told to.

    make clean                 # data/processed, artifacts/baseline-* and artifacts/base-*: all remade from
                               # the shared data and the base model; trained runs are kept and listed
    make clean-runs FORCE=1    # also every trained run (adapter, merged model, GGUF, checkpoints)
    make clean-runs            # asks first in a terminal; elsewhere stops and says to set FORCE=1

Standard library only: it runs before `make setup` too.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from medtune.errors import StageError  # noqa: E402
from medtune.paths import artifacts_dir, data_dir  # noqa: E402
from medtune.stage import stage_main  # noqa: E402

REMADE_FROM_BASE = ("baseline-*", "base-*")  # evaluations and exports of the untrained base model


def regenerable() -> list[Path]:
    artifacts = artifacts_dir()
    folders = [data_dir() / "processed"] + [p for pattern in REMADE_FROM_BASE for p in artifacts.glob(pattern)]
    return sorted(p for p in folders if p.is_dir())


def trained_runs() -> list[Path]:
    """Every other folder under artifacts/: runs, their .work checkpoints, anything brought back from a GPU."""
    keep = set(regenerable())
    return sorted(p for p in artifacts_dir().glob("*") if p.is_dir() and p not in keep)


def confirmed(runs: list[Path]) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(f"Delete {len(runs)} trained run folder(s) listed above? Type 'yes': ")
    return answer.strip().lower() == "yes"


@stage_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", action="store_true", help="delete the trained runs as well")
    parser.add_argument("--force", action="store_true", help="with --runs: do not ask (make clean-runs FORCE=1)")
    args = parser.parse_args(argv)
    for folder in regenerable():
        shutil.rmtree(folder)
        print(f"removed {folder}")
    runs = trained_runs()
    if not runs:
        return 0
    listing = "\n".join(f"  {run}" for run in runs)
    if not args.runs:
        print(f"kept {len(runs)} trained run folder(s):\n{listing}\n"
              "(`make clean-runs FORCE=1` deletes them)")
        return 0
    print(f"trained run folders:\n{listing}")
    if not (args.force or confirmed(runs)):
        raise StageError("not deleting trained runs without confirmation: run `make clean-runs FORCE=1`")
    for run in runs:
        shutil.rmtree(run)
        print(f"removed {run}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
