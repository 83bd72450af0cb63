"""Fast checks of the export/serve pieces that need no llama.cpp build: Modelfile, Ollama commands, config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medtune.chat_format import GENERATION_DEFAULTS, SYSTEM_PROMPT, conversation, render, stop_strings
from medtune.modelfile import (TemplateError, go_template, modelfile, parse_modelfile, render_go_template,
                               turn_format)
from medtune.models import get_preset, load_tokenizer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))

import serve  # noqa: E402

THREE_TURNS = conversation([
    ("What is hypertension?", "Hypertension is blood pressure that stays too high."),
    ("Can it cause headaches?", "Very high blood pressure can; most people feel nothing."),
    ("What should I do if my reading is 190/120 with chest pain?", "Call your local emergency number now."),
], disclaimer=True)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("smollm2-135m")


def test_modelfile_template_renders_like_the_tokenizer(tokenizer):
    template = go_template(turn_format(tokenizer))
    # Every prefix of the conversation that ends with a user turn is a prompt Ollama would build.
    for end in range(2, len(THREE_TURNS) + 1, 2):
        prompt = THREE_TURNS[:end]
        assert render_go_template(template, prompt) == render(tokenizer, prompt, add_generation_prompt=True)
    # Without a generation prompt, the full conversation matches as well.
    assert render_go_template(template, THREE_TURNS) == (
        render(tokenizer, THREE_TURNS) + turn_format(tokenizer).generation_prompt)


def test_modelfile_instructions_come_from_the_chat_format(tokenizer):
    preset = get_preset("smollm2-135m")
    text = modelfile("gguf/smollm2-135m-q8_0.gguf", tokenizer, stop_strings(tokenizer, preset.end_of_turn),
                     preset.license, num_ctx=2048)
    parsed = parse_modelfile(text)
    assert parsed["from"] == "gguf/smollm2-135m-q8_0.gguf"
    assert parsed["system"] == SYSTEM_PROMPT
    assert parsed["license"] == "Apache-2.0"
    assert render_go_template(parsed["template"], THREE_TURNS[:2]) == render(
        tokenizer, THREE_TURNS[:2], add_generation_prompt=True)
    params = parsed["parameters"]
    assert params["stop"] == stop_strings(tokenizer, preset.end_of_turn) == ["<|im_end|>"]
    assert float(params["temperature"][0]) == GENERATION_DEFAULTS["temperature"]
    assert float(params["top_p"][0]) == GENERATION_DEFAULTS["top_p"]
    assert float(params["repeat_penalty"][0]) == GENERATION_DEFAULTS["repeat_penalty"]
    assert int(params["num_predict"][0]) == GENERATION_DEFAULTS["max_new_tokens"]
    assert params["num_ctx"] == ["2048"]


def test_template_that_merges_messages_is_refused():
    # Gemma-style: the system prompt is folded into the first user turn, not a turn of its own.
    tokenizer = load_tokenizer("smollm2-135m")
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{% set sys = m['content'] %}"
        "{% else %}<start_of_turn>{{ m['role'] }}\n{{ m['content'] }}<end_of_turn>\n{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
    with pytest.raises(TemplateError):
        turn_format(tokenizer)


def test_go_renderer_rejects_what_it_does_not_know():
    with pytest.raises(TemplateError, match="unsupported"):
        render_go_template("{{ range .Messages }}{{ .Images }}{{ end }}", THREE_TURNS)
    with pytest.raises(TemplateError, match="missing"):
        render_go_template("{{ range .Messages }}{{ .Content }}", THREE_TURNS)


def test_ollama_commands(tmp_path):
    docker = serve.ollama_plan(tmp_path / "run", "medtune", 11434, "ollama/ollama:0.12.6", local=False)
    assert docker["start"][:4] == ["docker", "run", "-d", "--name"]
    assert f"{(tmp_path / 'run').resolve()}:/model:ro" in docker["start"]
    assert docker["start"][-1] == "ollama/ollama:0.12.6"
    assert docker["create"][-4:] == ["create", "medtune", "-f", "/model/Modelfile"]
    assert docker["stop"] == ["docker", "rm", "-f", serve.OLLAMA_CONTAINER]
    local = serve.ollama_plan(tmp_path / "run", "medtune", 11500, "unused", local=True)
    assert local["start"] == ["ollama", "serve"] and local["host_env"] == "127.0.0.1:11500"
    assert local["create"] == ["ollama", "create", "medtune", "-f", str((tmp_path / "run" / "Modelfile").resolve())]


def test_ollama_up_without_export_says_what_to_run(tmp_path):
    env = {"MEDTUNE_ARTIFACTS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, str(REPO / "stages" / "serve.py"), "ollama-up", "--run", "none"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "make export" in result.stderr


def test_export_config_rejects_unknown_keys():
    result = subprocess.run([sys.executable, str(REPO / "stages" / "export.py"), "quantisations=[q8_0]"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "unknown key 'quantisations'" in result.stderr


def test_export_without_merged_model_names_the_next_step(tmp_path):
    env = {"MEDTUNE_ARTIFACTS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, str(REPO / "stages" / "export.py"), "run=nothing-here"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert "make train" in result.stderr and "source=base" in result.stderr


def test_missing_llama_cpp_says_how_to_build(tmp_path, monkeypatch):
    from medtune import llamacpp

    monkeypatch.setenv("MEDTUNE_LLAMA_CPP", str(tmp_path / "empty"))
    assert not llamacpp.is_built()
    with pytest.raises(llamacpp.LlamaCppMissing, match="make llama-cpp"):
        llamacpp.binary("llama-server")
    result = subprocess.run([sys.executable, "-m", "medtune.llamacpp", "where"], capture_output=True, text=True,
                            env={"MEDTUNE_LLAMA_CPP": str(tmp_path / "empty"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and "make llama-cpp" in result.stderr


def test_chat_client_trims_oldest_turns_and_reports_unreachable_server():
    import chat

    # No server here: tokens are counted as UTF-8 bytes, an upper bound (the system prompt alone is 536).
    session = chat.ChatSession("http://127.0.0.1:9", context_window=1200, max_tokens=200)
    for i in range(6):
        session.history += [{"role": "user", "content": f"question {i} " + "x" * 120},
                            {"role": "assistant", "content": f"answer {i} " + "y" * 120}]
    messages, trimmed = session._fit("latest question")
    assert trimmed > 0 and messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert messages[-1]["content"] == "latest question"
    assert session.tokens.messages(messages) <= 1200 - 200
    # The most recent turns survive, the oldest go first.
    assert messages[-2]["content"].startswith("answer 5")
    with pytest.raises(ValueError, match="does not fit"):
        session._fit("z" * 3000)
    # Port 9 (discard) has no HTTP server here: the client says how to start one.
    result = subprocess.run([sys.executable, str(REPO / "stages" / "chat.py"), "--url", "http://127.0.0.1:9",
                             "--once", "hello"], capture_output=True, text=True)
    assert result.returncode == 3
    assert "cannot reach the chat server" in result.stderr and "make serve" in result.stderr
    assert "not medical advice" in result.stderr  # the disclaimer banner

