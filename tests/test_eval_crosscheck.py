"""The lm-evaluation-harness cross-check's comparison on planted per-item log-likelihoods (the harness
itself is optional and not installed by `make setup`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))
import crosscheck_lmeval as xc  # noqa: E402
from medtune.errors import StageError  # noqa: E402


def ours(i: int, answer: str, logprobs: dict) -> dict:
    pred = max(logprobs, key=logprobs.get)
    return {"id": f"q{i}", "answer": answer, "prediction": pred, "correct": pred == answer, "logprobs": logprobs}


def test_compare_counts_agreement_accuracy_and_largest_gap():
    mine = [ours(0, "A", {"A": -1.0, "B": -2.0}), ours(1, "B", {"A": -1.0, "B": -2.0}),
            ours(2, "B", {"A": -3.0, "B": -2.0})]
    theirs = {"q0": [-1.0, -2.0], "q1": [-2.5, -2.0], "q2": [-3.0, -2.0], "other": [0.0, 0.0]}
    e = xc.compare(mine, theirs)
    assert e["n"] == 3 and e["same_prediction"] == pytest.approx(2 / 3)
    assert e["medtune"]["accuracy"] == pytest.approx(2 / 3) and e["lm_eval"]["accuracy"] == 1.0
    assert e["max_abs_loglik_diff"] == pytest.approx(1.5)


@pytest.mark.skipif(importlib.util.find_spec("lm_eval") is not None, reason="lm_eval is installed")
def test_missing_harness_gives_the_install_command():
    with pytest.raises(StageError, match="pip install"):
        xc.harness(None, None, xc.CrosscheckConfig())
