"""runpod/launch.py against a local HTTP server that answers like the RunPod REST API (POST /pods,
GET /pods/{id}, DELETE /pods/{id}). The pod's side runs in a local folder (--local-pod), so the real
launcher process runs end to end: create, wait, copy data in, run, copy artifacts back, terminate,
including when the pod command fails or the launcher is interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from medtune import chat_format
from medtune.files import write_json, write_jsonl

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = REPO / "runpod" / "launch.py"
API_KEY = "rp_test_secret_key_0123456789"
HF_TOKEN = "hf_test_secret_token_9876543210"


class FakeRunPod:
    """Pods in memory. A pod reports its ssh port only from its second GET on, like a pod that boots."""

    def __init__(self, create_status: int = 201, final_status: str = "RUNNING"):
        self.delete_status = 204
        self.calls: list[tuple[str, str, dict | None]] = []
        self.pods: dict[str, dict] = {}
        self.create_status, self.final_status = create_status, final_status
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: dict | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                with fake.lock:
                    fake.calls.append((self.command, self.path, body))
                    if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                        return self._reply(401, {"error": "invalid api key"})
                    if self.command == "POST" and self.path == "/v1/pods":
                        if fake.create_status != 201:
                            return self._reply(fake.create_status, {"error": "no GPU of that type available"})
                        pod_id = f"pod{len(fake.pods) + 1}"
                        fake.pods[pod_id] = {"id": pod_id, "desiredStatus": "RUNNING", "gets": 0, "body": body}
                        return self._reply(201, {"id": pod_id, "desiredStatus": "RUNNING", "imageName": body["imageName"]})
                    pod_id = self.path.rsplit("/", 1)[-1]
                    pod = fake.pods.get(pod_id)
                    if pod is None or not self.path.startswith("/v1/pods/"):
                        return self._reply(404, {"error": "pod not found"})
                    if self.command == "GET":
                        pod["gets"] += 1
                        if pod["gets"] < 2:
                            return self._reply(200, {"id": pod_id, "desiredStatus": "RUNNING", "publicIp": None,
                                                     "portMappings": None})
                        return self._reply(200, {"id": pod_id, "desiredStatus": fake.final_status,
                                                 "publicIp": "203.0.113.7", "portMappings": {"2222": 40123}})
                    if self.command == "DELETE":
                        if fake.delete_status != 204:
                            return self._reply(fake.delete_status, {"error": "internal error"})
                        pod["desiredStatus"] = "TERMINATED"
                        return self._reply(204)
                    return self._reply(405, {"error": "method not allowed"})

            do_GET = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 5
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def methods(self) -> list[str]:
        return [f"{method} {path}" for method, path, _ in self.calls]


@pytest.fixture
def api():
    fake = FakeRunPod()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


@pytest.fixture
def workdir(tmp_path):
    """A processed-data folder (a real conversation per row), an artifacts folder and a pod folder."""
    data = tmp_path / "data"
    (data / "processed").mkdir(parents=True)
    rows = [{"messages": chat_format.conversation([(f"What is condition {i}?", f"Answer {i}.")])} for i in range(3)]
    write_jsonl(data / "processed" / "train.jsonl", rows)
    write_json(data / "processed" / "manifest.json", {"stage": "data"})
    (tmp_path / "artifacts").mkdir()
    return tmp_path


def launcher_env(api: FakeRunPod, workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "MEDTUNE_"))}
    env.update(RUNPOD_API_URL=api.url, RUNPOD_API_KEY=API_KEY, HF_TOKEN=HF_TOKEN,
               IMAGE_PREFIX="registry.example.org/medtune/medtune-", IMAGE_TAG="test",
               RUNPOD_GPU_TYPE="NVIDIA H100 80GB HBM3", RUNPOD_VOLUME_GB="20",
               MEDTUNE_DATA_DIR=str(workdir / "data"), MEDTUNE_ARTIFACTS_DIR=str(workdir / "artifacts"))
    env.update(extra)
    return env


def launch(api, workdir, *args, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LAUNCHER), "--local-pod", str(workdir / "pod"),
                           "--poll-seconds", "0.05", "--ready-timeout", "20", *args],
                          env=launcher_env(api, workdir, **extra), capture_output=True, text=True, timeout=60)


def assert_no_secret(text: str) -> None:
    assert API_KEY not in text and HF_TOKEN not in text


def test_success_copies_data_in_and_artifacts_out_then_terminates(api, workdir):
    command = "mkdir -p artifacts/run1 && wc -l < data/processed/train.jsonl > artifacts/run1/rows.txt"
    result = launch(api, workdir, "--command", command)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (workdir / "artifacts" / "run1" / "rows.txt").read_text().strip() == "3"
    methods = api.methods()
    assert methods[0] == "POST /v1/pods" and methods[-1] == "DELETE /v1/pods/pod1"
    assert methods.count("GET /v1/pods/pod1") >= 2
    body = api.calls[0][2]
    assert body["imageName"] == "registry.example.org/medtune/medtune-trainer:test"
    assert body["gpuTypeIds"] == ["NVIDIA H100 80GB HBM3"] and body["volumeInGb"] == 20
    assert body["volumeMountPath"] == "/workspace"
    assert body["env"]["HF_TOKEN"] == HF_TOKEN  # the pod needs it; the log must not show it
    assert_no_secret(result.stdout + result.stderr)
    assert "****" in result.stdout


def test_failed_training_command_still_terminates_the_pod(api, workdir):
    result = launch(api, workdir, "--command", "echo 'loss is nan' >&2; exit 7")
    assert result.returncode == 7
    assert api.methods()[-1] == "DELETE /v1/pods/pod1"
    assert api.pods["pod1"]["desiredStatus"] == "TERMINATED"
    assert "exit code 7" in result.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_during_training_terminates_the_pod(api, workdir, sig):
    started = workdir / "pod" / "workspace" / "medtune" / "started"
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "--local-pod", str(workdir / "pod"),
                             "--poll-seconds", "0.05", "--command", "touch started && exec sleep 30"],
                            env=launcher_env(api, workdir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert started.exists(), "the pod command never started"
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out
    assert api.methods()[-1] == "DELETE /v1/pods/pod1"
    assert "interrupted" in out


def test_pod_that_exits_before_ready_is_terminated(api, workdir):
    api.final_status = "EXITED"
    result = launch(api, workdir, "--command", "true")
    assert result.returncode == 1
    assert "stopped before it was ready" in result.stdout
    assert api.methods()[-1] == "DELETE /v1/pods/pod1"


def test_failed_termination_is_retried_then_reported_loudly(api, workdir):
    api.delete_status = 503
    result = launch(api, workdir, "--command", "true")
    assert result.returncode == 3
    assert api.methods().count("DELETE /v1/pods/pod1") == 3
    assert "could not terminate pod pod1" in result.stdout and "RunPod console" in result.stdout


def test_create_failure_reports_the_api_error(api, workdir):
    api.create_status = 500
    result = launch(api, workdir, "--command", "true")
    assert result.returncode == 1
    assert "HTTP 500" in result.stdout and "no GPU of that type" in result.stdout
    assert api.methods() == ["POST /v1/pods"]  # nothing was created, so nothing to terminate


def test_dry_run_prints_every_call_and_makes_none(api, workdir):
    result = subprocess.run([sys.executable, str(LAUNCHER), "--dry-run", "--eval"],
                            env=launcher_env(api, workdir), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert api.calls == []
    out = result.stdout
    for line in (f"API POST {api.url}/pods", f"API GET {api.url}/pods/<pod-id>",
                 f"API DELETE {api.url}/pods/<pod-id>", "rsync -az", " train eval"):
        assert line in out
    assert_no_secret(out)


def test_missing_api_key_is_a_clear_error(api, workdir):
    result = launch(api, workdir, "--command", "true", RUNPOD_API_KEY="")
    assert result.returncode == 2
    assert "RUNPOD_API_KEY is not set" in result.stderr
    assert api.calls == []


def _load_launcher():
    import importlib.util

    spec = importlib.util.spec_from_file_location("runpod_launch", LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_form_of_a_secret_is_masked():
    import shlex
    import urllib.parse

    secret = '"rp a/b+c\'d\\e"'  # quotes, a space, URL and JSON specials: every encoding differs
    log = _load_launcher().Log([secret])
    printed = [secret, json.dumps({"HF_TOKEN": secret}), urllib.parse.quote(secret, safe=""),
               urllib.parse.quote_plus(secret), repr(secret.encode()), shlex.quote(secret)]
    for text in printed:
        masked = log.mask(f"before {text} after")
        assert "rp a" not in masked and "rp%20a" not in masked and "rp+a" not in masked, masked
        assert masked.startswith("before ") and masked.endswith(" after") and "****" in masked


def quoted_dotenv(api: FakeRunPod, workdir: Path) -> str:
    """A .env as many users write it: double-quoted values, single quotes, trailing comments."""
    return "\n".join([
        "# RunPod settings",
        f'RUNPOD_API_KEY="{API_KEY}"',
        f"export HF_TOKEN='{HF_TOKEN}'   # gated models",
        f'RUNPOD_API_URL="{api.url}"',
        'RUNPOD_GPU_TYPE="NVIDIA H100 80GB HBM3"',
        "RUNPOD_VOLUME_GB=20 # GB",
        'IMAGE_PREFIX="registry.example.org/medtune/medtune-"',
        "IMAGE_TAG=test",
        f'MEDTUNE_DATA_DIR="{workdir / "data"}"',
        f'MEDTUNE_ARTIFACTS_DIR="{workdir / "artifacts"}"',
        ""])


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("RUNPOD_", "MEDTUNE_", "IMAGE_")) and k not in ("HF_TOKEN", "MAKEFLAGS", "MFLAGS")}


def test_make_with_a_quoted_dotenv_authenticates_and_leaks_nothing(api, workdir, make_tree):
    """Issue 18.1: make kept the quotes of a quoted .env, so the API got `Bearer "rp_..."` (401) and the
    masking missed the quoted token."""
    (make_tree / ".env").write_text(quoted_dotenv(api, workdir))
    pod_args = f"--local-pod {workdir / 'pod'} --poll-seconds 0.05 --ready-timeout 20 --command true"
    result = subprocess.run(["make", "-C", str(make_tree), "runpod-train", f"RUNPOD_ARGS={pod_args}",
                             "-o", "data/processed/manifest.json"],
                            env=clean_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert api.methods()[0] == "POST /v1/pods" and api.methods()[-1] == "DELETE /v1/pods/pod1"
    body = api.calls[0][2]
    assert body["env"]["HF_TOKEN"] == HF_TOKEN and body["gpuTypeIds"] == ["NVIDIA H100 80GB HBM3"]
    assert body["imageName"] == "registry.example.org/medtune/medtune-trainer:test"
    assert_no_secret(result.stdout + result.stderr)
    dry = subprocess.run(["make", "-C", str(make_tree), "runpod-train", "RUNPOD_ARGS=--dry-run"],
                         env=clean_env(), capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert '"HF_TOKEN": "****"' in dry.stdout
    assert_no_secret(dry.stdout + dry.stderr)


def test_make_exports_settings_but_no_secret_to_the_stages(api, workdir, make_tree):
    (make_tree / ".env").write_text(quoted_dotenv(api, workdir))
    result = subprocess.run(["make", "-C", str(make_tree), "--eval", "probe-env: ; @env", "probe-env"],
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    env = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert env["RUNPOD_GPU_TYPE"] == "NVIDIA H100 80GB HBM3" and env["RUNPOD_VOLUME_GB"] == "20"
    assert env["MEDTUNE_DATA_DIR"] == str(workdir / "data")
    assert "RUNPOD_API_KEY" not in env and "HF_TOKEN" not in env
    assert_no_secret(result.stdout)
    # The environment still overrides .env.
    result = subprocess.run(["make", "-C", str(make_tree), "--eval", "probe-env: ; @env", "probe-env"],
                            env={**clean_env(), "RUNPOD_GPU_TYPE": "other"}, capture_output=True, text=True)
    assert "RUNPOD_GPU_TYPE=other\n" in result.stdout


def test_a_broken_dotenv_line_is_named(make_tree):
    (make_tree / ".env").write_text('MODEL=smollm2-135m\nHF_TOKEN="unclosed\n')
    result = subprocess.run(["make", "-C", str(make_tree), "help"], env=clean_env(), capture_output=True, text=True)
    assert result.returncode == 2
    assert ".env:2: the double quote is not closed" in result.stderr
    assert "unclosed" not in result.stderr  # a secret's value is not echoed back


def test_gpu_count_reaches_the_pod_request_and_the_train_command(api, workdir, make_tree):
    """Issue 17: a pod with several GPUs, each running one training process (`make train NPROC=N` on the pod)."""
    for args in ([], ["--gpus", "4"]):  # RUNPOD_GPU_COUNT (from the environment or .env), then --gpus over it
        result = launch(api, workdir, *args, "--command", "true", RUNPOD_GPU_COUNT="2")
        assert result.returncode == 0, result.stdout + result.stderr
    assert [body["gpuCount"] for method, _, body in api.calls if method == "POST"] == [2, 4]
    # make passes RUNPOD_GPU_COUNT on as --gpus, and the launcher hands it to the pod's make as NPROC
    dry = subprocess.run(["make", "-C", str(make_tree), "runpod-train", "RUNPOD_GPU_COUNT=2", "RUNPOD_ARGS=--dry-run"],
                         env=launcher_env(api, workdir), capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert '"gpuCount": 2' in dry.stdout
    assert " train NPROC=2" in dry.stdout and "RUNNER=local" in dry.stdout
    default = subprocess.run([sys.executable, str(LAUNCHER), "--dry-run"], env=launcher_env(api, workdir),
                             capture_output=True, text=True, timeout=30)
    assert '"gpuCount": 1' in default.stdout and " train NPROC=1" in default.stdout


@pytest.mark.parametrize("count", ["0", "two", "1.5"])
def test_a_bad_gpu_count_is_refused_before_any_pod_exists(api, workdir, count):
    result = launch(api, workdir, "--command", "true", RUNPOD_GPU_COUNT=count)
    assert result.returncode == 2
    assert f"RUNPOD_GPU_COUNT (or --gpus) must be a whole number of GPUs, 1 or more; got {count!r}" in result.stderr
    assert api.calls == []
