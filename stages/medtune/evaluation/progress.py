"""Progress bars with rate and ETA (tqdm) for every part of the evaluation."""

from __future__ import annotations

import sys

from tqdm import tqdm


def bar(what: str, unit: str = "item"):
    """A `progress(done, total)` callback that draws one tqdm bar on stderr.

    In a terminal the bar redraws every second; in a log file (make's output piped elsewhere) every
    ten seconds, so a long run leaves a readable trail instead of thousands of lines.
    """
    state: dict = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = tqdm(total=total, desc=f"[evaluate] {what}", unit=unit, file=sys.stderr,
                                mininterval=1.0 if sys.stderr.isatty() else 10.0, dynamic_ncols=True)
        b = state["bar"]
        b.update(done - b.n)
        if done >= total:
            b.close()
    return update
