"""The GPU bundle's stage commands are the Makefile's, and its send/assemble round trip loses nothing."""

from __future__ import annotations

import random
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))

import gpu_bundle  # noqa: E402

CONFIG = "stages/configs/train/qwen2.5-coder-1.5b_lora.yaml"


def make_line(target: str, script: str) -> list[str]:
    """The stage script's arguments in `make -n -B <target>` for the 1.5B preset."""
    out = subprocess.run(["make", "-n", "-B", target, f"TRAIN_CONFIG={CONFIG}", "EVAL_PROFILE=full"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if f"stages/{script}" in line and "gpu_bundle" not in line)
    words = shlex.split(line)
    return words[words.index(f"stages/{script}") + 1:]


@pytest.mark.parametrize("name,target,script", [("baseline", "baseline", "evaluate.py"), ("train", "train", "train.py"),
                                                ("eval", "eval", "evaluate.py"), ("report", "report", "report.py"),
                                                ("distill", "distill", "distill.py")])
def test_stage_commands_match_the_makefile(name, target, script):
    command = gpu_bundle.stage_command(name, Path(CONFIG), "full", [])
    assert command[1] == f"stages/{script}"
    assert command[2:] == make_line(target, script)


def test_send_and_assemble_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDTUNE_REMOTE", str(tmp_path / "remote"))
    monkeypatch.setattr(gpu_bundle, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(gpu_bundle, "REPO", tmp_path / "there")
    payload = (tmp_path / "there" / "artifacts" / "run" / "adapter.bin")
    payload.parent.mkdir(parents=True)
    payload.write_bytes(random.Random(0).randbytes(10_000))          # incompressible: about 10 chunks
    first, second = tmp_path / "out1", tmp_path / "out2"
    first.mkdir(), second.mkdir()
    gpu_bundle.main(["send", "artifacts/run", "--name", "run", "--to", str(first), "--max-files", "1"])
    gpu_bundle.main(["send", "--to", str(second), "--max-files", "100"])   # the next call sends the rest
    assert len(list(first.iterdir())) == 1 and list(second.iterdir())
    monkeypatch.setattr(gpu_bundle, "REPO", tmp_path / "here")
    gpu_bundle.main(["assemble", str(first), str(second)])
    assert (tmp_path / "here" / "artifacts" / "run" / "adapter.bin").read_bytes() == payload.read_bytes()


def test_send_packs_the_smallest_paths_first(tmp_path, monkeypatch):
    """Only the first chunk comes back (the machine was taken back): the small files listed after the large
    adapter are still whole in it."""
    monkeypatch.setenv("MEDTUNE_REMOTE", str(tmp_path / "remote"))
    monkeypatch.setattr(gpu_bundle, "CHUNK_BYTES", 4000)
    monkeypatch.setattr(gpu_bundle, "REPO", tmp_path / "there")
    run = tmp_path / "there" / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "adapter" / "weights.bin").write_bytes(random.Random(0).randbytes(50_000))
    (run / "train_summary.json").write_text('{"global_step": 238}')
    out = tmp_path / "out"
    out.mkdir()
    gpu_bundle.main(["send", "run/adapter", "run/train_summary.json", "--name", "r", "--to", str(out),
                     "--max-files", "1"])
    import gzip
    import io
    import tarfile
    data = gzip.GzipFile(fileobj=io.BytesIO((out / "r.tgz.00").read_bytes())).read(2000)
    with tarfile.open(fileobj=io.BytesIO(data + b"\0" * 2048)) as tar:
        first = tar.next()
        assert first.name == "run/train_summary.json"
        assert tar.extractfile(first).read() == b'{"global_step": 238}'
