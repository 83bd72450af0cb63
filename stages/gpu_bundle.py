"""Run the GPU stages on a bare, offline GPU machine that takes files in small transfers.

A lent or rented GPU box often has torch, transformers and peft but nothing else: no package index, no model
hub, and a limit on what one transfer carries. This script carries the rest there and the results back:

    # here: the bundle, split into parts that fit one transfer, and its manifest (SHA-256 of every part)
    python stages/gpu_bundle.py build --presets qwen2.5-coder-1.5b
    #   (--carry artifacts/r1-mix/adapter artifacts/baseline-qwen2.5-coder-1.5b/eval/full: reuse earlier results)
    # there, one transfer per part (each transfer carries .device/part-NN):
    python3 stages/gpu_bundle.py receive .device/part-00
    # there, with .device/manifest.json carried: verify every part, join, unpack, check the imports
    python3 stages/gpu_bundle.py unpack .device/manifest.json
    # there: a stage, with the arguments `make` would give it, then results into $OUT in chunks
    python3 stages/gpu_bundle.py stage baseline --train-config stages/configs/train/qwen2.5-coder-1.5b_lora.yaml --profile full
    python3 stages/gpu_bundle.py send artifacts/baseline-qwen2.5-coder-1.5b --to $OUT
    # there: or one recipe experiment (train as NAME, dev evaluation, report, record), its results into $OUT
    python3 stages/gpu_bundle.py experiment r2 --train-config stages/configs/train/qwen2.5-coder-1.5b_lora.yaml \\
        --note "what changed" training.learning_rate=5e-5
    # here: join the chunks that came back and unpack them into the checkout
    python stages/gpu_bundle.py assemble DIR [DIR ...]

The bundle holds the wheels the GPU image pins (docker/trainer/constraints-gpu.txt) that such a machine lacks,
for its Python, unpacked into site/; each preset's joined GGUF in medtune's cache layout (dequantized there
once); the MiniLM embedding model; the evaluation sets of the shared data; and data/processed.
Everything lives under $MEDTUNE_REMOTE (default /tmp/medtune-remote) on the GPU machine.

A lent machine can be taken back at any time and everything on it is lost: send the first part alone (it starts
the machine) and the rest back to back; run train + evaluation + `send` in one call; `send` packs the smallest
paths first so that whatever chunks came back hold whole files.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))
# standard library only at import (medtune.gpu_bundle's docstring says why): the GPU machine's bare python3 runs this
from medtune.gpu_bundle.here import assemble, build  # noqa: E402
from medtune.gpu_bundle.runs import experiment, stage  # noqa: E402
from medtune.gpu_bundle.there import receive, run_any, send, unpack  # noqa: E402
from medtune.stage import stage_main  # noqa: E402


@stage_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command_name", required=True)
    p = sub.add_parser("build", help="here: the bundle in parts that fit one transfer beside the checkout, in .device/")
    p.add_argument("--presets", nargs="+", default=["qwen2.5-coder-1.5b"])
    p.add_argument("--python", default="3.12", help="the GPU machine's Python version")
    p.add_argument("--cuda-major", default="13", help="the GPU machine's CUDA major version (bitsandbytes library)")
    p.add_argument("--carry", nargs="*", default=[], help="checkout paths to put back in place there, e.g. "
                   "artifacts/<sft-run>/adapter (merged there, not trained again) or artifacts/baseline-<preset>/eval/full")
    p.set_defaults(func=build)
    p = sub.add_parser("receive", help="there: keep carried parts until unpack")
    p.add_argument("parts", nargs="+")
    p.set_defaults(func=receive)
    p = sub.add_parser("unpack", help="there: verify, join, unpack, check imports")
    p.add_argument("manifest")
    p.set_defaults(func=unpack)
    p = sub.add_parser("stage", help="there: run a stage as make would")
    p.add_argument("name", choices=["baseline", "train", "eval", "report", "bench", "distill", "prefer"])
    p.add_argument("--train-config", type=Path, required=True)
    p.add_argument("--profile", default="full")
    p.add_argument("--run", help="another run than the config's (train, eval, report), e.g. a DPO run")
    p.add_argument("extra", nargs="*", help="more key=value overrides or flags for the stage script")
    p.set_defaults(func=stage)
    p = sub.add_parser("experiment", help="there: train + evaluate + report + record one recipe, results into $OUT")
    p.add_argument("name", help="the run name (artifacts/NAME) and the record's name")
    p.add_argument("--train-config", type=Path, required=True)
    p.add_argument("--profile", default="dev")
    p.add_argument("--note", default="", help="what this recipe changes, for the table")
    p.add_argument("--to", default=os.environ.get("OUT", "."))
    p.add_argument("--max-files", type=int, default=4)
    p.add_argument("train_args", nargs="*", help="training overrides, e.g. data.dir=data/processed-distilled")
    p.set_defaults(func=experiment)
    p = sub.add_parser("exec", help="there: any command with the bundle's environment")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=run_any)
    p = sub.add_parser("send", help="there: results into $OUT in chunks")
    p.add_argument("paths", nargs="*", help="repository-relative paths to pack (none: send what is left)")
    p.add_argument("--name", default="results")
    p.add_argument("--to", default=os.environ.get("OUT", "."))
    p.add_argument("--max-files", type=int, default=4, help="chunks of 15 MiB moved this call")
    p.set_defaults(func=send)
    p = sub.add_parser("assemble", help="here: join the chunks that came back and unpack them")
    p.add_argument("dirs", nargs="+")
    p.set_defaults(func=assemble)
    # key=value overrides may come before or after the options: argparse leaves the later ones unknown
    args, unknown = parser.parse_known_args(argv)
    overrides = "train_args" if hasattr(args, "train_args") else "extra" if hasattr(args, "extra") else None
    if unknown and (overrides is None or any(u.startswith("-") for u in unknown)):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if unknown:
        setattr(args, overrides, [*getattr(args, overrides), *unknown])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
