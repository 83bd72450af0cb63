"""Serving speed: llama-server generation tokens/s per GGUF quantization beside the memory-bandwidth bound.

    python stages/bench_serve.py --run smollm2-135m-lora --quants q8_0 q4_k_m --out reports/<dir>

Decoding one token reads every weight once, so on a CPU tokens/s cannot exceed
(memory bandwidth) / (bytes of the GGUF). The bandwidth is measured here, with one copying thread per
core (bytes read + bytes written per second). Each quantization is served by the pinned llama-server
with all cores; a warm-up request is discarded, then the same held-out questions are asked with greedy
decoding and a fixed token budget (`ignore_eos`, so every answer decodes the same number of tokens), and
the server's own timings (prompt and generation tokens/s) are collected. Writes serving.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

from medtune.chat_format import SYSTEM_PROMPT
from medtune.errors import StageError
from medtune.files import read_jsonl, write_json
from medtune.llamacpp import LlamaServer, free_port
from medtune.paths import artifacts_dir, data_dir
from medtune.stage import logger, stage_main

log = logger("bench-serve")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_bandwidth(threads: int, mib: int = 512, repeats: int = 5) -> float:
    """Best of `repeats` parallel array copies, in bytes/s (read + write)."""
    import numpy as np

    n = mib * 2**20 // 8 // threads
    sources = [np.ones(n) for _ in range(threads)]
    targets = [np.empty(n) for _ in range(threads)]
    best = 0.0
    for _ in range(repeats):
        workers = [threading.Thread(target=np.copyto, args=(t, s)) for s, t in zip(sources, targets)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = max(best, 2 * n * 8 * threads / (time.perf_counter() - start))
    return best


def questions(count: int) -> list[str]:
    rows = read_jsonl(data_dir() / "processed" / "test.jsonl", required={"messages": list})
    out = []
    for row in rows:
        user = next(m["content"] for m in row["messages"] if m["role"] == "user")
        out.append(user)
        if len(out) == count:
            break
    return out


def ask(url: str, question: str, max_tokens: int) -> dict:
    body = {"messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}],
            "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True, "stream": False}
    started = time.perf_counter()
    reply = requests.post(url + "/v1/chat/completions", json=body, timeout=600).json()
    wall = time.perf_counter() - started
    t = reply.get("timings") or {}
    return {"predicted_n": t.get("predicted_n"), "predicted_per_second": t.get("predicted_per_second"),
            "prompt_n": t.get("prompt_n"), "prompt_per_second": t.get("prompt_per_second"), "wall_s": round(wall, 3)}


def bench_quant(gguf: Path, threads: int, prompts: list[str], max_tokens: int) -> dict:
    with LlamaServer(gguf, port=free_port(), threads=threads) as server:
        ask(server.url, prompts[0], 16)  # warm-up: page the weights in
        runs = [ask(server.url, q, max_tokens) for q in prompts]
    speeds = [r["predicted_per_second"] for r in runs if r["predicted_per_second"]]
    return {"gguf": gguf.name, "bytes": gguf.stat().st_size, "requests": runs,
            "generation_tokens_per_s": round(statistics.median(speeds), 1) if speeds else None,
            "prompt_tokens_per_s": round(statistics.median(r["prompt_per_second"] for r in runs), 1)}


def markdown(report: dict) -> str:
    lines = [f"# Serving speed: llama-server on {report['cpu']} ({report['threads']} threads)", "",
             f"Produced by `{report['command']}`.", "",
             f"Measured memory bandwidth: {report['bandwidth_gb_s']:.1f} GB/s ({report['threads']} copying threads, "
             "read + write). Bound = bandwidth / GGUF bytes (every weight is read once per generated token). "
             f"Each row: median over {report['requests']} held-out questions, {report['max_tokens']} generated "
             "tokens each (greedy, ignore_eos), after one warm-up request; timings from llama-server.", "",
             "| GGUF | size (MB) | generation tokens/s | bandwidth bound (tokens/s) | share of bound | prompt tokens/s |",
             "|---|---|---|---|---|---|"]
    for r in report["results"]:
        lines.append(f"| {r['gguf']} | {r['bytes'] / 1e6:.1f} | {r['generation_tokens_per_s']} | "
                     f"{r['bound_tokens_per_s']:.0f} | {100 * r['share_of_bound']:.0f}% | {r['prompt_tokens_per_s']} |")
    return "\n".join(lines) + "\n"


@stage_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="artifacts/<run>/gguf holds the exported GGUF files")
    parser.add_argument("--quants", nargs="+", default=["q8_0", "q4_k_m"])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    folder = artifacts_dir() / args.run / "gguf"
    ggufs = {q: next(folder.glob(f"*-{q}.gguf"), None) for q in args.quants}
    missing = [q for q, path in ggufs.items() if path is None]
    if missing:
        raise StageError(f"no {', '.join(missing)} GGUF in {folder}: run `make export EXPORT_RUN={args.run}`")
    bandwidth = memory_bandwidth(args.threads)
    prompts = questions(args.requests)
    results = []
    for quant, path in ggufs.items():
        row = bench_quant(path, args.threads, prompts, args.max_tokens)
        row["bound_tokens_per_s"] = bandwidth / row["bytes"]
        row["share_of_bound"] = (row["generation_tokens_per_s"] or 0) / row["bound_tokens_per_s"]
        results.append(row)
        log(f"{quant}: {row['generation_tokens_per_s']} tokens/s (bound {row['bound_tokens_per_s']:.0f})")
    report = {"command": " ".join(["python", "stages/bench_serve.py", *(argv if argv is not None else sys.argv[1:])]),
              "cpu": cpu_name(), "threads": args.threads,
              "bandwidth_gb_s": bandwidth / 1e9, "requests": args.requests, "max_tokens": args.max_tokens,
              "results": results}
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "serving.json", report)
    (args.out / "serving.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
