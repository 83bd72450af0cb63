"""Serve the exported model: llama-server (here and in tests) or Ollama (users), same OpenAI-style API.

    make serve                 # llama-server on artifacts/<run>/gguf/<run>-<quant>.gguf, port SERVE_PORT
    make chat-demo             # start llama-server, a scripted two-turn chat, stop it (part of `make all`)
    make ollama-up             # Ollama (local `ollama` binary, else the official Docker image) + `ollama create`
    make ollama-down
    python stages/serve.py ollama-up --dry-run      # print the commands only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from medtune.errors import StageError
from medtune.llamacpp import LlamaServer, free_port, wait_healthy
from medtune.paths import artifacts_dir
from medtune.stage import logger, stage_main

DEMO_QUESTIONS = ("What are the symptoms of anemia?", "How is it usually treated?")
OLLAMA_CONTAINER = "medtune-ollama"
log, demo_log, ollama_log = logger("serve"), logger("chat-demo"), logger("ollama")


def gguf_for(run: str, quant: str) -> Path:
    manifest = artifacts_dir() / run / "gguf" / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} not found: run `make export` first")
    files = json.loads(manifest.read_text())["files"]
    if quant not in files:
        raise KeyError(f"{manifest}: no {quant} GGUF; exported: {', '.join(files)}")
    return manifest.parent / files[quant]["file"]


def serve(args) -> int:
    gguf = Path(args.gguf) if args.gguf else gguf_for(args.run, args.quant)
    server = LlamaServer(gguf, port=args.port, host=args.host, ctx=args.ctx,
                         log=artifacts_dir() / args.run / "llama-server.log")
    log(" ".join(server.command()))
    with server:
        log(f"{gguf.name} ready at {server.url} (/v1/chat/completions) in {server.startup_s:.1f} s; "
            f"log {server.log}; Ctrl-C stops it. Chat: make chat CHAT_URL={server.url}")
        try:
            server.process.wait()
        except KeyboardInterrupt:
            pass
    return 0


def demo(args) -> int:
    """Start llama-server on a free port, run a scripted multi-turn chat through the chat client, stop."""
    gguf = gguf_for(args.run, args.quant)
    out = artifacts_dir() / args.run / "chat_demo.json"
    server = LlamaServer(gguf, port=free_port(), ctx=args.ctx, log=artifacts_dir() / args.run / "llama-server.log")
    started = time.time()
    with server:
        cmd = [sys.executable, str(Path(__file__).with_name("chat.py")), "--url", server.url, "--no-stream",
               "--temperature", "0", "--seed", "0", "--context-window", str(args.ctx), "--transcript", str(out)]
        for q in args.question or DEMO_QUESTIONS:
            cmd += ["--once", q]
        code = subprocess.run(cmd).returncode
    if code:
        return code
    transcript = json.loads(out.read_text())
    transcript.update(gguf=gguf.name, server_startup_s=round(server.startup_s, 2),
                      total_s=round(time.time() - started, 2))
    out.write_text(json.dumps(transcript, indent=2, ensure_ascii=False) + "\n")
    bad = [t for t in transcript["turns"] if t["finish_reason"] != "stop"]
    demo_log(f"{len(transcript['turns'])} turns in {transcript['total_s']} s "
             f"(server start {transcript['server_startup_s']} s); transcript {out}")
    if bad:
        print(f"[chat-demo] WARNING: {len(bad)} answer(s) did not end with finish_reason 'stop' "
              f"(got {[t['finish_reason'] for t in bad]}): the model does not stop by itself", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------ Ollama

def ollama_plan(run_dir: Path, model: str, port: int, image: str, local: bool) -> dict:
    """The commands that bring Ollama up and down, for a local binary or the official image."""
    run_dir = run_dir.resolve()
    if local:
        env_host = f"127.0.0.1:{port}"
        return {"kind": "local", "host_env": env_host,
                "start": ["ollama", "serve"],
                "create": ["ollama", "create", model, "-f", str(run_dir / "Modelfile")],
                "stop": "kill the pid in " + str(run_dir / "ollama.pid")}
    return {"kind": "docker",
            "start": ["docker", "run", "-d", "--name", OLLAMA_CONTAINER, "-p", f"127.0.0.1:{port}:11434",
                      "-v", f"{run_dir}:/model:ro", "-v", f"{OLLAMA_CONTAINER}:/root/.ollama", image],
            "create": ["docker", "exec", "-w", "/model", OLLAMA_CONTAINER, "ollama", "create", model,
                       "-f", "/model/Modelfile"],
            "stop": ["docker", "rm", "-f", OLLAMA_CONTAINER]}


def _use_local(args) -> bool:
    return args.engine == "local" or (args.engine == "auto" and shutil.which("ollama") is not None)


def ollama_up(args) -> int:
    run_dir = artifacts_dir() / args.run
    if not (run_dir / "Modelfile").is_file() and not args.dry_run:
        raise StageError(f"{run_dir / 'Modelfile'} not found: run `make export` first")
    plan = ollama_plan(run_dir, args.model, args.port, args.image, _use_local(args))
    url = f"http://127.0.0.1:{args.port}"
    if args.dry_run:
        print(json.dumps(plan, indent=2))
        return 0
    if plan["kind"] == "local":
        env = dict(os.environ, OLLAMA_HOST=plan["host_env"])
        with open(run_dir / "ollama.log", "a") as log_file:
            process = subprocess.Popen(plan["start"], env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        (run_dir / "ollama.pid").write_text(str(process.pid))
        wait_healthy(url + "/api/version", args.timeout, process, run_dir / "ollama.log")
        subprocess.run(plan["create"], env=env, check=True)
    else:
        subprocess.run(plan["start"], check=True)
        wait_healthy(url + "/api/version", args.timeout)
        subprocess.run(plan["create"], check=True)
    ollama_log(f"model '{args.model}' ready at {url}. Chat: make chat CHAT_URL={url} "
               f"CHAT_MODEL={args.model}  (or: ollama run {args.model})")
    return 0


def ollama_down(args) -> int:
    run_dir = artifacts_dir() / args.run
    pid_file = run_dir / "ollama.pid"
    if _use_local(args) and pid_file.is_file():
        pid = int(pid_file.read_text())
        if args.dry_run:
            print(f"kill {pid}")
            return 0
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        pid_file.unlink()
        ollama_log(f"stopped the local server (pid {pid})")
        return 0
    stop = ollama_plan(run_dir, args.model, args.port, args.image, False)["stop"]
    if args.dry_run:
        print(" ".join(stop))
        return 0
    subprocess.run(stop, check=False)
    ollama_log(f"removed the container {OLLAMA_CONTAINER}")
    return 0


def _stop(signum, frame):
    raise SystemExit(128 + signum)


@stage_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--run", default=os.environ.get("EXPORT_RUN", "smollm2-135m-lora-cpu"))
    common.add_argument("--quant", default=os.environ.get("SERVE_QUANT", "q8_0"))
    common.add_argument("--ctx", type=int, default=int(os.environ.get("SERVE_CTX", 2048)))
    p = sub.add_parser("llama", parents=[common], help="llama-server in the foreground")
    p.add_argument("--gguf", help="serve this file instead of the run's export")
    p.add_argument("--host", default=os.environ.get("SERVE_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("SERVE_PORT", 8080)))
    p = sub.add_parser("demo", parents=[common], help="scripted chat against a temporary llama-server")
    p.add_argument("--question", action="append")
    ollama = argparse.ArgumentParser(add_help=False)
    ollama.add_argument("--model", default=os.environ.get("OLLAMA_MODEL", "medtune"))
    ollama.add_argument("--port", type=int, default=int(os.environ.get("OLLAMA_PORT", 11434)))
    ollama.add_argument("--image", default=os.environ.get("OLLAMA_IMAGE", "ollama/ollama:0.12.6"))
    ollama.add_argument("--engine", choices=["auto", "local", "docker"], default=os.environ.get("OLLAMA_ENGINE", "auto"))
    ollama.add_argument("--timeout", type=float, default=120)
    ollama.add_argument("--dry-run", action="store_true", help="print the commands only")
    sub.add_parser("ollama-up", parents=[common, ollama])
    sub.add_parser("ollama-down", parents=[common, ollama])
    args = parser.parse_args(argv)
    handlers = {"llama": serve, "demo": demo, "ollama-up": ollama_up, "ollama-down": ollama_down}
    # SIGTERM and SIGHUP unwind like Ctrl-C, so `with LlamaServer(...)` stops llama-server on every way out.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        return handlers[args.cmd](args)
    except (FileNotFoundError, KeyError, RuntimeError, TimeoutError, subprocess.CalledProcessError) as e:
        raise StageError(str(e)) from None  # what the server and tools report: no traceback either


if __name__ == "__main__":
    sys.exit(main())
