"""Preference stage: DPO (TRL) after SFT, on pairs built from data/processed, writing artifacts/<run>/.

    make prefer                                  # CPU profile: DPO on the embedded model's SFT run (make train first)
    make prefer PREFER_CONFIG=stages/configs/prefer/qwen2.5-coder-1.5b.yaml    # GPU, after the 1.5B SFT run
    python stages/prefer.py --config stages/configs/prefer/smollm2-135m_cpu.yaml start=smollm2-135m training.max_steps=4

Pairs (medtune.data.preference): chosen is the conversation's own answer (or the referral to a red flag), rejected
a refusal, the disclaimer alone, or a runaway; pairs_summary.json counts them per kind and the rows left out.
Outputs in artifacts/<run_name>/ have the layout of `make train` (adapter/, merged/, metrics.jsonl/.csv,
loss_curve.png, train_summary.json, manifest.json), so `make eval EVAL_RUN=<run_name>`, the report and export
read them unchanged.
"""

from __future__ import annotations

import sys

from medtune.config import stage_cli
from medtune.envfile import use_secrets
from medtune.paths import configs_dir
from medtune.stage import stage_main
from medtune.training.prefer import run
from medtune.training.prefer_config import PreferConfig

DEFAULT_CONFIG = configs_dir() / "prefer" / "smollm2-135m_cpu.yaml"


@stage_main
def main(argv: list[str] | None = None) -> int:
    cfg, _ = stage_cli(PreferConfig, __doc__.splitlines()[0], DEFAULT_CONFIG, argv)
    use_secrets("WANDB_API_KEY")  # from .env: make passes no secrets on
    run(cfg)  # pairs -> start model with a fresh adapter -> DPOTrainer -> artifacts/<run>/
    return 0


if __name__ == "__main__":
    sys.exit(main())
