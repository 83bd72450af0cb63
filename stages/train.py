"""Training stage: LoRA / QLoRA fine-tuning of a preset on data/processed, writing artifacts/<run>/.

    make train                                   # CPU profile of the embedded model (the default)
    make train TRAIN_CONFIG=stages/configs/train/qwen2.5-1.5b_qlora.yaml
    make train RESUME=1                          # continue from the last checkpoint
    python stages/train.py --config stages/configs/train/smollm2-135m_lora_cpu.yaml training.max_steps=20

Outputs in artifacts/<run_name>/: adapter/, merged/ (16-bit, tokenizer + chat template, generation config
whose EOS ids include the end-of-turn token), metrics.jsonl/.csv, tensorboard/, loss_curve.png,
train_summary.json and manifest.json. Checkpoints live in artifacts/<run_name>.work/.
"""

from __future__ import annotations

import os
import sys

from medtune.config import stage_cli
from medtune.envfile import use_secrets
from medtune.paths import configs_dir
from medtune.stage import stage_main
from medtune.training import TrainConfig, TrainError, run

DEFAULT_CONFIG = configs_dir() / "train" / "smollm2-135m_lora_cpu.yaml"


def check_tracking(cfg: TrainConfig) -> None:
    """Stop before any work when W&B logging is asked for (WANDB_API_KEY or report_to) but wandb is missing.

    Training on without it would lose the tracking the key asked for; stopping costs seconds.
    """
    if not (os.environ.get("WANDB_API_KEY") or "wandb" in cfg.report_to):
        return
    try:
        import wandb  # noqa: F401
    except ImportError:
        why = "WANDB_API_KEY is set" if os.environ.get("WANDB_API_KEY") else "report_to lists wandb"
        raise TrainError(f"{why}, so training logs to Weights & Biases, but the wandb package is not installed: "
                         "pip install -r requirements-extras.txt -c constraints.txt (in the venv), "
                         "or unset WANDB_API_KEY to train without it")


@stage_main
def main(argv: list[str] | None = None) -> int:
    cfg, _ = stage_cli(TrainConfig, __doc__.splitlines()[0], DEFAULT_CONFIG, argv)
    use_secrets("WANDB_API_KEY")  # from .env: make passes no secrets on
    check_tracking(cfg)
    run(cfg)  # inputs -> model -> training -> artifacts/<run>/ (medtune.training.pipeline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
