"""The preference run: pairs from data/processed -> LoRA on the start model -> TRL's DPOTrainer -> artifacts/<run>/.

The reference model is the start model itself: with a peft model TRL computes the reference log-probabilities
with the adapter disabled, so no second copy is loaded. The outputs have the layout `make train` writes (adapter/,
merged/, metrics.jsonl/.csv, loss_curve.png, train_summary.json, manifest.json), plus pairs_summary.json and
pairs_sample.jsonl, so evaluation, the report and export read a preference run like a training run.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from ..attention import disable_cudnn_attention
from ..chat_format import accepts_system_role, fold_system_prompt, render
from ..data.preference import KINDS, build_pairs
from ..files import atomic_dir, make_manifest, write_json, write_jsonl
from ..guards import NonFiniteGuard, NonFiniteTraining, divergence_message
from ..labels import TrainError, read_conversations
from ..model_spec import resolve_model
from ..models import PRESETS, get_preset, preset_of, prepare, record_source
from ..paths import artifacts_dir, data_dir, repo_path
from ..stage import logger
from .callbacks import LiveMetrics
from .model import load_for_training, merge_adapter
from .pipeline import peak_memory_bytes, write_metrics
from .prefer_config import PreferConfig, as_train_config, dpo_config

log = logger("prefer")
SAMPLE_PER_KIND = 3  # pairs of each kind written to pairs_sample.jsonl, to read what was trained


def start_folder(cfg: PreferConfig) -> str | None:
    """The model folder DPO starts from (None: the preset itself), checked against model.preset."""
    get_preset(cfg.model.preset)
    if cfg.start in PRESETS:
        if cfg.start != cfg.model.preset:
            raise TrainError(f"start={cfg.start} is a preset, but model.preset is {cfg.model.preset}: they must match")
        return None
    folder = repo_path(cfg.start) if "/" in cfg.start else artifacts_dir() / cfg.start / "merged"
    if not (folder / "config.json").is_file():
        raise TrainError(f"start={cfg.start}: no model in {folder}; train it first (`make train`, whose run_name "
                         f"names artifacts/<run>/merged), or start from a preset ({', '.join(PRESETS)})")
    if preset_of(str(folder)) != cfg.model.preset:
        raise TrainError(f"start={cfg.start}: {folder} was trained from {preset_of(str(folder))}, "
                         f"but model.preset is {cfg.model.preset}")
    return str(folder)


def read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        raise TrainError(f"{path} not found: run `make data` first (or set data.dir=...)")
    return read_conversations(path)


def make_pairs(cfg: PreferConfig, tokenizer) -> tuple[list[dict], list[dict], dict, dict[str, Path]]:
    """Training pairs from train.jsonl and held-out pairs from validation.jsonl, with their summary."""
    folder = Path(cfg.data.dir) if cfg.data.dir else data_dir() / "processed"
    paths = {"train": folder / "train.jsonl", "validation": folder / "validation.jsonl"}
    length = cfg.data.max_length

    def fits(row: dict) -> bool:  # the chosen conversation, as the trainer tokenizes it, ends within max_length
        return len(tokenizer(render(tokenizer, row["messages"]), add_special_tokens=False)["input_ids"]) <= length

    p = cfg.pairs
    train, train_summary = build_pairs(read_rows(paths["train"]), p.caps, p.seed, p.runaway_factor, fits)
    held_out, eval_summary = build_pairs(read_rows(paths["validation"]), p.eval_caps, p.seed, p.runaway_factor, fits)
    if not train or not held_out:
        empty = "training" if not train else "held-out"
        raise TrainError(f"no {empty} pairs (train: {train_summary}, held out: {eval_summary}); raise "
                         "data.max_length or the pairs caps")
    if not accepts_system_role(tokenizer):  # a template without a system role (Gemma): as in training
        for pair in train + held_out:
            pair["prompt"] = fold_system_prompt(pair["prompt"])
    return train, held_out, {"train": train_summary, "held_out": eval_summary}, paths


def preference_trainer(base):
    """TRL's DPOTrainer whose runaway rejections end without the end-of-turn token the chat template closes
    every assistant turn with: a runaway never stops, and that is what DPO should push down. (Stripping it from
    every rejection as well did not stop DPO from lengthening the 135M's answers: runaways 85% -> 95% against its
    SFT start, against 85% -> 97% without; see stages/configs/prefer/smollm2-135m_cpu.yaml.)"""

    class PreferenceTrainer(base):
        def __init__(self, *args, end_of_turn_id: int, **kwargs):
            self.end_of_turn_id = end_of_turn_id
            super().__init__(*args, **kwargs)

        def _prepare_dataset(self, dataset, *args, **kwargs):
            dataset = super()._prepare_dataset(dataset, *args, **kwargs)
            eot = self.end_of_turn_id

            def open_end(row):
                ids = row["rejected_ids"]
                if row["kind"] == "runaway" and eot in ids:
                    row["rejected_ids"] = ids[:len(ids) - 1 - ids[::-1].index(eot)]
                return row

            return dataset.map(open_end)

    return PreferenceTrainer


def run(cfg: PreferConfig) -> Path | None:
    """Build the pairs, train, merge, and write artifacts/<run_name>/; returns that folder (None: pairs.only)."""
    started = time.time()
    # counting pairs needs only the tokenizer, which SFT does not change: the preset's does then
    start = None if cfg.pairs.only else start_folder(cfg)
    spec = resolve_model(start or cfg.model.preset, preset=cfg.model.preset)
    tokenizer = spec.tokenizer
    train_pairs, held_out, pairs_summary, paths = make_pairs(cfg, tokenizer)
    counts = {kind: n for kind, n in pairs_summary["train"]["pairs"].items() if n}
    log(f"{len(train_pairs)} training pairs {counts}, {len(held_out)} held out; rows without a pair: "
        f"{pairs_summary['train']['skipped'] or 'none'}")
    if cfg.pairs.only:
        print(json.dumps(pairs_summary, indent=2), flush=True)
        return None

    import torch
    from datasets import Dataset
    from transformers import set_seed
    from trl import DPOTrainer

    final = artifacts_dir() / cfg.run_name
    work = artifacts_dir() / f"{cfg.run_name}.work"  # tensorboard and the live log; a new run starts it over
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(work / "tensorboard")  # where transformers puts it (not ./runs)
    train_cfg = as_train_config(cfg)
    set_seed(cfg.training.seed)
    disable_cudnn_attention()  # its backward returns NaN on some padded batches (see medtune.attention)
    model, peft_config, dtype = load_for_training(train_cfg, tokenizer, path=start)
    trainer = preference_trainer(DPOTrainer)(
        model=model, args=dpo_config(cfg, work, dtype), train_dataset=Dataset.from_list(train_pairs),
        eval_dataset=Dataset.from_list(held_out), processing_class=tokenizer, peft_config=peft_config,
        callbacks=[LiveMetrics(work / "metrics.live.jsonl"), NonFiniteGuard()],
        end_of_turn_id=tokenizer.convert_tokens_to_ids(spec.end_of_turn))
    t = cfg.training
    log(f"start: {start or cfg.model.preset}; {t.batch_size} x {t.grad_accum} pairs per step, learning rate "
        f"{t.learning_rate:g}, beta {t.beta:g}, loss {'+'.join(t.loss_type)}")
    try:
        initial = trainer.evaluate()
        set_seed(t.seed)
        result = trainer.train()
        final_eval = trainer.evaluate()
    except NonFiniteTraining as e:
        raise TrainError(divergence_message(e, work / "checkpoints")) from None
    except torch.cuda.OutOfMemoryError:
        raise TrainError("CUDA out of memory: lower training.batch_size (raise training.grad_accum), lower "
                         "data.max_length or set training.gradient_checkpointing=true") from None
    state = trainer.state
    nan = float("nan")
    log(f"held-out DPO loss {initial['eval_loss']:.4f} -> {final_eval['eval_loss']:.4f}, reward margin "
        f"{initial.get('eval_rewards/margins', nan):.3f} -> {final_eval.get('eval_rewards/margins', nan):.3f}, "
        f"accuracy {final_eval.get('eval_rewards/accuracies', nan):.2f}")

    with atomic_dir(final) as out:
        trainer.model.save_pretrained(out / "adapter")
        tokenizer.save_pretrained(out / "adapter")
        write_metrics(state.log_history, out)  # loss, rewards/chosen|rejected|margins|accuracies, logps
        plot_dpo(state.log_history, out / "loss_curve.png", f"{cfg.run_name} (DPO from {cfg.start})")
        if (work / "tensorboard").is_dir():
            shutil.copytree(work / "tensorboard", out / "tensorboard")
        write_json(out / "pairs_summary.json", pairs_summary)
        write_jsonl(out / "pairs_sample.jsonl",
                    [p for kind in KINDS for p in [q for q in train_pairs if q["kind"] == kind][:SAMPLE_PER_KIND]])
        del trainer, model
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if cfg.merge.enabled:
            merge_adapter(train_cfg, out / "adapter", out / "merged", spec, base=start)
            record_source(out / "merged", cfg.model.preset, run=cfg.run_name,
                          hub_id=get_preset(cfg.model.preset).hub_id, start=cfg.start)
        summary = summarize(state, result, initial, final_eval, started, torch)
        summary.update(train_rows=len(train_pairs), validation_rows=len(held_out), pairs=counts,
                       start=cfg.start, end_of_turn=spec.end_of_turn, pad_token=spec.pad_token)
        write_json(out / "train_summary.json", summary)
        inputs = {**paths, "data_manifest": paths["train"].parent / "manifest.json"}
        if start:
            inputs["start_manifest"] = Path(start).parent / "manifest.json"
        write_json(out / "manifest.json", make_manifest(
            "prefer", cfg, inputs, started, base_model=start or prepare(cfg.model.preset),
            hub_id=get_preset(cfg.model.preset).hub_id, **summary))
    log(f"wrote {final}")
    return final


def summarize(state, result, initial: dict, final_eval: dict, started: float, torch) -> dict:
    """train_summary.json: the keys `make train` writes, eval_loss being the held-out DPO loss, and the rewards."""
    train_logs = [r for r in state.log_history if "rewards/margins" in r]
    runtime = result.metrics.get("train_runtime") or (time.time() - started)
    tokens = int(state.num_input_tokens_seen or 0)
    return {
        "global_step": state.global_step, "max_steps": state.max_steps, "best_checkpoint_step": state.global_step,
        "eval_loss_initial": initial.get("eval_loss"), "eval_loss_final": final_eval.get("eval_loss"),
        "eval_rewards_margin_initial": initial.get("eval_rewards/margins"),
        "eval_rewards_margin_final": final_eval.get("eval_rewards/margins"),
        "eval_rewards_accuracy_final": final_eval.get("eval_rewards/accuracies"),
        "train_rewards_margin_first": train_logs[0]["rewards/margins"] if train_logs else None,
        "train_rewards_margin_last": train_logs[-1]["rewards/margins"] if train_logs else None,
        "train_loss_last": next((r["loss"] for r in reversed(state.log_history) if "loss" in r), None),
        "tokens_seen": tokens or None, "tokens_per_s": round(tokens / runtime, 1) if tokens and runtime else None,
        "train_runtime_s": round(runtime, 2), "peak_memory_bytes": peak_memory_bytes(),
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
    }


def plot_dpo(log_history: list[dict], path: Path, title: str) -> None:
    """loss_curve.png: the DPO loss (training and held out) beside the reward margin (chosen minus rejected)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (loss_ax, margin_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, name in ((loss_ax, "loss", "DPO loss"), (margin_ax, "rewards/margins", "reward margin")):
        for prefix, label, style in (("", "training", "-"), ("eval_", "held out", "o-")):
            points = [(r["step"], r[prefix + key]) for r in log_history if prefix + key in r]
            if points:
                ax.plot(*zip(*points), style, label=f"{label} {name}")
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
