"""Scoring and generation on the real embedded model (smollm2-135m), checked against plain forward passes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from medtune import chat_format, models
from medtune.evaluation import mc
from medtune.evaluation.generation import LocalGenerator, reference_nll
from medtune.model_spec import resolve_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stages"))
import evaluate  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spec():
    return resolve_model("smollm2-135m")


@pytest.fixture(scope="module")
def lm(spec):
    torch.manual_seed(0)
    return models.load_model("smollm2-135m").eval(), spec.tokenizer


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


def test_planted_runaway_is_counted(lm, spec):
    model, _ = lm
    gen = LocalGenerator(model, spec)
    messages = chat_format.prompt_messages("Explain in detail how the heart works.")
    [result] = gen.generate([messages], max_new_tokens=3)
    assert result["new_tokens"] == 3 and result["ended"] is False
    row = evaluate.generation_row(result, messages)
    assert row["runaway"] is True


def test_reference_nll_matches_the_model_loss_on_answer_tokens(lm, spec):
    model, tok = lm
    conv = chat_format.conversation([("What is a fever?", "A body temperature above 38 C.")])
    [out] = reference_nll(model, spec, [conv])
    prompt = tok(chat_format.render(tok, conv[:-1], add_generation_prompt=True), add_special_tokens=False).input_ids
    full = tok(chat_format.render(tok, conv), add_special_tokens=False).input_ids
    # the answer and its end-of-turn token, as training labels them (not the template's newline after it)
    end = full.index(tok.convert_tokens_to_ids(spec.end_of_turn), len(prompt)) + 1
    labels = torch.tensor([[-100] * len(prompt) + full[len(prompt):end] + [-100] * (len(full) - end)])
    with torch.no_grad():
        loss = model(torch.tensor([full]), labels=labels).loss.item()
    assert out["tokens"] == end - len(prompt)
    assert out["nll"] == pytest.approx(loss, abs=1e-4)


def test_left_padding_changes_no_greedy_answer(lm, spec):
    """Padding is masked out: a padded batch decodes as each prompt alone, whichever token pads it."""
    import copy
    import dataclasses

    model, _ = lm
    questions = ["What is a fever?", "Can I take ibuprofen with paracetamol for a bad headache and a sore back?",
                 "My father has had crushing chest pain for twenty minutes and is sweating. What should we do?"]
    convs = [chat_format.prompt_messages(q) for q in questions]
    alone = LocalGenerator(model, spec).generate(convs, max_new_tokens=24, batch_size=1)
    batched = LocalGenerator(model, spec).generate(convs, max_new_tokens=24, batch_size=3)
    # the rule before the pad rule was shared: pad with the end-of-turn token
    eot_padded = copy.deepcopy(spec.tokenizer)
    eot_padded.pad_token = spec.end_of_turn
    old_rule = dataclasses.replace(spec, tokenizer=eot_padded, pad_token=spec.end_of_turn)
    before = LocalGenerator(model, old_rule).generate(convs, max_new_tokens=24, batch_size=3)
    assert spec.pad_token != spec.end_of_turn
    for a, b, c in zip(alone, batched, before):
        assert a["text"] == b["text"] == c["text"] and a["new_tokens"] == b["new_tokens"] == c["new_tokens"]
