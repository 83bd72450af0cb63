"""The training run: tokenized splits -> model with a fresh adapter -> SFTTrainer -> artifacts/<run>/.

`stages/train.py` is the command line; the steps it takes live beside this module (checks, checkpoints,
model, callbacks, speed-ups) and the labels in medtune.labels.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import resource
import shutil
import time
from pathlib import Path

from ..files import atomic_dir, make_manifest, write_json, write_jsonl
from ..attention import disable_cudnn_attention
from ..guards import NonFiniteGuard, NonFiniteTraining, divergence_message
from ..labels import TrainError, load_split
from ..model_spec import resolve_model
from ..models import get_preset, prepare
from ..paths import artifacts_dir
from ..stage import logger
from .callbacks import EvaluateAtTrainBegin, LiveMetrics, Profile, StopAfter, Throughput, TokensAtStart
from .checkpoints import is_main_process, start_or_resume
from .checks import check_device, check_inputs, check_unsloth, processed_dir
from .config import TrainConfig, TrainingSection, sft_config
from .model import load_for_training, merge_adapter, merge_only
from .speedups import compile_decoder_layers, keep_adapter_inputs_in_compute_dtype, lean_trainer

log = logger("train")


def run(cfg: TrainConfig) -> Path | None:
    """Train, then write artifacts/<run>/; returns it (None when stopped early by stop_after_steps)."""
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
    spec = resolve_model(cfg.model.preset)
    tokenizer, end_of_turn = spec.tokenizer, spec.end_of_turn
    dropped: dict[str, int] = {}
    train_rows = load_split(train_path, tokenizer, end_of_turn, cfg.data.max_length,
                            cfg.data.max_train_samples, t.seed, dropped, cfg.data.overlong)
    val_rows = load_split(val_path, tokenizer, end_of_turn, cfg.data.max_length,
                          cfg.data.max_eval_samples, t.seed, dropped, cfg.data.overlong)
    if not train_rows or not val_rows:
        raise TrainError(f"no trainable rows left (dropped: {dropped}); raise data.max_length")
    log(f"{len(train_rows)} train / {len(val_rows)} validation conversations, "
        f"{sum(len(r['input_ids']) for r in train_rows)} train tokens; dropped {dropped or 'none'}")

    torch.manual_seed(t.seed)
    disable_cudnn_attention()  # its backward returns NaN on some padded batches (see medtune.attention)
    model, peft_config, dtype = load_for_training(cfg, tokenizer)
    tokens_meter = TokensAtStart()
    throughput = Throughput(t.throughput_skip_steps)
    callbacks = [LiveMetrics(work / "metrics.live.jsonl"), tokens_meter, throughput, NonFiniteGuard()]
    if t.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(t.early_stopping_patience, t.early_stopping_threshold))
    if t.stop_after_steps:
        callbacks.append(StopAfter(t.stop_after_steps))
    if t.profile_steps:
        callbacks.append(Profile(*t.profile_steps, work))
    trainer_class = lean_trainer(SFTTrainer) if t.lean_trainer else SFTTrainer
    trainer = trainer_class(model=model, args=sft_config(cfg, work, dtype),
                         train_dataset=Dataset.from_list(train_rows), eval_dataset=Dataset.from_list(val_rows),
                         processing_class=tokenizer, peft_config=peft_config, callbacks=callbacks)
    if not cfg.lora.upcast_inputs and dtype != torch.float32:
        keep_adapter_inputs_in_compute_dtype(trainer.model)
    if t.torch_compile:
        compile_decoder_layers(trainer.model)

    if is_main_process():
        log(describe_batch(t, trainer.args.world_size, trainer.is_fsdp_enabled))
    initial_path = work / "initial_eval.json"
    if not t.resume and trainer.args.world_size == 1:
        evaluate_before_training(trainer, initial_path)
    elif not t.resume:  # several processes: after the trainer has wrapped the model (see EvaluateAtTrainBegin)
        trainer.add_callback(EvaluateAtTrainBegin(lambda: evaluate_before_training(trainer, initial_path)))
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
        log(f"stopped after {state.global_step} steps as asked (training.stop_after_steps); "
            f"continue with `make train RESUME=1`")
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
    log(f"validation loss {initial.get('eval_loss', float('nan')):.4f} -> {best_eval:.4f} "
        f"(best checkpoint {state.best_model_checkpoint})")

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
            merge_adapter(cfg, out / "adapter", out / "merged", spec)
        summary = {
            "global_step": state.global_step, "max_steps": state.max_steps,
            "best_checkpoint_step": _step_of(state.best_model_checkpoint),
            "eval_loss_initial": initial.get("eval_loss"), "eval_loss_final": best_eval,
            "train_loss_last": next((r["loss"] for r in reversed(state.log_history) if "loss" in r), None),
            "tokens_seen": tokens_seen, "tokens_per_s": round(tokens_this_run / runtime, 1) if runtime else None,
            "train_runtime_s": round(runtime, 2), "throughput": throughput.summary(), "peak_memory_bytes": peak,
            "train_rows": len(train_rows), "validation_rows": len(val_rows), "dropped": dropped,
            "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
            "end_of_turn": end_of_turn, "pad_token": spec.pad_token, "resumed": t.resume,
        }
        write_json(out / "train_summary.json", summary)
        write_json(out / "manifest.json", make_manifest(
            "train", cfg, {"train": train_path, "validation": val_path,
                           "data_manifest": processed_dir(cfg) / "manifest.json"},
            started, base_model=prepare(cfg.model.preset), hub_id=preset.hub_id, **summary))
    log(f"wrote {final}")
    return final


def _step_of(checkpoint: str | None) -> int | None:
    with contextlib.suppress(TypeError, ValueError):
        return int(Path(checkpoint).name.split("-")[-1])
    return None


def describe_batch(t: TrainingSection, processes: int, fsdp: bool = False) -> str:
    """The log message that states the global batch and the learning rate a run starts with."""
    mode = "" if processes == 1 else f" ({'FSDP, sharded' if fsdp else 'DDP'})"
    return (f"global batch: {t.batch_size} per process x {t.grad_accum} accumulation x {processes} "
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
    log(f"validation loss before training: {metrics['eval_loss']:.4f}")


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
