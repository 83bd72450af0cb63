"""The one .env parser (stages/medtune/envfile.py) that make, the stages and runpod/launch.py share."""

import subprocess

import pytest

from medtune import envfile


def test_quotes_comments_and_export_are_understood(tmp_path):
    path = tmp_path / ".env"
    path.write_text("\n".join([
        "# a comment",
        "",
        "PLAIN=value # trailing comment",
        'DOUBLE="a value # not a comment"',
        "SINGLE='literal \\n $HOME'",
        'export ESCAPED="say \\"hi\\"\\\\n"',
        "EMPTY=",
        "HASH=a#b",
        'SPACED = "x y"  ',
    ]) + "\n")
    assert envfile.parse(path) == {
        "PLAIN": "value", "DOUBLE": "a value # not a comment", "SINGLE": "literal \\n $HOME",
        "ESCAPED": 'say "hi"\\n', "EMPTY": "", "HASH": "a#b", "SPACED": "x y"}


@pytest.mark.parametrize("line,message", [
    ('TOKEN="open', ".env:1: the double quote is not closed"),
    ("TOKEN='open", ".env:1: the single quote is not closed"),
    ('TOKEN="a"b', ".env:1: text after the closing quote"),
    ("not a setting", ".env:1: expected KEY=value"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / ".env"
    path.write_text(line + "\n")
    with pytest.raises(envfile.EnvFileError, match=message):
        envfile.parse(path)


def test_secrets_stay_out_of_make_and_come_from_the_file(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text('HF_TOKEN="hf_fake_1"\nRUNPOD_API_KEY=rp_fake_2\nRUNPOD_SSH_KEY=~/.ssh/k\nMODEL="smollm2-135m"\n')
    text = envfile.make_vars(path)
    assert "hf_fake_1" not in text and "rp_fake_2" not in text
    assert "export MODEL ?= smollm2-135m\n" in text and "RUNPOD_SSH_KEY" in text
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert envfile.secret("HF_TOKEN", path) == "hf_fake_1"
    monkeypatch.setenv("HF_TOKEN", "from_env")
    assert envfile.secret("HF_TOKEN", path) == "from_env"  # the environment wins, as in make


def test_make_reads_dollar_and_hash_literally(tmp_path):
    env = tmp_path / ".env"
    env.write_text('ODD="a$$b #c$(x)\\\\"\n')
    (tmp_path / "Makefile").write_text(f"include {tmp_path}/vars.mk\nshow: ; @printf '%s' \"$$ODD\"\n")
    (tmp_path / "vars.mk").write_text(envfile.make_vars(env))
    out = subprocess.run(["make", "-s", "-C", str(tmp_path), "show"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "a$$b #c$(x)\\"
