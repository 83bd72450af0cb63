"""medtune.stage: the one way a stage fails (StageError -> `error: <message>`, exit 2) and reports progress."""

from __future__ import annotations

import pytest

from medtune import chat_client, config, files, llamacpp, models, modelfile
from medtune.errors import StageError
from medtune.evaluation import generation
from medtune.labels import TrainError
from medtune.stage import logger, stage_main


def test_a_stage_error_becomes_its_message_on_stderr_and_exit_2(capsys):
    @stage_main
    def main(argv=None):
        raise files.InputError("data/processed/test.jsonl not found: run `make data` first")

    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.err == "error: data/processed/test.jsonl not found: run `make data` first\n"
    assert captured.out == ""


def test_a_stage_error_may_carry_its_own_exit_code_and_other_errors_keep_their_traceback(capsys):
    @stage_main
    def unreachable(argv=None):
        raise chat_client.ServerUnreachable("cannot reach the chat server")

    assert unreachable() == 3 and "error: cannot reach the chat server" in capsys.readouterr().err

    @stage_main
    def buggy(argv=None):
        raise KeyError("a bug, not a user error")

    with pytest.raises(KeyError):
        buggy()


def test_every_stage_error_class_shares_the_base():
    for cls in (config.ConfigError, files.InputError, models.ModelError, modelfile.TemplateError, TrainError,
                llamacpp.LlamaCppMissing, generation.EndpointError, chat_client.ChatError):
        assert issubclass(cls, StageError), cls


def test_logger_prefixes_the_stage_and_flushes(capsys):
    logger("export")("converted in 1.0 s")
    assert capsys.readouterr().out == "[export] converted in 1.0 s\n"
