"""One way for a stage to fail: raise a StageError (or a subclass named after its stage or subject).

The stage's entry point (medtune.stage.stage_main) turns it into `error: <message>` on stderr and exit
status 2, with no traceback: the message says what to fix. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class StageError(Exception):
    """A failure the user can act on from its message: a bad input, a missing step, an unknown preset."""

    exit_code = 2   # 1 stays free for "ran, but the result failed a check" (report gates, bench variants)
