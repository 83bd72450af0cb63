"""The pinned llama.cpp: fetch its source offline-friendly, build the few tools we use once into the cache, find them.

llama.cpp has no prebuilt binaries reachable here, so we build from the source that the
`llama-cpp-python` sdist vendors (it also ships `convert_hf_to_gguf.py` and `gguf-py`).
The build lives in `<cache>/llama.cpp/<version>/` and is reused by every run and every test.

    python -m medtune.llamacpp build     # download (pip) + verify + build when missing
    python -m medtune.llamacpp where     # print the build dir, or exit 1 with how to build it
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from medtune import envfile
from medtune.errors import StageError
from medtune.paths import cache_dir

SDIST_NAME = "llama-cpp-python"
SDIST_VERSION = "0.3.36"
SDIST_FILE = f"llama_cpp_python-{SDIST_VERSION}.tar.gz"
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
# Only what the pipeline runs: quantize, serve, and perplexity for the quantization check.
TARGETS = ("llama-quantize", "llama-server", "llama-perplexity")
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # otherwise the build downloads a web UI
    "-DGGML_NATIVE=OFF",  # portable binary: the cache may be shared between machines
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
)

BUILD_HINT = "run `make llama-cpp` (builds the pinned llama.cpp once, about 20 minutes on 2 cores)"


class LlamaCppMissing(StageError):
    pass


def home() -> Path:
    """Where the pinned build lives (MEDTUNE_LLAMA_CPP overrides it, e.g. for a checkout of your own)."""
    override = os.environ.get("MEDTUNE_LLAMA_CPP")
    return Path(override).expanduser().resolve() if override else cache_dir() / "llama.cpp" / SDIST_VERSION


def source_dir() -> Path:
    return home() / "src"


def binary(name: str) -> Path:
    path = home() / "build" / "bin" / name
    if not path.is_file():
        raise LlamaCppMissing(f"llama.cpp tool {name!r} not found at {path}: {BUILD_HINT}")
    return path


def convert_script() -> Path:
    path = source_dir() / "convert_hf_to_gguf.py"
    if not path.is_file():
        raise LlamaCppMissing(f"convert_hf_to_gguf.py not found at {path}: {BUILD_HINT}")
    return path


def is_built() -> bool:
    try:
        for target in TARGETS:
            binary(target)
        convert_script()
    except LlamaCppMissing:
        return False
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_sdist(dest: Path) -> Path:
    """pip-download the pinned sdist (or reuse one already there) and verify its SHA-256."""
    sdist = dest / SDIST_FILE
    if not sdist.is_file():
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"{SDIST_NAME}=={SDIST_VERSION}", "-d", str(dest)],
            check=True,
        )
    actual = _sha256(sdist)
    if actual != SDIST_SHA256:
        sdist.unlink()
        raise RuntimeError(f"{sdist}: sha256 {actual} != pinned {SDIST_SHA256}; deleted it, run again")
    return sdist


def extract_source(sdist: Path, dest: Path) -> None:
    """Unpack the sdist's vendored llama.cpp (vendor/llama.cpp) into dest."""
    prefix = f"llama_cpp_python-{SDIST_VERSION}/vendor/llama.cpp/"
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp, tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        tar.extractall(tmp, members=members, filter="data")
        if dest.exists():
            shutil.rmtree(dest)
        (Path(tmp) / prefix).rename(dest)


def build(jobs: int | None = None) -> Path:
    """Build the pinned tools when missing; returns the llama.cpp home. Safe to run again."""
    root = home()
    if is_built():
        print(f"llama.cpp {SDIST_VERSION} already built in {root}")
        return root
    root.mkdir(parents=True, exist_ok=True)
    if not (source_dir() / "CMakeLists.txt").is_file():
        sdist = fetch_sdist(cache_dir() / "downloads")
        print(f"extracting llama.cpp from {sdist.name}")
        extract_source(sdist, source_dir())
    build_dir = root / "build"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(["cmake", "-S", str(source_dir()), "-B", str(build_dir), *generator, *CMAKE_FLAGS], check=True)
    jobs = jobs or os.cpu_count() or 2
    subprocess.run(
        ["cmake", "--build", str(build_dir), "--parallel", str(jobs), "--target", *TARGETS], check=True
    )
    if not is_built():
        raise RuntimeError(f"build finished but tools are missing in {build_dir}/bin")
    print(f"llama.cpp {SDIST_VERSION} built in {root}")
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None) -> float:
    """Poll `url` until it answers 200; fail early if `process` exits. Returns the seconds waited."""
    started = time.time()
    while time.time() - started < timeout:
        if process is not None and process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log and log.is_file() else ""
            raise RuntimeError(f"server exited with code {process.returncode} before it was healthy:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.time() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} was not healthy within {timeout:.0f} s")


def _die_with_parent():
    """A preexec_fn that asks Linux for SIGTERM when the parent dies (prctl PR_SET_PDEATHSIG); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the child only calls it
    return lambda: prctl(1, signal.SIGTERM, 0, 0, 0)


class LlamaServer:
    """llama-server on one GGUF as a context manager: started, waited for (/health), always stopped.

        with LlamaServer(gguf, port=free_port()) as server:
            requests.post(server.url + "/v1/chat/completions", json=...)
    """

    def __init__(self, gguf: Path, port: int = 8080, host: str = "127.0.0.1", ctx: int = 2048,
                 threads: int | None = None, log: Path | None = None, extra: list[str] | None = None):
        self.gguf, self.port, self.host, self.ctx = Path(gguf), port, host, ctx
        self.threads = threads or os.cpu_count() or 2
        self.log = log or Path(tempfile.gettempdir()) / f"llama-server-{port}.log"
        self.extra = extra or []
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [str(binary("llama-server")), "-m", str(self.gguf), "--host", self.host, "--port", str(self.port),
                "-c", str(self.ctx), "-t", str(self.threads), "-np", "1", "--jinja", "--no-webui", *self.extra]

    def start(self, timeout: float = 120) -> "LlamaServer":
        if not self.gguf.is_file():
            raise FileNotFoundError(f"{self.gguf}: no such GGUF; run `make export` first")
        # The server gets no secrets, and dies with the process that started it, even one killed by SIGKILL.
        env = {k: v for k, v in os.environ.items() if not envfile.is_secret(k)}
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                            preexec_fn=_die_with_parent())
        try:
            self.startup_s = wait_healthy(self.url + "/health", timeout, self.process, self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "LlamaServer":
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build or locate the pinned llama.cpp tools.")
    parser.add_argument("command", choices=["build", "where"])
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.jobs)
        return 0
    if not is_built():
        print(f"llama.cpp {SDIST_VERSION} is not built in {home()}: {BUILD_HINT}", file=sys.stderr)
        return 1
    print(home())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
