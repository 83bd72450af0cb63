"""The training config (stages/configs/train/*.yaml): its sections, and their translation into TRL's SFTConfig."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from ..config import StrictModel
from ..models import DEFAULT_PRESET


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


def trainer_kwargs(cfg, work: Path, dtype) -> dict:
    """The TrainingArguments an SFT and a DPO run share (`cfg`: a TrainConfig or a PreferConfig)."""
    import torch

    t = cfg.training
    report_to = list(cfg.report_to)
    if os.environ.get("WANDB_API_KEY") and "wandb" not in report_to:
        report_to.append("wandb")
    return dict(
        output_dir=str(work / "checkpoints"), logging_dir=str(work / "tensorboard"),
        num_train_epochs=t.epochs, max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size, gradient_accumulation_steps=t.grad_accum,
        per_device_eval_batch_size=t.eval_batch_size or t.batch_size,
        learning_rate=t.learning_rate, lr_scheduler_type=t.lr_scheduler, warmup_ratio=t.warmup_ratio,
        weight_decay=t.weight_decay, max_grad_norm=t.max_grad_norm,
        # never average NaN/inf losses away: the log must show them (medtune.guards stops the run anyway)
        logging_nan_inf_filter=False,
        logging_steps=t.logging_steps, logging_first_step=True, report_to=report_to, run_name=cfg.run_name,
        seed=t.seed, data_seed=t.seed,
        # TRL defaults to bf16 and (DPO) gradient checkpointing: say what this run does
        bf16=dtype == torch.bfloat16, fp16=dtype == torch.float16, gradient_checkpointing=t.gradient_checkpointing,
        include_num_input_tokens_seen="non_padding", dataset_num_proc=None, use_cpu=not torch.cuda.is_available(),
    )


def trainer_args(config_class, kwargs: dict):
    """config_class(**kwargs) without the keys this TRL/transformers version does not have."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_class)}
    return config_class(**{k: v for k, v in kwargs.items() if k in names})


def sft_config(cfg: TrainConfig, work: Path, dtype):
    import dataclasses

    from trl import SFTConfig

    t = cfg.training
    kwargs = dict(
        trainer_kwargs(cfg, work, dtype),
        eval_strategy="steps", eval_steps=t.eval_steps, save_strategy="steps", save_steps=t.eval_steps,
        save_total_limit=t.save_total_limit, load_best_model_at_end=True,
        metric_for_best_model="eval_loss", greater_is_better=False,
        use_liger_kernel=t.liger,
        # The rows are already tokenized and cut to data.max_length (see tokenize_conversation).
        max_length=cfg.data.max_length if t.packing else None,
        packing=t.packing, padding_free=t.padding_free or t.packing,
    )  # the pad token comes from the tokenizer (set_pad_token), never the end-of-turn token
    names = {f.name for f in dataclasses.fields(SFTConfig)}
    if t.group_by_length and not (t.padding_free or t.packing):
        if "train_sampling_strategy" in names:   # transformers >= 5.2x
            kwargs["train_sampling_strategy"] = "group_by_length"
        elif "group_by_length" in names:
            kwargs["group_by_length"] = True
    return trainer_args(SFTConfig, kwargs)

