"""Self-distillation stage: the base model rewrites the MedQuAD training answers in its own words.

    make distill                                   # TRAIN_CONFIG's base model, data/processed -> data/processed-distilled
    python stages/distill.py model=qwen2.5-coder-1.5b limit=200
    make train TRAIN_ARGS="data.dir=data/processed-distilled"

Only single-turn rows of `sources` are rewritten (refusals, emergency referrals and the written sets keep their
wording); a rewrite is used only when it keeps the reference's content words (`min_fact_recall`), adds no number
and no contact detail and ends by itself; the rest keep their reference, counted by reason in distill_card.json.
Validation and test are copied unchanged, so evaluations stay comparable. Generation is greedy and batched; on a
GPU this is minutes for a 1.5B model, on a CPU use `limit`.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter

from medtune.config import StrictModel, stage_cli
from medtune.data import distill
from medtune.errors import StageError
from medtune.evaluation import progress
from medtune.files import atomic_dir, make_manifest, read_jsonl, write_json, write_jsonl
from medtune.paths import repo_path
from medtune.stage import logger, stage_main

log = logger("distill")


class DistillConfig(StrictModel):
    model: str | None = None               # the base preset (make passes TRAIN_CONFIG's model.preset)
    data_dir: str = "data/processed"
    out: str = "data/processed-distilled"
    sources: list[str] = ["medquad"]
    limit: int | None = None               # rewrite only the first N candidates (quick runs)
    max_new_tokens: int = 512
    batch_size: int = 256
    dtype: str = "bfloat16"
    min_fact_recall: float = 0.6           # share of the reference's content words the rewrite must keep
    min_words: int = 12


def load_generator(cfg: DistillConfig):
    import torch

    from medtune.evaluation.generation import LocalGenerator
    from medtune.evaluation.suite import load_for_inference

    dtype = cfg.dtype if torch.cuda.is_available() else "float32"  # bf16 on a CPU is slow
    model, spec, _ = load_for_inference(cfg.model, dtype=dtype)
    return LocalGenerator(model, spec)


@stage_main
def main(argv: list[str] | None = None) -> int:
    started = time.time()
    cfg, _ = stage_cli(DistillConfig, __doc__.splitlines()[0], None, argv)
    if not cfg.model:
        raise StageError("give model=<base preset> (make distill passes TRAIN_CONFIG's model.preset)")
    src, out_dir = repo_path(cfg.data_dir), repo_path(cfg.out)
    if not (src / "train.jsonl").is_file():
        raise StageError(f"{src / 'train.jsonl'} not found: run `make data` first")
    rows = list(read_jsonl(src / "train.jsonl"))
    chosen = distill.candidates(rows, cfg.sources)[:cfg.limit]
    log(f"rewriting {len(chosen)} of {len(rows)} training answers with {cfg.model}")
    generator = load_generator(cfg)
    rewrites = generator.generate([distill.rewrite_request(rows[i]) for i in chosen], cfg.max_new_tokens,
                                  cfg.batch_size, progress.bar("rewrites", "answer"))  # tqdm with an ETA
    reasons: Counter = Counter()
    words = {"reference": 0, "rewrite": 0}
    for i, rewrite in zip(chosen, rewrites):
        reference = distill.reference_answer(rows[i])
        why = distill.judge(rewrite, reference, cfg.min_fact_recall, cfg.min_words)
        reasons[why or "used"] += 1
        if why is None:
            words["reference"] += len(reference.split())
            words["rewrite"] += len(rewrite["text"].split())
            rows[i] = distill.apply(rows[i], rewrite["text"])
    with atomic_dir(out_dir) as tmp:
        write_jsonl(tmp / "train.jsonl", rows)
        for name in ("validation.jsonl", "test.jsonl"):
            shutil.copy(src / name, tmp / name)
        card = {"model": cfg.model, "candidates": len(chosen), "outcome": dict(sorted(reasons.items())),
                "mean_words_of_used": {k: round(v / max(1, reasons["used"]), 1) for k, v in words.items()}}
        write_json(tmp / "distill_card.json", card)
        write_json(tmp / "manifest.json", make_manifest("distill", cfg, {"data": src / "train.jsonl"}, started,
                                                        splits={"train": len(rows)}))
    log(f"wrote {out_dir}: {card['outcome']}; words of used answers {card['mean_words_of_used']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
