"""The model resolved once: its tokenizer, end-of-turn token, pad token and stop strings.

Training, evaluation and export all call `resolve_model`, so a preset name or a merged model folder
gets the same chat template, the same end-of-turn token and the same pad rule in every stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .chat_format import end_of_turn_token, stop_strings
from .labels import set_pad_token
from .models import Preset, add_chat_template, get_preset, prepare, preset_of


@dataclass(frozen=True)
class ModelSpec:
    preset: Preset
    path: str                      # what from_pretrained loads: the preset's folder or hub id, or the given folder
    tokenizer: Any                 # with a chat template (ChatML added where it had none) and the pad token below
    end_of_turn: str               # the token that closes an assistant turn (trained, and a stop)
    pad_token: str                 # never the end-of-turn token, so padding never masks an end-of-turn label
    stop_strings: tuple[str, ...]  # the end-of-turn token and the tokenizer's EOS, de-duplicated
    own_template: bool             # False: the tokenizer had no chat template and ChatML was added


def resolve_model(model: str, preset: str | None = None) -> ModelSpec:
    """A preset name or a model folder (which names its preset, or pass `preset`) -> its ModelSpec."""
    from transformers import AutoTokenizer

    info = get_preset(preset or preset_of(model))
    path = str(model) if Path(model).is_dir() else prepare(model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    own_template = bool(tokenizer.chat_template)
    add_chat_template(tokenizer)
    end_of_turn = end_of_turn_token(tokenizer, info.end_of_turn)
    pad_token = set_pad_token(tokenizer, end_of_turn)
    return ModelSpec(info, path, tokenizer, end_of_turn, pad_token,
                     tuple(stop_strings(tokenizer, info.end_of_turn)), own_template)
