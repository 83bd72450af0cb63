"""The preference stage's config (stages/configs/prefer/*.yaml) and its translation into TRL's DPOConfig.

The model, lora and merge sections are training's own, so a preference run's manifest reads like a training
run's (stages/recipe_experiments.py, the model card and export read it unchanged).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from .. import attention
from ..config import StrictModel
from ..data.preference import KINDS
from .config import DataSection, LoraSection, MergeSection, ModelSection, TrainConfig, TrainingSection


class PreferData(StrictModel):
    dir: str | None = None                # default: data/processed (pairs from train.jsonl, held out: validation.jsonl)
    max_length: int = Field(1024, ge=16)  # tokens of prompt + answer; longer chosen conversations get no pair (counted)


class PairsSection(StrictModel):
    # pairs per kind (medtune.data.preference.KINDS); 0 leaves a kind out
    caps: dict[str, int] = {kind: 1000 for kind in KINDS}
    eval_caps: dict[str, int] = {kind: 16 for kind in KINDS}  # held-out pairs per kind, from validation.jsonl
    runaway_factor: float = Field(2.5, gt=1)  # a runaway rejection runs to this many times the answer's length
    seed: int = 42
    only: bool = False  # build and count the pairs (printed as JSON), train nothing

    @model_validator(mode="after")
    def known_kinds(self):
        for name in ("caps", "eval_caps"):
            unknown = sorted(set(getattr(self, name)) - set(KINDS))
            if unknown:
                raise ValueError(f"pairs.{name}: unknown kinds {unknown}; kinds: {', '.join(KINDS)}")
            if any(v < 0 for v in getattr(self, name).values()):
                raise ValueError(f"pairs.{name}: caps must be >= 0")
        return self


class PreferTraining(StrictModel):
    method: str = "lora"                   # for readers of the manifest (the model card); DPO here is LoRA only
    beta: float = Field(0.1, gt=0)         # how far the policy may move from the reference (the start model)
    loss_type: list[str] = ["sigmoid"]     # TRL's DPO losses; ["sigmoid", "sft"] adds an SFT term on chosen (RPO)
    loss_weights: list[float] | None = None
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, ge=-1)      # > 0 overrides epochs
    batch_size: int = Field(8, ge=1)       # pairs per micro-batch (each pair is two sequences)
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(1e-5, gt=0, allow_inf_nan=False)
    lr_scheduler: str = "cosine"
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, ge=0)
    eval_steps: int | None = Field(None, ge=1)  # held-out DPO loss every N steps; always before and after training
    eval_batch_size: int | None = Field(None, ge=1)
    logging_steps: int = Field(10, ge=1)
    gradient_checkpointing: bool = False
    seed: int = 42


class PreferConfig(StrictModel):
    run_name: str = "smollm2-135m-dpo-cpu"
    # What DPO starts from and keeps as its reference: an SFT run under artifacts/ (its merged/ model), a merged
    # model folder, or a preset name (the base model itself; quick tests).
    start: str = "smollm2-135m-lora-cpu"
    model: ModelSection = ModelSection()
    lora: LoraSection = LoraSection()
    data: PreferData = PreferData()
    pairs: PairsSection = PairsSection()
    training: PreferTraining = PreferTraining()
    merge: MergeSection = MergeSection()
    report_to: list[str] = ["tensorboard"]

    @model_validator(mode="after")
    def padded_attention(self):
        if self.model.attn_implementation == attention.NAME:
            raise ValueError(f"model.attn_implementation={attention.NAME} needs padding-free batches, which TRL's "
                             "DPO trainer does not build: leave it unset (sdpa) or use eager")
        return self


def as_train_config(cfg: PreferConfig) -> TrainConfig:
    """The training config that load_for_training and merge_adapter read (plain LoRA, padded batches)."""
    return TrainConfig(run_name=cfg.run_name, model=cfg.model, lora=cfg.lora, merge=cfg.merge,
                       data=DataSection(dir=cfg.data.dir, max_length=cfg.data.max_length),
                       training=TrainingSection(seed=cfg.training.seed,
                                                gradient_checkpointing=cfg.training.gradient_checkpointing))


def dpo_config(cfg: PreferConfig, work: Path, dtype):
    from trl import DPOConfig

    from .config import trainer_args, trainer_kwargs

    t = cfg.training
    return trainer_args(DPOConfig, dict(
        trainer_kwargs(cfg, work, dtype),
        beta=t.beta, loss_type=list(t.loss_type), loss_weights=t.loss_weights,
        max_length=cfg.data.max_length, truncation_mode="keep_start",
        eval_strategy="steps" if t.eval_steps else "no", eval_steps=t.eval_steps,
        save_strategy="no",  # short runs: the adapter is written at the end (no resume)
    ))
