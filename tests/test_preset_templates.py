"""Every preset's chat template renders a medtune conversation: system prompt, two turns, labels, stop token.

The templates ship as small tokenizer_config fixtures (tests/fixtures/tokenizer_configs/<preset>.json,
each naming its source; no weights). They are put on the embedded model's tokenizer, with the preset's
special tokens added, and rendered through the same functions training and evaluation use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jinja2 import TemplateError
from transformers import AutoTokenizer

from medtune.chat_format import SYSTEM_PROMPT, accepts_system_role, conversation, end_of_turn_token, render
from medtune.models import PRESETS, add_chat_template, get_preset, prepare
from medtune.training import TrainError, assistant_spans

FIXTURES = Path(__file__).parent / "fixtures" / "tokenizer_configs"
TURNS = [("What is anemia?", "Anemia means the blood has too few healthy red blood cells."),
         ("How is it treated?", "Treatment depends on the cause, for example iron for iron deficiency.")]


def preset_tokenizer(name: str):
    fixture = json.loads((FIXTURES / f"{name}.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(prepare("smollm2-135m"))
    tokenizer.chat_template = fixture.get("chat_template")
    specials = {k: fixture[k] for k in ("bos_token", "eos_token") if fixture.get(k)}
    tokenizer.add_special_tokens({**specials, "extra_special_tokens": [get_preset(name).end_of_turn]},
                                 replace_extra_special_tokens=False)
    return add_chat_template(tokenizer)


def test_every_preset_has_a_fixture():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(PRESETS)


# The qwen3-4b fixture is the Qwen3 family's hybrid-thinking template (Qwen3-4B-Instruct-2507's own is not to
# be had offline): it gives the last assistant turn an empty <think> block that earlier turns lose, so a
# conversation is not a prefix of its continuation and training stops with TrainError. Strict: if the
# fixture or the label code changes so that it passes, this marker must go.
HYBRID_THINKING = pytest.mark.xfail(strict=True, raises=TrainError,
                                    reason="Qwen3 hybrid-thinking template re-renders the last answer")
PRESET_PARAMS = [pytest.param(n, marks=HYBRID_THINKING) if n == "qwen3-4b" else n for n in sorted(PRESETS)]


@pytest.mark.parametrize("name", PRESET_PARAMS)
def test_preset_template_renders_a_two_turn_conversation(name):
    tokenizer = preset_tokenizer(name)
    preset = get_preset(name)
    messages = conversation(TURNS, disclaimer=True)
    end_of_turn = end_of_turn_token(tokenizer, preset.end_of_turn)
    text, spans = assistant_spans(tokenizer, messages, end_of_turn)
    # The system prompt is there (its own turn, or folded into the first user turn), then the turns in order.
    positions = [text.index(SYSTEM_PROMPT)]
    for message in messages[1:]:
        positions.append(text.index(message["content"], positions[-1]))
    assert positions == sorted(positions)
    # Training labels: each answer's span holds the answer and ends with the end-of-turn token.
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    assert len(spans) == len(answers)
    for (start, end), answer in zip(spans, answers):
        assert answer in text[start:end] and text[start:end].endswith(end_of_turn)
    # A prompt ends with the template's generation prompt, after the last question.
    prompt = render(tokenizer, messages[:-1], add_generation_prompt=True)
    assert prompt.startswith(render(tokenizer, messages[:-1])) and TURNS[-1][0] in prompt


def test_gemma_rejects_the_system_role_so_it_is_folded_into_the_first_turn():
    tokenizer = preset_tokenizer("gemma-2b")
    messages = conversation(TURNS[:1])
    with pytest.raises(TemplateError, match="System role not supported"):
        tokenizer.apply_chat_template(messages, tokenize=False)
    assert not accepts_system_role(tokenizer)
    assert render(tokenizer, messages).startswith(f"<bos><start_of_turn>user\n{SYSTEM_PROMPT}\n\n{TURNS[0][0]}")


def test_templates_with_a_system_role_keep_it():
    tokenizer = preset_tokenizer("llama3.2-1b")
    assert accepts_system_role(tokenizer)
    assert f"<|start_header_id|>system<|end_header_id|>" in render(tokenizer, conversation(TURNS[:1]))
