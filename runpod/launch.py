"""Train on a rented RunPod GPU pod: create it, copy data/processed onto its volume, run the train stage
(and optionally the evaluation) in the trainer image, copy the artifacts back, and terminate the pod on
success, failure or interrupt, so nothing is left running and billing.

    make runpod-train                          # settings from .env (see .env.example)
    make runpod-train RUNPOD_ARGS=--dry-run    # print every API call and command, touch nothing
    python runpod/launch.py --eval             # also run the evaluation stage on the pod
    make runpod-train RUNPOD_GPU_COUNT=2       # a pod with 2 GPUs: `make train NPROC=2` there (DDP)

It talks to the RunPod REST API (https://rest.runpod.io/v1: POST /pods, GET /pods/{id}, DELETE /pods/{id})
with the standard library: the `runpod` SDK (1.12.0) resolves to 101 packages (fastapi, uvicorn, boto3,
paramiko, aiohttp, sentry-sdk, opentelemetry, ...) for these three calls. Files and commands go over
ssh/rsync to the unprivileged sshd that the trainer image starts on port 2222 (docker/trainer/pod-start.sh).
Secrets (RUNPOD_API_KEY, HF_TOKEN, WANDB_API_KEY) come from the environment or .env (read by the project's one parser,
stages/medtune/envfile.py; make does not pass them on) and are masked in everything printed, in every form
they take there (raw, JSON-escaped, URL-encoded).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))
from medtune import envfile  # noqa: E402  (stdlib only: no venv needed)
from medtune.paths import artifacts_dir, data_dir  # noqa: E402

TEMPLATE = Path(__file__).with_name("template.json")
SECRET_NAMES = ("RUNPOD_API_KEY", "HF_TOKEN", "WANDB_API_KEY")
DEFAULTS = {
    "RUNPOD_API_URL": "https://rest.runpod.io/v1",
    "RUNPOD_GPU_TYPE": "NVIDIA GeForce RTX 4090",
    "RUNPOD_GPU_COUNT": "1",
    "RUNPOD_CLOUD_TYPE": "SECURE",
    "RUNPOD_VOLUME_GB": "50",
    "RUNPOD_VOLUME_PATH": "/workspace",
    "RUNPOD_SSH_KEY": "~/.ssh/id_ed25519",
    "IMAGE_PREFIX": "medtune-",
    "IMAGE_TAG": "latest",
    "HF_HUB_OFFLINE": "0",
}
POD_PORT = "2222"          # the trainer image's sshd (docker/trainer/pod-start.sh)
POD_USER = "medtune"
POD_APP = "/app"           # where the trainer image keeps the code
# On the pod the stages run through the same Makefile as everywhere, in the image's Python (RUNNER=local,
# no venv to set up) and without remaking data/processed, which the launcher has just copied there.
POD_MAKE = "make -f {app}/Makefile -o data/processed/manifest.json RUNNER=local PY=python STAGE_DEPS= {targets}"
EVAL_TARGET = "eval"


class LaunchError(RuntimeError):
    pass


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: stop and clean up."""


def settings(env: dict[str, str]) -> dict[str, str]:
    merged = dict(DEFAULTS)
    merged.update(envfile.parse())
    merged.update({k: v for k, v in env.items() if k in DEFAULTS or k in SECRET_NAMES or k.startswith("RUNPOD_")})
    return merged


class Log:
    """Prints progress with every secret value replaced by ****."""

    def __init__(self, secrets: list[str]):
        forms = {form for s in secrets if s for form in self.forms(s)}
        self.secrets = sorted(forms, key=len, reverse=True)  # longest first: no half-masked form is left

    @staticmethod
    def forms(secret: str) -> list[str]:
        """How a secret can appear in printed text: as is, inside JSON, in a URL, in a Python repr."""
        return [secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe=""),
                urllib.parse.quote_plus(secret), repr(secret)[1:-1], shlex.quote(secret)]

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return text

    def __call__(self, message: str) -> None:
        try:
            print(self.mask(f"[runpod] {message}"), flush=True)
        except OSError:  # a closed stdout (e.g. `| head`) must not stop the pod from being terminated
            pass


def gpu_count(value: str) -> int:
    """RUNPOD_GPU_COUNT (or --gpus) as a number of GPUs, 1 or more."""
    if not value.strip().isdigit() or int(value) < 1:
        raise LaunchError(f"RUNPOD_GPU_COUNT (or --gpus) must be a whole number of GPUs, 1 or more; got {value!r}")
    return int(value)


def pod_request(cfg: dict[str, str], env: dict[str, str]) -> dict:
    """The POST /pods body: template.json with ${VAR} filled in, plus the ssh key and secrets as pod env."""
    try:
        body = json.loads(string.Template(TEMPLATE.read_text()).substitute(cfg))
    except KeyError as e:
        raise LaunchError(f"{TEMPLATE.name}: no value for ${{{e.args[0]}}}: set it in .env") from None
    body.pop("_comment", None)
    for key in ("volumeInGb", "containerDiskInGb", "gpuCount"):
        body[key] = int(body[key])
    body["env"]["PUBLIC_KEY"] = env.get("PUBLIC_KEY", "")
    for secret in ("HF_TOKEN", "WANDB_API_KEY"):  # gated models; W&B logging on the pod
        if cfg.get(secret):
            body["env"][secret] = cfg[secret]
    return body


class Api:
    """The three RunPod REST calls the launcher makes. In dry-run mode it only prints them."""

    def __init__(self, url: str, key: str, log: Log, dry_run: bool):
        self.url, self.key, self.log, self.dry_run = url.rstrip("/"), key, log, dry_run

    def call(self, method: str, path: str, body: dict | None = None, quiet: bool = False) -> dict:
        if not quiet or self.dry_run:
            self.log(f"API {method} {self.url}{path}" + (f" {json.dumps(body)}" if body is not None else ""))
        if self.dry_run:
            return {}
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = response.read()
        except urllib.error.HTTPError as e:
            raise LaunchError(self.log.mask(f"{method} {path} failed: HTTP {e.code} {e.read()[:500]!r}")) from None
        except urllib.error.URLError as e:
            raise LaunchError(f"{method} {path} failed: {e.reason}") from None
        return json.loads(payload) if payload.strip() else {}

    def create(self, body: dict) -> str:
        pod = self.call("POST", "/pods", body)
        return pod.get("id", "<pod-id>") if not self.dry_run else "<pod-id>"

    def get(self, pod_id: str) -> dict:
        return self.call("GET", f"/pods/{pod_id}", quiet=True)

    def terminate(self, pod_id: str, attempts: int = 3) -> None:
        for attempt in range(1, attempts + 1):
            try:
                self.call("DELETE", f"/pods/{pod_id}")
                return
            except LaunchError as e:
                self.log(f"terminate attempt {attempt} failed: {e}")
                if attempt == attempts:
                    raise
                time.sleep(2 * attempt)


def wait_running(api: Api, pod_id: str, timeout: float, poll: float) -> tuple[str, int]:
    """Poll GET /pods/{id} until the pod runs and its ssh port is mapped; returns (ip, port)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        pod = api.get(pod_id)
        status = pod.get("desiredStatus")
        if status != last:
            api.log(f"pod {pod_id}: {status}")
            last = status
        if status in ("EXITED", "TERMINATED"):
            raise LaunchError(f"pod {pod_id} stopped before it was ready ({status})")
        port = (pod.get("portMappings") or {}).get(POD_PORT)
        if status == "RUNNING" and pod.get("publicIp") and port:
            return pod["publicIp"], int(port)
        time.sleep(poll)
    raise LaunchError(f"pod {pod_id} not ready after {timeout:.0f} s")


class Ssh:
    """Copy files to and from the pod and run commands there, over ssh and rsync."""

    def __init__(self, host: str, port: int | str, key: Path, volume: str, log: Log, dry_run: bool):
        self.log, self.dry_run = log, dry_run
        self.ssh = ["ssh", "-p", str(port), "-i", str(key), "-o", "StrictHostKeyChecking=accept-new",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"]
        self.target = f"{POD_USER}@{host}"
        self.volume = f"{volume.rstrip('/')}/medtune"
        self.app = POD_APP

    def _run(self, argv: list[str], check: bool = True) -> int:
        self.log("$ " + shlex.join(argv))
        if self.dry_run:
            return 0
        code = subprocess.run(argv).returncode
        if check and code:
            raise LaunchError(f"command failed with exit code {code}: {argv[0]}")
        return code

    def wait_ready(self, timeout: float, poll: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.dry_run and time.monotonic() < deadline:
            if subprocess.run([*self.ssh, self.target, "true"], capture_output=True).returncode == 0:
                return
            time.sleep(poll)
        if not self.dry_run:
            raise LaunchError(f"no ssh on the pod after {timeout:.0f} s")

    def upload(self, local: Path, remote: str) -> None:
        self._run([*self.ssh, self.target, f"mkdir -p {shlex.quote(self.volume + '/' + remote)}"])
        self._run(["rsync", "-az", "-e", shlex.join(self.ssh), f"{local}/",
                   f"{self.target}:{self.volume}/{remote}/"])

    def download(self, remote: str, local: Path) -> None:
        local.mkdir(parents=True, exist_ok=True)
        self._run(["rsync", "-az", "-e", shlex.join(self.ssh), f"{self.target}:{self.volume}/{remote}/",
                   f"{local}/"])

    def script(self, command: str) -> str:
        # Relative paths in configs (data/, artifacts/) resolve on the volume; the code stays in the image.
        return (f"set -euo pipefail; mkdir -p {self.volume}/artifacts && cd {self.volume} && "
                f"ln -sfn {self.app}/stages stages && export MEDTUNE_DATA_DIR={self.volume}/data "
                f"MEDTUNE_ARTIFACTS_DIR={self.volume}/artifacts && {command}")

    def run(self, command: str) -> int:
        return self._run([*self.ssh, self.target, f"bash -c {shlex.quote(self.script(command))}"], check=False)


class LocalPod(Ssh):
    """Runs the pod's side in a local folder instead of over ssh (tests and debugging: --local-pod DIR)."""

    def __init__(self, root: Path, log: Log):
        self.log, self.dry_run = log, False
        self.volume, self.app = str(root / "workspace" / "medtune"), str(REPO)

    def wait_ready(self, timeout: float, poll: float) -> None:
        Path(self.volume).mkdir(parents=True, exist_ok=True)

    def upload(self, local: Path, remote: str) -> None:
        self._run(["cp", "-a", f"{local}/.", _mkdir(Path(self.volume) / remote)])

    def download(self, remote: str, local: Path) -> None:
        local.mkdir(parents=True, exist_ok=True)
        self._run(["cp", "-a", f"{self.volume}/{remote}/.", str(local)])

    def run(self, command: str) -> int:
        return self._run(["bash", "-c", self.script(command)], check=False)


def _mkdir(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _interrupt(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def launch(args: argparse.Namespace, env: dict[str, str]) -> int:
    cfg = settings(env)
    log = Log([cfg.get(name, "") for name in SECRET_NAMES])
    data = data_dir() / "processed"
    if not args.dry_run:
        if not cfg.get("RUNPOD_API_KEY"):
            raise LaunchError("RUNPOD_API_KEY is not set: put it in .env (see .env.example)")
        if not (data / "manifest.json").is_file():
            raise LaunchError(f"{data}/manifest.json not found: run `make data` first")
    image = f"{cfg['IMAGE_PREFIX']}trainer:{cfg['IMAGE_TAG']}"
    if "/" not in cfg["IMAGE_PREFIX"]:
        message = f"the pod pulls {image} from a registry: set IMAGE_PREFIX in .env and run `make push`"
        if not args.dry_run:
            raise LaunchError(message)
        log(f"warning: {message}")
    key = Path(cfg["RUNPOD_SSH_KEY"]).expanduser()
    if args.local_pod is None and not args.dry_run and not key.with_suffix(".pub").is_file():
        raise LaunchError(f"ssh key {key}(.pub) not found: set RUNPOD_SSH_KEY in .env or run ssh-keygen -t ed25519")
    missing = [tool for tool in ("ssh", "rsync") if shutil.which(tool) is None]
    if args.local_pod is None and not args.dry_run and missing:
        raise LaunchError(f"{' and '.join(missing)} not found: install them before renting a pod")
    if args.gpus is not None:
        cfg["RUNPOD_GPU_COUNT"] = args.gpus
    gpus = gpu_count(cfg["RUNPOD_GPU_COUNT"])
    pod_env = {"PUBLIC_KEY": key.with_suffix(".pub").read_text().strip() if key.with_suffix(".pub").is_file() else ""}
    # One training process per GPU on the pod (`make train NPROC=N`: DDP through accelerate launch)
    targets = args.targets + (f" {EVAL_TARGET}" if args.eval else "") + f" NPROC={gpus}"

    api = Api(cfg["RUNPOD_API_URL"], cfg.get("RUNPOD_API_KEY", ""), log, args.dry_run)
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    pod_id = None
    code = 1
    try:
        pod_id = api.create(pod_request(cfg, pod_env))
        log(f"created pod {pod_id}; waiting for it to run")
        volume = cfg["RUNPOD_VOLUME_PATH"]
        if args.dry_run:
            log(f"API GET {api.url}/pods/{pod_id} (repeated until desiredStatus is RUNNING with port {POD_PORT})")
            pod = Ssh("<publicIp>", "<port>", key, volume, log, dry_run=True)
        elif args.local_pod:
            wait_running(api, pod_id, args.ready_timeout, args.poll_seconds)
            pod = LocalPod(args.local_pod, log)
        else:
            host, port = wait_running(api, pod_id, args.ready_timeout, args.poll_seconds)
            pod = Ssh(host, port, key, volume, log, dry_run=False)
        pod.wait_ready(args.ready_timeout, args.poll_seconds)
        pod.upload(data, "data/processed")
        code = pod.run(args.command or POD_MAKE.format(app=pod.app, targets=targets))
        # Artifacts come back even when the stage failed: logs and partial outputs explain why.
        pod.download("artifacts", artifacts_dir())
        log("training finished" if code == 0 else f"the pod command failed with exit code {code}")
    except Interrupted as e:
        log(f"interrupted ({e}): terminating the pod")
        code = 130
    except LaunchError as e:
        log(f"error: {e}")
        code = 1
    finally:
        # A second Ctrl-C must not skip the termination that stops the billing.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        if pod_id is not None:
            try:
                api.terminate(pod_id)
                log(f"terminated pod {pod_id}")
            except LaunchError as e:
                log(f"error: could not terminate pod {pod_id}: {e}; terminate it in the RunPod console NOW")
                code = 3
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="print every API call and command, do nothing")
    parser.add_argument("--targets", default=os.environ.get("RUNPOD_TARGETS", "train"),
                        help="make targets and variables to run on the pod, e.g. "
                             "'train TRAIN_CONFIG=stages/configs/train/<config>.yaml' (default: RUNPOD_TARGETS or train)")
    parser.add_argument("--gpus", default=None,
                        help="GPUs of the pod, each running one training process (default: RUNPOD_GPU_COUNT or 1)")
    parser.add_argument("--eval", action="store_true", help=f"also run `make {EVAL_TARGET}` on the pod")
    parser.add_argument("--command", default=None, help="a shell command to run on the pod instead of make")
    parser.add_argument("--ready-timeout", type=float, default=900, help="seconds to wait for the pod")
    parser.add_argument("--poll-seconds", type=float, default=5)
    parser.add_argument("--local-pod", type=Path, default=None,
                        help="run the pod's side in this local folder instead of over ssh (tests, debugging)")
    args = parser.parse_args(argv)
    if args.dry_run and args.local_pod:
        parser.error("--dry-run and --local-pod exclude each other")
    try:
        return launch(args, dict(os.environ))
    except (LaunchError, envfile.EnvFileError) as e:
        print(f"[runpod] error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
