"""resolve_model: one tokenizer, end-of-turn token, pad token and stop strings for every stage."""

from __future__ import annotations

import pytest

from medtune import models
from medtune.model_spec import resolve_model


def test_a_preset_and_its_folder_resolve_alike():
    by_name = resolve_model("smollm2-135m")
    by_folder = resolve_model(models.prepare("smollm2-135m"))  # the folder names its preset
    for spec in (by_name, by_folder):
        assert spec.preset.name == "smollm2-135m" and spec.path == models.prepare("smollm2-135m")
        assert spec.end_of_turn == "<|im_end|>" and spec.stop_strings == ("<|im_end|>",)
        # SmolLM2 ships pad == eos == <|im_end|>; the one pad rule picks another token
        assert spec.pad_token == spec.tokenizer.pad_token == "<|endoftext|>"
        assert spec.own_template and spec.tokenizer.chat_template


def test_a_folder_that_names_no_preset_needs_one(tmp_path):
    with pytest.raises(models.ModelError, match="pass preset=<name>"):
        resolve_model(str(tmp_path))
