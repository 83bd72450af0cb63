"""Scoring and generation on the real embedded model (smollm2-135m), checked against plain forward passes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from medtune import chat_format, models
from medtune.evaluation import mc
from medtune.evaluation.generation import LocalGenerator, reference_nll

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))
import evaluate  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lm():
    torch.manual_seed(0)
    return models.load_model("smollm2-135m").eval(), models.load_tokenizer("smollm2-135m")


def summed_logprob(model, tokenizer, context: str, continuation: str) -> float:
    """Reference implementation: one unbatched forward pass per option."""
    ctx = tokenizer(context, add_special_tokens=False).input_ids
    cont = tokenizer(continuation, add_special_tokens=False).input_ids
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        lp = torch.log_softmax(model(ids).logits[0].float(), -1)
    return sum(lp[len(ctx) - 1 + i, t].item() for i, t in enumerate(cont))


def test_scorer_picks_the_option_with_highest_summed_logprob(lm):
    model, tok = lm
    context = "Question: Which organ pumps blood around the body?\nAnswer:"
    options = [" the heart", " the left kidney of a horse", " A", " paper"]   # multi- and single-token
    scores = mc.score_continuations(model, tok, [(context, o) for o in options], batch_size=3)
    expected = [summed_logprob(model, tok, context, o) for o in options]
    assert scores == pytest.approx(expected, abs=2e-3)
    assert max(range(4), key=scores.__getitem__) == max(range(4), key=expected.__getitem__)


def test_mc_item_prediction_is_the_argmax_letter(lm):
    model, tok = lm
    row = {"id": "hand-1", "question": "What is the normal number of chambers in the human heart?",
           "options": {"A": "Two", "B": "Three", "C": "Four", "D": "Six"}, "answer": "C"}
    [out] = mc.evaluate_items(model, tok, "hand", [row], [row], [], shots=0, seed=0, batch_size=4, max_length=256)
    prompt = mc.build_prompt(row, [])
    expected = {k: summed_logprob(model, tok, prompt, f" {k}") for k in "ABCD"}
    assert out["prediction"] == max(expected, key=expected.get)
    assert out["correct"] == (out["prediction"] == "C")
    assert out["logprobs"] == pytest.approx(expected, abs=2e-3)


def test_fewshot_prompts_never_include_the_scored_item():
    rows = [{"id": f"r{i}", "question": f"q{i}", "options": {"A": "x", "B": "y"}, "answer": "A"} for i in range(6)]
    for row in rows:
        shots = mc.fewshot_examples(row, 3, rows, [], seed=0)
        assert len(shots) == 3 and row["id"] not in {s["id"] for s in shots}
        assert shots == mc.fewshot_examples(row, 3, rows, [], seed=0)       # deterministic


def test_planted_runaway_is_counted(lm):
    model, tok = lm
    gen = LocalGenerator(model, tok, models.get_preset("smollm2-135m").end_of_turn)
    messages = chat_format.prompt_messages("Explain in detail how the heart works.")
    [result] = gen.generate([messages], max_new_tokens=3)
    assert result["new_tokens"] == 3 and result["ended"] is False
    row = evaluate.generation_row(result, messages)
    assert row["runaway"] is True


def test_reference_nll_matches_the_model_loss_on_answer_tokens(lm):
    model, tok = lm
    conv = chat_format.conversation([("What is a fever?", "A body temperature above 38 C.")])
    [out] = reference_nll(model, tok, [conv])
    prompt = tok(chat_format.render(tok, conv[:-1], add_generation_prompt=True), add_special_tokens=False).input_ids
    full = tok(chat_format.render(tok, conv), add_special_tokens=False).input_ids
    labels = torch.tensor([[-100] * len(prompt) + full[len(prompt):]])
    with torch.no_grad():
        loss = model(torch.tensor([full]), labels=labels).loss.item()
    assert out["tokens"] == len(full) - len(prompt)
    assert out["nll"] == pytest.approx(loss, abs=1e-4)
