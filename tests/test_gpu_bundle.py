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
from medtune.errors import StageError  # noqa: E402
from medtune.gpu_bundle import here, layout, runs, there  # noqa: E402

CONFIG = "stages/configs/train/qwen2.5-coder-1.5b_lora.yaml"


def make_line(target: str, script: str) -> list[str]:
    """The stage script's arguments in `make -n -B <target>` for the 1.5B preset. PREFER=0: the bundle's stage
    evaluates the SFT run unless --run names another (the chain names every run), where make's default is the
    recipe's last run."""
    out = subprocess.run(["make", "-n", "-B", target, f"TRAIN_CONFIG={CONFIG}", "EVAL_PROFILE=full", "PREFER=0"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if f"stages/{script}" in line and "gpu_bundle" not in line)
    words = shlex.split(line)
    return words[words.index(f"stages/{script}") + 1:]


@pytest.mark.parametrize("name,target,script", [("baseline", "baseline", "evaluate.py"), ("train", "train", "train.py"),
                                                ("eval", "eval", "evaluate.py"), ("report", "report", "report.py"),
                                                ("distill", "distill", "distill.py"), ("prefer", "prefer", "prefer.py")])
def test_stage_commands_match_the_makefile(name, target, script):
    command = runs.stage_command(name, Path(CONFIG), "full", [])
    assert command[1] == f"stages/{script}"
    assert command[2:] == make_line(target, script)


def test_send_and_assemble_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDTUNE_REMOTE", str(tmp_path / "remote"))
    monkeypatch.setattr(there, "CHUNK_BYTES", 1000)
    monkeypatch.setattr(layout, "REPO", tmp_path / "there")
    payload = (tmp_path / "there" / "artifacts" / "run" / "adapter.bin")
    payload.parent.mkdir(parents=True)
    payload.write_bytes(random.Random(0).randbytes(10_000))          # incompressible: about 10 chunks
    first, second = tmp_path / "out1", tmp_path / "out2"
    first.mkdir(), second.mkdir()
    gpu_bundle.main(["send", "artifacts/run", "--name", "run", "--to", str(first), "--max-files", "1"])
    gpu_bundle.main(["send", "--to", str(second), "--max-files", "100"])   # the next call sends the rest
    assert len(list(first.iterdir())) == 1 and list(second.iterdir())
    monkeypatch.setattr(layout, "REPO", tmp_path / "here")
    gpu_bundle.main(["assemble", str(first), str(second)])
    assert (tmp_path / "here" / "artifacts" / "run" / "adapter.bin").read_bytes() == payload.read_bytes()


def test_send_packs_the_smallest_paths_first(tmp_path, monkeypatch):
    """Only the first chunk comes back (the machine was taken back): the small files listed after the large
    adapter are still whole in it."""
    monkeypatch.setenv("MEDTUNE_REMOTE", str(tmp_path / "remote"))
    monkeypatch.setattr(there, "CHUNK_BYTES", 4000)
    monkeypatch.setattr(layout, "REPO", tmp_path / "there")
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


def test_stage_commands_take_another_run_name():
    train = runs.stage_command("train", Path(CONFIG), "dev", ["data.dir=d"], "r2")
    assert train[2:] == ["--config", CONFIG, "run_name=r2", "data.dir=d"]
    evaluate = runs.stage_command("eval", Path(CONFIG), "dev", [], "r2")
    assert "model=artifacts/r2/merged" in evaluate and "out=artifacts/r2/eval/dev" in evaluate
    report = runs.stage_command("report", Path(CONFIG), "dev", [], "r2")
    assert "tuned=artifacts/r2/eval/dev" in report and "out=artifacts/r2/report" in report


def _fake_stages(monkeypatch, fail: str | None = None):
    """Each stage writes the file the next one reads (the real stage commands are checked against the Makefile
    above); `fail` exits 1 instead."""
    def command(name, train_config, profile, extra, run=None):
        outputs = {"train": f"artifacts/{run}/train_summary.json", "baseline": f"artifacts/baseline-x/eval/{profile}/metrics.json",
                   "eval": f"artifacts/{run}/eval/{profile}/metrics.json", "report": f"artifacts/{run}/report/comparison.json"}
        code = ("import sys; sys.exit(1)" if name == fail else
                f"from pathlib import Path; p = Path({outputs[name]!r}); p.parent.mkdir(parents=True, exist_ok=True); "
                f"p.write_text('{{}}'); print({name!r}, {extra!r})")
        return [sys.executable, "-c", code]
    monkeypatch.setattr(runs, "stage_command", command)
    monkeypatch.setattr(runs, "train_settings", lambda config: type("C", (), {"model": type("M", (), {"preset": "x"})}))


def test_experiment_chains_the_stages_evaluates_the_base_once_and_sends(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDTUNE_REMOTE", str(tmp_path / "remote"))
    monkeypatch.setattr(layout, "REPO", tmp_path / "there")
    (tmp_path / "there").mkdir()
    _fake_stages(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    args = ["experiment", "r2", "--train-config", CONFIG, "--to", str(out), "--max-files", "100", "data.dir=d"]
    # the record step runs the real recipe_experiments.py, which finds no manifest.json in the fake run: exit 2
    assert gpu_bundle.main(args) == 2
    log = (tmp_path / "there" / "artifacts" / "r2" / "experiment.log").read_text()
    assert log.count("$ ") == 5  # train, baseline, eval, report, record
    assert "train ['data.dir=d']" in log and "baseline []" in log and "manifest.json not found" in log
    assert (out / "r2.tgz.00").is_file()
    # a second experiment finds the base's evaluation and does not run it again
    gpu_bundle.main(["experiment", "r3", "--train-config", CONFIG, "--to", str(out)])
    assert "baseline" not in (tmp_path / "there" / "artifacts" / "r3" / "experiment.log").read_text()


def test_a_failed_step_stops_the_experiment_and_what_exists_is_sent(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDTUNE_REMOTE", str(tmp_path / "remote"))
    monkeypatch.setattr(layout, "REPO", tmp_path / "there")
    (tmp_path / "there").mkdir()
    _fake_stages(monkeypatch, fail="eval")
    out = tmp_path / "out"
    out.mkdir()
    assert gpu_bundle.main(["experiment", "r2", "--train-config", CONFIG, "--to", str(out)]) == 1
    log = (tmp_path / "there" / "artifacts" / "r2" / "experiment.log").read_text()
    assert log.count("$ ") == 3  # train, baseline, eval; no report, no record
    assert not (tmp_path / "there" / "artifacts" / "r2" / "report").exists()
    assert (out / "r2.tgz.00").is_file()


def test_unpack_puts_carried_results_back_in_the_checkout(tmp_path, monkeypatch):
    """A bundle built with --carry (an SFT adapter, a base evaluation) puts them where they were, beside the data."""
    import hashlib
    import json
    import subprocess

    monkeypatch.setenv("MEDTUNE_REMOTE", str(tmp_path / "remote"))
    monkeypatch.setattr(layout, "REPO", tmp_path / "there")
    monkeypatch.setattr(there, "IMPORT_CHECK", ())
    stage = tmp_path / "stage"
    for path, text in {"data/processed/manifest.json": "{}", "repo/artifacts/r1/adapter/adapter_config.json": "{}",
                       "repo/artifacts/baseline-x/eval/full/metrics.json": '{"n": 1}'}.items():
        (stage / path).parent.mkdir(parents=True, exist_ok=True)
        (stage / path).write_text(text)
    part = tmp_path / "part-00"
    subprocess.run(["tar", "-C", str(stage), "-czf", str(part), "."], check=True)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"parts": [{"name": "part-00", "sha256": hashlib.sha256(part.read_bytes()).hexdigest()}],
                                    "carried": ["artifacts/r1/adapter", "artifacts/baseline-x/eval/full"]}))
    (tmp_path / "there" / "artifacts" / "r1" / "adapter").mkdir(parents=True)  # a stale copy is replaced
    (tmp_path / "there" / "artifacts" / "r1" / "adapter" / "old.bin").write_text("old")
    gpu_bundle.main(["receive", str(part)])
    assert gpu_bundle.main(["unpack", str(manifest)]) == 0
    checkout = tmp_path / "there"
    assert (checkout / "data" / "processed" / "manifest.json").is_file()
    assert sorted(p.name for p in (checkout / "artifacts" / "r1" / "adapter").iterdir()) == ["adapter_config.json"]
    assert (checkout / "artifacts" / "baseline-x" / "eval" / "full" / "metrics.json").read_text() == '{"n": 1}'


def test_parts_leave_room_for_the_checkout_that_travels_with_them(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("ignored.bin\n")
    (tmp_path / "code.py").write_bytes(b"x" * 1_000_000)            # untracked but not ignored: travels
    (tmp_path / "ignored.bin").write_bytes(b"x" * 30_000_000)       # ignored: stays behind
    left = here.part_bytes(tmp_path)
    assert left == here.TRANSFER_BYTES - 1_000_000 - len("ignored.bin\n") - here.MARGIN_BYTES
    (tmp_path / "big.bin").write_bytes(b"x" * 40_000_000)
    with pytest.raises(StageError, match="checkout that travels"):
        here.part_bytes(tmp_path)
