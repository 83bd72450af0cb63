"""Supervised fine-tuning with LoRA / QLoRA: config, tokenization with assistant-only labels, the run.

`stages/train.py` is the command line; this module holds what other stages reuse:
`tokenize_conversation` (evaluation computes the perplexity of reference answers with the same labels)
and `set_pad_token` (the end-of-turn token must never be the padding token).

Labels: the conversation is rendered once with the model's chat template (chat_format.render); each
assistant turn is located by rendering the conversation up to that turn with and without it, so the
tokens of every assistant answer *and its end-of-turn token* are trained, and nothing else is. The
trainer receives ready `input_ids` + `labels`; its collator pads labels with -100 by position, and the
pad token is a different token from the end-of-turn token anyway.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
import resource
import shutil
import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from . import attention
from .chat_format import end_of_turn_token, render, validate_messages
from .config import StrictModel
from .files import InputError, atomic_dir, make_manifest, read_jsonl, write_json, write_jsonl
from .guards import (NonFiniteGuard, NonFiniteTraining, disable_cudnn_attention, divergence_message,
                     non_finite_tensors)
from .models import DEFAULT_PRESET, fit_embeddings, get_preset, load_model, load_tokenizer, prepare, record_source
from .paths import artifacts_dir, cache_dir, data_dir

IGNORE_INDEX = -100
# Tokens tried as padding when the tokenizer pads with its end-of-turn token (SmolLM2: pad == eos == <|im_end|>).
PAD_CANDIDATES = ("<|endoftext|>", "<|finetune_right_pad_id|>", "<pad>", "<|pad|>", "<unk>")


class TrainError(RuntimeError):
    """A problem the user can fix; the message says how."""


# ----------------------------------------------------------------------------------------------- config

class ModelSection(StrictModel):
    preset: str = DEFAULT_PRESET          # `python -m medtune.models list`
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"  # auto: bf16 on CUDA, fp32 on CPU
    # None: the library default (sdpa). "varlen": PyTorch's variable-length Flash Attention kernel for
    # padding-free batches (medtune.attention); also "flash_attention_2", "flex_attention", "eager", ...
    attn_implementation: str | None = None


class LoraSection(StrictModel):
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | None = None  # None: the preset's list for its architecture
    # peft casts every adapter's input to the adapter's fp32 weights: a full copy of the activations per
    # adapted layer, forward and backward. Under bf16/fp16 autocast the matmuls run in 16-bit anyway, so
    # the project skips that copy (false); true keeps peft's default.
    upcast_inputs: bool = False


class DataSection(StrictModel):
    dir: str | None = None               # default: data/processed (written by `make data`)
    max_length: int = Field(512, ge=8)   # tokens per conversation
    overlong: Literal["truncate", "drop"] = "truncate"  # what happens to longer ones (drop keeps every end-of-turn)
    max_train_samples: int | None = Field(None, ge=1)  # random subset (seeded) for quick runs
    max_eval_samples: int | None = Field(None, ge=1)


class TrainingSection(StrictModel):
    backend: Literal["hf", "unsloth"] = "hf"
    method: Literal["lora", "qlora"] = "lora"
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, ge=-1)    # > 0 overrides epochs
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(2e-4, gt=0, allow_inf_nan=False)
    lr_scheduler: str = "cosine"
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, ge=0)  # 0: no clipping
    eval_steps: int = Field(50, ge=1)    # validation loss every N steps; checkpoints at the same steps
    eval_batch_size: int | None = Field(None, ge=1)
    save_total_limit: int = Field(2, ge=1)  # plus the best checkpoint, which is always kept
    early_stopping_patience: int | None = Field(3, ge=1)  # evaluations without improvement; None disables
    early_stopping_threshold: float = Field(0.0, ge=0)
    padding_free: bool = False           # concatenate a batch into one row with position ids (no padding)
    packing: bool = False                # best-fit packing to max_length (implies padding-free)
    group_by_length: bool = True         # batches of similar length (padded mode)
    gradient_checkpointing: bool = False
    liger: bool = False                  # Liger's Triton RMSNorm/SwiGLU/RoPE kernels (GPU; TRL already fuses the LM head)
    torch_compile: bool = False          # torch.compile each decoder layer (regional: compiled once, reused)
    throughput_skip_steps: int = Field(3, ge=0)  # steps left out of the measured tokens/s (warm-up, compilation)
    # Skip two per-micro-batch walks of the stock Trainer over the model: the FLOPs estimate recounts every
    # parameter, and model.train() revisits every module although nothing changed (see lean_trainer).
    lean_trainer: bool = True
    # [first, last]: torch.profiler over these optimizer steps -> artifacts/<run>.work/profile.txt (CPU and
    # CUDA time per op, the step's wall time beside the GPU's busy time) and profile_trace.json.gz
    profile_steps: tuple[int, int] | None = None
    logging_steps: int = Field(10, ge=1)
    seed: int = 42
    stop_after_steps: int | None = Field(None, ge=1)  # stop early keeping checkpoints; continue with resume=true
    resume: bool = False                 # continue from the last checkpoint (`make train RESUME=1`)
    fresh: bool = False                  # delete the checkpoints of an earlier run and start over (`make train FRESH=1`)


class MergeSection(StrictModel):
    enabled: bool = True
    only: bool = False                   # merge artifacts/<run>/adapter again (e.g. trained on a pod), no training
    dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"  # the base is reloaded in this dtype


class TrainConfig(StrictModel):
    run_name: str = "smollm2-135m-lora-cpu"
    model: ModelSection = ModelSection()
    lora: LoraSection = LoraSection()
    data: DataSection = DataSection()
    training: TrainingSection = TrainingSection()
    merge: MergeSection = MergeSection()
    report_to: list[str] = ["tensorboard"]  # "wandb" is added when WANDB_API_KEY is set


# ------------------------------------------------------------------------------------------ tokenization

def set_pad_token(tokenizer, end_of_turn: str) -> str:
    """Make the pad token differ from the end-of-turn token; return the pad token used."""
    if tokenizer.pad_token is not None and tokenizer.pad_token != end_of_turn:
        return tokenizer.pad_token
    vocab = tokenizer.get_vocab()
    for candidate in PAD_CANDIDATES:
        if candidate in vocab and candidate != end_of_turn:
            tokenizer.pad_token = candidate
            return candidate
    raise TrainError(f"no padding token distinct from the end-of-turn token {end_of_turn!r}; "
                     f"the tokenizer has none of {PAD_CANDIDATES}")


def assistant_spans(tokenizer, messages: list[dict], end_of_turn: str,
                    only_last: bool = False) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant answers (end-of-turn included)."""
    text = render(tokenizer, messages)
    spans = []
    indices = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    for i in indices[-1:] if only_last else indices:
        before = render(tokenizer, messages[:i], add_generation_prompt=True)
        upto = render(tokenizer, messages[: i + 1])
        if not (text.startswith(before) and text.startswith(upto) and upto.startswith(before)):
            raise TrainError("the chat template does not render a conversation as a prefix of its "
                             "continuation; assistant-only labels cannot be located")
        eot = upto.rfind(end_of_turn, len(before))
        if eot < 0:
            raise TrainError(f"the chat template does not close assistant turns with {end_of_turn!r}")
        spans.append((len(before), eot + len(end_of_turn)))
    return text, spans


def tokenize_conversation(tokenizer, messages: list[dict], end_of_turn: str,
                          max_length: int | None = None, only_last: bool = False) -> dict:
    """`input_ids` and `labels` (-100 outside assistant answers) for one conversation.

    Every assistant turn is trained (only the last with only_last=True, for reference-answer
    perplexity); each turn's end-of-turn token is inside its labels.
    """
    text, spans = assistant_spans(tokenizer, messages, end_of_turn, only_last)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids, labels = list(enc["input_ids"]), []
    for token_id, (start, end) in zip(input_ids, enc["offset_mapping"]):
        inside = any(s <= start and end <= e and end > start for s, e in spans)
        labels.append(token_id if inside else IGNORE_INDEX)
    if max_length is not None:
        input_ids, labels = input_ids[:max_length], labels[:max_length]
    return {"input_ids": input_ids, "labels": labels}


def load_split(path: Path, tokenizer, end_of_turn: str, max_length: int, limit: int | None,
               seed: int, dropped: dict[str, int], overlong: str = "truncate") -> list[dict]:
    """Tokenized rows of one processed split; rows with no trainable token are counted in `dropped`."""
    rows = list(read_jsonl(path, required={"messages": list}))
    for lineno, row in enumerate(rows, start=1):
        try:
            validate_messages(row["messages"], where=f"{path}:{lineno}")
        except ValueError as e:
            raise InputError(str(e)) from None
    if limit is not None and limit < len(rows):
        random.Random(seed).shuffle(rows)  # a seeded random subset; tokenized only until `limit` rows are kept
    out = []
    for row in rows:
        item = tokenize_conversation(tokenizer, row["messages"], end_of_turn, None if overlong == "drop" else max_length)
        if len(item["input_ids"]) > max_length:
            key = f"{path.stem}: longer than data.max_length={max_length} (data.overlong=drop)"
            dropped[key] = dropped.get(key, 0) + 1
            continue
        if all(label == IGNORE_INDEX for label in item["labels"]):
            key = f"{path.stem}: prompt longer than data.max_length={max_length}"
            dropped[key] = dropped.get(key, 0) + 1
            continue
        out.append(item)
        if limit is not None and len(out) == limit:
            break
    return out


# ---------------------------------------------------------------------------------------------- the run

def processed_dir(cfg: TrainConfig) -> Path:
    return Path(cfg.data.dir) if cfg.data.dir else data_dir() / "processed"


def check_inputs(cfg: TrainConfig) -> tuple[Path, Path]:
    get_preset(cfg.model.preset)  # raises with the list of presets
    folder = processed_dir(cfg)
    train, val = folder / "train.jsonl", folder / "validation.jsonl"
    for path in (train, val):
        if not path.is_file():
            raise TrainError(f"{path} not found: run `make data` first (or set data.dir=...)")
    return train, val


def resolve_dtype(name: str):
    import torch

    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, name)


def check_device(cfg: TrainConfig) -> None:
    import torch

    if cfg.training.liger and not torch.cuda.is_available():
        print("[train] training.liger=true needs a CUDA GPU (Triton kernels): training without it here", flush=True)
        cfg.training.liger = False

    method, backend = cfg.training.method, cfg.training.backend
    if (method == "qlora" or backend == "unsloth") and not torch.cuda.is_available():
        raise TrainError(f"training.{'backend=unsloth' if backend == 'unsloth' else 'method=qlora'} needs an "
                         "NVIDIA GPU with CUDA (4-bit NF4 and unsloth kernels do not run on a CPU); on this "
                         "machine use training.backend=hf training.method=lora")
    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true" and (method == "qlora" or backend == "unsloth"):
        raise TrainError(f"training.{'backend=unsloth' if backend == 'unsloth' else 'method=qlora'} does not run "
                         "sharded: FSDP (ACCELERATE_CONFIG=fsdp_lora) is for training.method=lora with "
                         "training.backend=hf; a QLoRA preset fits one GPU, so use DDP (ACCELERATE_CONFIG=ddp)")


def load_for_training(cfg: TrainConfig, tokenizer):
    """The base model (and for unsloth the LoRA-wrapped model) plus the peft config TRL should apply."""
    import torch

    preset = get_preset(cfg.model.preset)
    targets = cfg.lora.target_modules or list(preset.lora_targets)
    dtype = resolve_dtype(cfg.model.dtype)
    method, backend = cfg.training.method, cfg.training.backend
    new_tokens = list(getattr(tokenizer, "added_chat_tokens", ()))
    if new_tokens and backend == "unsloth":
        raise TrainError(f"preset {preset.name}: its tokenizer needed new tokens {new_tokens} for the chat "
                         "format, whose embeddings must be trained; use training.backend=hf")
    if backend == "unsloth":
        from unsloth import FastLanguageModel  # must be imported before trl/transformers patch points are used

        model, _ = FastLanguageModel.from_pretrained(
            model_name=prepare(cfg.model.preset), max_seq_length=cfg.data.max_length, dtype=dtype,
            load_in_4bit=method == "qlora")
        model = FastLanguageModel.get_peft_model(
            model, r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
            target_modules=targets, bias="none", random_state=cfg.training.seed,
            use_gradient_checkpointing="unsloth" if cfg.training.gradient_checkpointing else False)
        return model, None, dtype
    from peft import LoraConfig

    kwargs = {}
    if cfg.model.attn_implementation == attention.NAME:
        if not (cfg.training.padding_free or cfg.training.packing):
            raise TrainError(f"model.attn_implementation={attention.NAME} needs padding-free batches: "
                             "set training.padding_free=true (or use sdpa with padded batches)")
        attention.register()
    if cfg.model.attn_implementation:
        kwargs["attn_implementation"] = cfg.model.attn_implementation
    if method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype if dtype != torch.float32 else torch.bfloat16)
    model = load_model(cfg.model.preset, dtype=dtype, **kwargs)
    fit_embeddings(model, tokenizer)
    peft_config = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                             target_modules=targets, bias="none", task_type="CAUSAL_LM",
                             **new_token_rows(model, tokenizer.convert_tokens_to_ids(new_tokens)))
    return model, peft_config, dtype


def new_token_rows(model, ids: list[int]) -> dict:
    """LoraConfig arguments that train the embedding rows of new tokens (LoRA alone never touches them).

    The output rows matter as much as the input ones: without them the model cannot learn to emit the
    end-of-turn token. TRL's fused loss multiplies by `lm_head.weight` itself, which sees neither peft's
    token rows nor a LoRA on the head, so the head is trained whole (modules_to_save); a tied head shares
    the whole embedding matrix, which is then trained whole too.
    """
    if not ids:
        return {}
    names = {id(m): n for n, m in model.named_modules()}
    embed, head = model.get_input_embeddings(), model.get_output_embeddings()
    if head.weight is embed.weight:
        return {"modules_to_save": [names[id(embed)]], "ensure_weight_tying": True}
    return {"trainable_token_indices": {names[id(embed)]: ids}, "modules_to_save": [names[id(head)]]}


def sft_config(cfg: TrainConfig, work: Path, dtype):
    import dataclasses

    import torch
    from trl import SFTConfig

    t = cfg.training
    report_to = list(cfg.report_to)
    if os.environ.get("WANDB_API_KEY") and "wandb" not in report_to:
        report_to.append("wandb")
    kwargs = dict(
        output_dir=str(work / "checkpoints"), logging_dir=str(work / "tensorboard"),
        num_train_epochs=t.epochs, max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size, gradient_accumulation_steps=t.grad_accum,
        per_device_eval_batch_size=t.eval_batch_size or t.batch_size,
        learning_rate=t.learning_rate, lr_scheduler_type=t.lr_scheduler, warmup_ratio=t.warmup_ratio,
        weight_decay=t.weight_decay, max_grad_norm=t.max_grad_norm,
        eval_strategy="steps", eval_steps=t.eval_steps, save_strategy="steps", save_steps=t.eval_steps,
        save_total_limit=t.save_total_limit, load_best_model_at_end=True,
        metric_for_best_model="eval_loss", greater_is_better=False,
        # never average NaN/inf losses away: the log must show them (medtune.guards stops the run anyway)
        logging_nan_inf_filter=False,
        logging_steps=t.logging_steps, logging_first_step=True, report_to=report_to, run_name=cfg.run_name,
        seed=t.seed, data_seed=t.seed, bf16=dtype == torch.bfloat16, fp16=dtype == torch.float16,
        gradient_checkpointing=t.gradient_checkpointing,
        use_liger_kernel=t.liger,
        include_num_input_tokens_seen="non_padding",
        # The rows are already tokenized and cut to data.max_length (see tokenize_conversation).
        max_length=cfg.data.max_length if t.packing else None,
        packing=t.packing, padding_free=t.padding_free or t.packing,
        dataset_num_proc=None, use_cpu=not torch.cuda.is_available(),
    )  # the pad token comes from the tokenizer (set_pad_token), never the end-of-turn token
    names = {f.name for f in dataclasses.fields(SFTConfig)}
    if t.group_by_length and not (t.padding_free or t.packing):
        if "train_sampling_strategy" in names:   # transformers >= 5.2x
            kwargs["train_sampling_strategy"] = "group_by_length"
        elif "group_by_length" in names:
            kwargs["group_by_length"] = True
    return SFTConfig(**{k: v for k, v in kwargs.items() if k in names})


def peak_memory_bytes() -> dict:
    import torch

    out = {"cpu_max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    if torch.cuda.is_available():
        out["gpu_max_allocated"] = torch.cuda.max_memory_allocated()
        out["gpu_max_reserved"] = torch.cuda.max_memory_reserved()
    return out


def write_metrics(log_history: list[dict], out: Path) -> None:
    write_jsonl(out / "metrics.jsonl", log_history)
    keys = sorted({k for row in log_history for k in row})
    with open(out / "metrics.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(log_history)


def plot_loss(log_history: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(r["step"], r["loss"]) for r in log_history if "loss" in r]
    evals = [(r["step"], r["eval_loss"]) for r in log_history if "eval_loss" in r]
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot(*zip(*train), label="train loss (assistant tokens)")
    if evals:
        ax.plot(*zip(*evals), marker="o", label="validation loss")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def merge_adapter(cfg: TrainConfig, adapter: Path, out: Path, tokenizer, end_of_turn: str) -> None:
    """Merge the adapter into a freshly loaded 16-bit base (never into 4-bit weights) and save it."""
    from peft import PeftModel

    dtype = resolve_dtype(cfg.merge.dtype)
    base = load_model(cfg.model.preset, dtype=dtype)
    fit_embeddings(base, tokenizer)  # the adapter was trained on a base resized to this tokenizer
    peft_model = PeftModel.from_pretrained(base, str(adapter))
    bad = non_finite_tensors({n: p for n, p in peft_model.named_parameters() if "lora_" in n})
    merged = peft_model.merge_and_unload()
    bad += non_finite_tensors(merged.state_dict())
    if bad:
        raise TrainError(f"{adapter}: refusing to merge: {len(bad)} tensors hold NaN or inf "
                         f"(first: {bad[0]}); the run diverged, see the training log")
    eos_ids = [tokenizer.convert_tokens_to_ids(end_of_turn)]
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos_ids:
        eos_ids.append(tokenizer.eos_token_id)
    merged.config.pad_token_id = tokenizer.pad_token_id
    merged.config.eos_token_id = eos_ids[0]
    merged.generation_config.eos_token_id = eos_ids
    merged.generation_config.pad_token_id = tokenizer.pad_token_id
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    record_source(out, cfg.model.preset, run=cfg.run_name, hub_id=get_preset(cfg.model.preset).hub_id)


def train_if_needed(module, mode: bool = True):
    """module.train(mode), skipped when the module is already in that mode (eval() and train() both recurse)."""
    return module if module.training == mode else type(module).train(module, mode)


def lean_trainer(base):
    """`base` (a Trainer class) without two walks over the whole model on every micro-batch.

    On a small model the GPU waits for the CPU (reports/bench-train.md), so these matter: the stock
    `floating_point_ops` calls `num_parameters()` (a pass over every module) for the logged FLOPs, and
    `training_step` calls `model.train()` (setattr on every module) though the mode has not changed.
    """
    import types

    class LeanTrainer(base):
        _parameters = None

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.model.train = types.MethodType(train_if_needed, self.model)

        def floating_point_ops(self, inputs) -> int:
            main = getattr(self.model, "main_input_name", "input_ids")
            if main not in inputs or not hasattr(self.model, "num_parameters"):
                return 0
            if self._parameters is None:  # counted once: the parameters do not change during training
                self._parameters = self.model.num_parameters(exclude_embeddings=True)
            return 6 * inputs[main].numel() * self._parameters

    return LeanTrainer


def keep_adapter_inputs_in_compute_dtype(model) -> None:
    """Stop peft from copying each adapter's input to fp32 (see LoraSection.upcast_inputs)."""
    for layer in model.modules():
        if hasattr(layer, "cast_input_dtype_enabled"):
            layer.cast_input_dtype_enabled = False


def compile_decoder_layers(model) -> int:
    """torch.compile every decoder layer in place (module names and checkpoints unchanged).

    The layers share one structure, so the graph is compiled once and reused; the LM head and the
    loss stay eager (TRL's fused LM-head kernel does not compile). Returns the number of layers.
    """
    names = set(getattr(getattr(model, "get_base_model", lambda: model)(), "_no_split_modules", None) or ())
    layers = [m for m in model.modules() if type(m).__name__ in names]
    if not layers:
        raise TrainError("training.torch_compile: no decoder layers found (the model names none in _no_split_modules)")
    for layer in layers:
        layer.compile(dynamic=True)  # conversation lengths change every batch
    print(f"[train] torch.compile: {len(layers)} {type(layers[0]).__name__} layers", flush=True)
    return len(layers)


def chat_tokenizer(cfg: TrainConfig):
    """The preset's tokenizer with its end-of-turn token and a pad token distinct from it."""
    tokenizer = load_tokenizer(cfg.model.preset)
    end_of_turn = end_of_turn_token(tokenizer, get_preset(cfg.model.preset).end_of_turn)
    return tokenizer, end_of_turn, set_pad_token(tokenizer, end_of_turn)


def merge_only(cfg: TrainConfig) -> Path:
    """Rebuild artifacts/<run>/merged from artifacts/<run>/adapter (e.g. only the adapter came back from a GPU)."""
    final = artifacts_dir() / cfg.run_name
    adapter = final / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise TrainError(f"{adapter} has no adapter_config.json: train first (merge.only=true only re-merges)")
    tokenizer, end_of_turn, _ = chat_tokenizer(cfg)
    tmp = final / "merged.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    merge_adapter(cfg, adapter, tmp, tokenizer, end_of_turn)
    shutil.rmtree(final / "merged", ignore_errors=True)
    tmp.rename(final / "merged")
    print(f"[train] merged {adapter} into {final / 'merged'}", flush=True)
    return final


def synced_clock() -> float:
    """time.perf_counter() once the GPU has finished the work queued so far (so timings include it)."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


class _StopAfter:
    """Trainer callback: stop after N steps with a checkpoint, so a later run can resume."""

    def __new__(cls, steps: int):
        from transformers import TrainerCallback

        class StopAfter(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if state.global_step >= steps:
                    control.should_save = True
                    control.should_training_stop = True

        return StopAfter()


class _TokensAtStart:
    """Trainer callback: the tokens already seen when training (re)starts."""

    def __new__(cls):
        from transformers import TrainerCallback

        class TokensAtStart(TrainerCallback):
            at_start = 0

            def on_train_begin(self, args, state, control, **kwargs):
                self.at_start = int(state.num_input_tokens_seen or 0)

        return TokensAtStart()


class _Throughput:
    """Trainer callback: tokens/s of the optimizer steps alone (evaluation, checkpoints and warm-up excluded).

    Each step is timed between CUDA synchronisations, so the clock sees the GPU work of that step; the
    tokens are the real (non-padding) ones the trainer counts.
    """

    def __new__(cls, skip_steps: int):
        from transformers import TrainerCallback

        class Throughput(TrainerCallback):
            seconds, tokens, steps = 0.0, 0, 0
            _t0 = _tokens0 = None

            def on_step_begin(self, args, state, control, **kwargs):
                self._t0, self._tokens0 = synced_clock(), int(state.num_input_tokens_seen or 0)

            def on_step_end(self, args, state, control, **kwargs):
                if self._t0 is None:
                    return
                elapsed = synced_clock() - self._t0
                if state.global_step > skip_steps:
                    self.seconds += elapsed
                    self.tokens += int(state.num_input_tokens_seen or 0) - self._tokens0
                    self.steps += 1
                self._t0 = None

            def summary(self) -> dict:
                return {"measured_steps": self.steps, "measured_tokens": self.tokens,
                        "measured_seconds": round(self.seconds, 3),
                        "step_tokens_per_s": round(self.tokens / self.seconds, 1) if self.seconds else None}

        return Throughput()


class _Profile:
    """Trainer callback: torch.profiler over optimizer steps first..last (where the time of a step goes)."""

    def __new__(cls, first: int, last: int, work: Path):
        import gzip

        import torch
        from transformers import TrainerCallback

        activities = [torch.profiler.ProfilerActivity.CPU]
        if torch.cuda.is_available():
            activities.append(torch.profiler.ProfilerActivity.CUDA)

        class Profile(TrainerCallback):
            profiler, started = None, 0.0

            def on_step_begin(self, args, state, control, **kwargs):
                if state.global_step + 1 == first:  # the step about to run is step `first`
                    self.started = synced_clock()
                    self.profiler = torch.profiler.profile(activities=activities)
                    self.profiler.__enter__()

            def on_step_end(self, args, state, control, **kwargs):
                if self.profiler is None or state.global_step < last:
                    return
                wall = synced_clock() - self.started
                self.profiler.__exit__(None, None, None)
                table = self.profiler.key_averages()
                busy = sum(e.self_device_time_total for e in table if e.device_type != torch.autograd.DeviceType.CPU)
                steps = last - first + 1
                head = f"steps {first}-{last}: {wall / steps * 1e3:.1f} ms per step (profiled)"
                if torch.cuda.is_available():
                    head += f", GPU kernels busy {busy / 1e3 / steps:.1f} ms per step"
                head += "\n\n"
                sort_gpu = "self_device_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
                (work / "profile.txt").write_text(
                    head + table.table(sort_by=sort_gpu, row_limit=30, max_name_column_width=60) + "\n"
                    + table.table(sort_by="self_cpu_time_total", row_limit=30, max_name_column_width=60),
                    encoding="utf-8")
                trace = work / "profile_trace.json"
                self.profiler.export_chrome_trace(str(trace))
                with open(trace, "rb") as src, gzip.open(f"{trace}.gz", "wb") as dst:
                    shutil.copyfileobj(src, dst)
                trace.unlink()
                print(f"[train] profile of steps {first}-{last}: {work / 'profile.txt'}", flush=True)
                self.profiler = None

        return Profile()


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def describe_batch(t: TrainingSection, processes: int, fsdp: bool = False) -> str:
    """The log line that states the global batch and the learning rate a run starts with."""
    mode = "" if processes == 1 else f" ({'FSDP, sharded' if fsdp else 'DDP'})"
    return (f"[train] global batch: {t.batch_size} per process x {t.grad_accum} accumulation x {processes} "
            f"process{'es' if processes > 1 else ''}{mode} = {t.batch_size * t.grad_accum * processes} "
            f"conversations per optimizer step; learning rate {t.learning_rate:g} ({t.lr_scheduler}, "
            f"warm-up {t.warmup_ratio:g})")


def evaluate_before_training(trainer, path: Path) -> None:
    """The validation loss of the base model with its fresh adapter, written to `path` (initial_eval.json)."""
    try:
        metrics = trainer.evaluate()
    except NonFiniteTraining:
        raise TrainError("the validation loss of the base model with the new adapter is NaN or inf before any "
                         "training: check model.dtype (float16 overflows on some models) and the attention "
                         "kernel (model.attn_implementation)") from None
    if not is_main_process():  # every process gets the same gathered metrics; the first one reports them
        write_json(path.with_name(f"{path.stem}.rank{os.environ.get('RANK')}.json"), metrics)
        return
    write_json(path, metrics)
    print(f"[train] validation loss before training: {metrics['eval_loss']:.4f}", flush=True)


class _EvaluateAtTrainBegin:
    """Trainer callback: the initial evaluation of a run with several processes, once training has wrapped the model.

    trainer.evaluate() before trainer.train() prepares the model for inference only, and accelerate then
    takes it as prepared: training skips the DDP wrapper, so each process trains its own copy on its own
    batches (measured: different gradients per process), and FSDP2 refuses the evaluation outright
    (huggingface/transformers#39961). Evaluating here, after the wrap, avoids both; the entry the
    evaluation adds to the log history is removed, so the logs match those of a single process.
    """

    def __new__(cls, evaluate):
        from transformers import TrainerCallback

        class EvaluateAtTrainBegin(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                entries = len(state.log_history)
                evaluate()
                del state.log_history[entries:]

        return EvaluateAtTrainBegin()


class _LiveMetrics:
    """Trainer callback: append every log line to metrics.live.jsonl, so a run can be watched."""

    def __new__(cls, path: Path):
        from transformers import TrainerCallback

        class LiveMetrics(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if not state.is_world_process_zero:
                    return
                with open(path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"step": state.global_step, **(logs or {})}) + "\n")

        return LiveMetrics()


def _checkpoints(folder: Path) -> list[Path]:
    """checkpoint-<step> folders, oldest step first."""
    return sorted((p for p in folder.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                  key=lambda p: int(p.name.split("-")[-1]))


def _trainer_state(checkpoint: Path) -> dict | None:
    """The checkpoint's trainer_state.json, which the trainer writes last: None when it is missing or torn."""
    try:
        return json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return None


def start_or_resume(t: TrainingSection, work: Path) -> str | None:
    """What happens to the checkpoints in artifacts/<run>.work: the one to resume from, or None (a fresh start).

    Never deletes checkpoints unless asked (training.fresh); an incomplete last checkpoint (killed while it
    was written) is moved to <work>/torn/ and the run resumes from the one before it.
    """
    checkpoints = _checkpoints(work / "checkpoints")
    if t.resume and t.fresh:
        raise TrainError("training.resume and training.fresh exclude each other (RESUME=1 continues the "
                         "checkpoints, FRESH=1 deletes them)")
    if t.resume:
        while checkpoints and _trainer_state(checkpoints[-1]) is None:
            torn = checkpoints.pop()
            if is_main_process():
                moved = work / "torn" / torn.name
                shutil.rmtree(moved, ignore_errors=True)
                moved.parent.mkdir(parents=True, exist_ok=True)
                torn.rename(moved)
                print(f"[train] notice: {torn.name} is incomplete (no readable trainer_state.json; interrupted "
                      f"while it was saved): moved to {moved}, resuming from the checkpoint before it", flush=True)
        if not checkpoints:
            raise TrainError(f"nothing to resume: no complete checkpoint in {work / 'checkpoints'}; "
                             "run without RESUME=1")
        print(f"[train] resuming from {checkpoints[-1]}", flush=True)
        return str(checkpoints[-1])
    if checkpoints and not t.fresh:
        state = _trainer_state(checkpoints[-1]) or {}
        step, total = state.get("global_step", "?"), state.get("max_steps", "?")
        finished = " (a finished run: starting over also replaces its outputs)" if step == total else ""
        raise TrainError(f"{work} holds {len(checkpoints)} checkpoint(s) of an earlier run, the last at step "
                         f"{step} of {total}{finished}; starting over would delete them. Continue that run with "
                         "`make train RESUME=1` (training.resume=true), or delete them with `make train FRESH=1` "
                         "(training.fresh=true)")
    if work.exists() and is_main_process():
        if checkpoints:
            print(f"[train] training.fresh: deleting {len(checkpoints)} checkpoint(s) in {work}", flush=True)
        shutil.rmtree(work)
    return None


def run(cfg: TrainConfig) -> Path | None:
    """Train, then write artifacts/<run>/; returns it (None when stopped early by stop_after_steps)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if cfg.merge.only:
        return merge_only(cfg)
    started = time.time()
    train_path, val_path = check_inputs(cfg)
    check_device(cfg)
    final = artifacts_dir() / cfg.run_name
    work = artifacts_dir() / f"{cfg.run_name}.work"  # checkpoints, tensorboard: survives interruptions
    resume_from = start_or_resume(cfg.training, work)
    if cfg.training.backend == "unsloth":
        check_unsloth()
    import torch
    from datasets import Dataset
    from transformers import EarlyStoppingCallback, set_seed
    from trl import SFTTrainer

    t = cfg.training
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(work / "tensorboard")
    work.mkdir(parents=True, exist_ok=True)

    preset = get_preset(cfg.model.preset)
    tokenizer, end_of_turn, pad_token = chat_tokenizer(cfg)
    dropped: dict[str, int] = {}
    train_rows = load_split(train_path, tokenizer, end_of_turn, cfg.data.max_length,
                            cfg.data.max_train_samples, t.seed, dropped, cfg.data.overlong)
    val_rows = load_split(val_path, tokenizer, end_of_turn, cfg.data.max_length,
                          cfg.data.max_eval_samples, t.seed, dropped, cfg.data.overlong)
    if not train_rows or not val_rows:
        raise TrainError(f"no trainable rows left (dropped: {dropped}); raise data.max_length")
    print(f"[train] {len(train_rows)} train / {len(val_rows)} validation conversations, "
          f"{sum(len(r['input_ids']) for r in train_rows)} train tokens; dropped {dropped or 'none'}", flush=True)

    torch.manual_seed(t.seed)
    disable_cudnn_attention()  # its backward returns NaN on some padded batches (see medtune.guards)
    model, peft_config, dtype = load_for_training(cfg, tokenizer)
    tokens_meter = _TokensAtStart()
    throughput = _Throughput(t.throughput_skip_steps)
    callbacks = [_LiveMetrics(work / "metrics.live.jsonl"), tokens_meter, throughput, NonFiniteGuard()]
    if t.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(t.early_stopping_patience, t.early_stopping_threshold))
    if t.stop_after_steps:
        callbacks.append(_StopAfter(t.stop_after_steps))
    if t.profile_steps:
        callbacks.append(_Profile(*t.profile_steps, work))
    trainer_class = lean_trainer(SFTTrainer) if t.lean_trainer else SFTTrainer
    trainer = trainer_class(model=model, args=sft_config(cfg, work, dtype),
                         train_dataset=Dataset.from_list(train_rows), eval_dataset=Dataset.from_list(val_rows),
                         processing_class=tokenizer, peft_config=peft_config, callbacks=callbacks)
    if not cfg.lora.upcast_inputs and dtype != torch.float32:
        keep_adapter_inputs_in_compute_dtype(trainer.model)
    if t.torch_compile:
        compile_decoder_layers(trainer.model)

    if is_main_process():
        print(describe_batch(t, trainer.args.world_size, trainer.is_fsdp_enabled), flush=True)
    initial_path = work / "initial_eval.json"
    if not t.resume and trainer.args.world_size == 1:
        evaluate_before_training(trainer, initial_path)
    elif not t.resume:  # several processes: after the trainer has wrapped the model (see _EvaluateAtTrainBegin)
        trainer.add_callback(_EvaluateAtTrainBegin(lambda: evaluate_before_training(trainer, initial_path)))
    # The train sampler draws its order from the global RNG when training starts: seed it here so that a
    # resumed run (which skips the evaluation above) replays the same batches as an uninterrupted one.
    set_seed(t.seed)
    try:
        result = trainer.train(resume_from_checkpoint=resume_from)
    except NonFiniteTraining as e:
        raise TrainError(divergence_message(e, work / "checkpoints")) from None
    except torch.cuda.OutOfMemoryError:
        raise TrainError("CUDA out of memory: lower training.batch_size (raise training.grad_accum to keep "
                         "the effective batch), lower data.max_length, set training.gradient_checkpointing=true, "
                         "or use training.method=qlora") from None
    state = trainer.state
    if t.stop_after_steps and state.global_step == t.stop_after_steps < state.max_steps:
        print(f"[train] stopped after {state.global_step} steps as asked (training.stop_after_steps); "
              f"continue with `make train RESUME=1`", flush=True)
        return None
    if trainer.is_fsdp_enabled:  # a sharded adapter: every process takes part in gathering it (FULL_STATE_DICT)
        trainer.save_model(str(work / "adapter"))
    if not trainer.is_world_process_zero():  # under `accelerate launch` the first process writes the outputs
        return None
    best_eval = state.best_metric  # eval_loss of the best checkpoint, which load_best_model_at_end restored
    peak = peak_memory_bytes()
    tokens_seen = int(state.num_input_tokens_seen)
    tokens_this_run = tokens_seen - tokens_meter.at_start  # a resumed run counts only its own tokens per second
    runtime = result.metrics.get("train_runtime") or (time.time() - started)
    initial = json.loads(initial_path.read_text()) if initial_path.is_file() else {}
    print(f"[train] validation loss {initial.get('eval_loss', float('nan')):.4f} -> {best_eval:.4f} "
          f"(best checkpoint {state.best_model_checkpoint})", flush=True)

    with atomic_dir(final) as out:
        if trainer.is_fsdp_enabled:
            shutil.copytree(work / "adapter", out / "adapter")
        else:
            trainer.model.save_pretrained(out / "adapter")
        tokenizer.save_pretrained(out / "adapter")
        write_metrics(state.log_history, out)
        plot_loss(state.log_history, out / "loss_curve.png", f"{cfg.run_name} ({preset.name}, {t.method})")
        if (work / "tensorboard").is_dir():
            shutil.copytree(work / "tensorboard", out / "tensorboard")
        del trainer, model
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if cfg.merge.enabled:
            merge_adapter(cfg, out / "adapter", out / "merged", tokenizer, end_of_turn)
        summary = {
            "global_step": state.global_step, "max_steps": state.max_steps,
            "best_checkpoint_step": _step_of(state.best_model_checkpoint),
            "eval_loss_initial": initial.get("eval_loss"), "eval_loss_final": best_eval,
            "train_loss_last": next((r["loss"] for r in reversed(state.log_history) if "loss" in r), None),
            "tokens_seen": tokens_seen, "tokens_per_s": round(tokens_this_run / runtime, 1) if runtime else None,
            "train_runtime_s": round(runtime, 2), "throughput": throughput.summary(), "peak_memory_bytes": peak,
            "train_rows": len(train_rows), "validation_rows": len(val_rows), "dropped": dropped,
            "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
            "end_of_turn": end_of_turn, "pad_token": pad_token, "resumed": t.resume,
        }
        write_json(out / "train_summary.json", summary)
        write_json(out / "manifest.json", make_manifest(
            "train", cfg, {"train": train_path, "validation": val_path,
                           "data_manifest": processed_dir(cfg) / "manifest.json"},
            started, base_model=prepare(cfg.model.preset), hub_id=preset.hub_id, **summary))
    print(f"[train] wrote {final}", flush=True)
    return final


def _step_of(checkpoint: str | None) -> int | None:
    with contextlib.suppress(TypeError, ValueError):
        return int(Path(checkpoint).name.split("-")[-1])
    return None


def check_unsloth() -> None:
    # unsloth writes generated code into the working directory unless told otherwise
    os.environ.setdefault("UNSLOTH_COMPILE_LOCATION", str(cache_dir() / "unsloth_compiled_cache"))
    try:
        import unsloth  # noqa: F401  (imported first so it can patch transformers and trl)
    except ImportError as e:
        raise TrainError(f"training.backend=unsloth: cannot import unsloth ({e}); install the GPU extras "
                         "(docker/trainer/requirements-gpu.txt) or use training.backend=hf") from None
