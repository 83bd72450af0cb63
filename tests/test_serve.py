"""stages/serve.py stops its llama-server child on every way out (issue 18, item 9), with a stand-in
llama-server (a small HTTP server on 127.0.0.1) found through MEDTUNE_LLAMA_CPP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FAKE_SERVER = '''#!{python}
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
port = int(sys.argv[sys.argv.index("--port") + 1])
with open(os.environ["FAKE_INFO"], "w") as f:
    json.dump({{"pid": os.getpid(), "env": sorted(os.environ)}}, f)
class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{{}}")
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", port), Health).serve_forever()
'''


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_the_server_child_dies_with_serve(tmp_path, sig):
    bin_dir = tmp_path / "llama" / "build" / "bin"
    bin_dir.mkdir(parents=True)
    fake = bin_dir / "llama-server"
    fake.write_text(FAKE_SERVER.format(python=sys.executable))
    fake.chmod(0o755)
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    (tmp_path / "artifacts" / "run").mkdir(parents=True)
    info, port = tmp_path / "info.json", free_port()
    env = dict(os.environ, MEDTUNE_LLAMA_CPP=str(tmp_path / "llama"), MEDTUNE_ARTIFACTS_DIR=str(tmp_path / "artifacts"),
               FAKE_INFO=str(info), HF_TOKEN="hf_fake_token_for_the_test")
    serve = subprocess.Popen([sys.executable, str(REPO / "stages/serve.py"), "llama", "--run", "run", "--gguf", str(gguf),
                              "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in serve.stdout:
            if "ready at" in line:
                break
        else:
            pytest.fail(f"serve.py never became ready (exit {serve.wait()})")
        child = json.loads(info.read_text())
        assert alive(child["pid"])
        assert "HF_TOKEN" not in child["env"]  # the server gets no secrets
        serve.send_signal(sig)
        serve.wait(timeout=30)
        deadline = time.monotonic() + 15
        while alive(child["pid"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(child["pid"]), f"llama-server outlived serve.py ({sig.name})"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if serve.poll() is None:
            serve.kill()
        if info.is_file() and alive(json.loads(info.read_text())["pid"]):
            os.kill(json.loads(info.read_text())["pid"], signal.SIGKILL)
