"""Data stage: clean, deduplicate, decontaminate, split and chat-format the medical sets.

    python stages/data.py --config stages/configs/data.yaml [key=value ...]

Writes data/processed/ (see stages/medtune/data/__init__.py for the format) atomically.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from medtune.config import stage_cli
from medtune.data import card as data_card
from medtune.data.pipeline import DataConfig, SourceConfig, run
from medtune.files import atomic_dir, make_manifest, write_json, write_jsonl
from medtune.paths import configs_dir, repo_path
from medtune.stage import logger, stage_main

log = logger("data")


def write_outputs(result: dict, out: Path) -> dict:
    from datasets import Dataset, DatasetDict

    splits = result["splits"]
    for name, rows in splits.items():
        write_jsonl(out / f"{name}.jsonl", rows)
    write_jsonl(out / "dropped.jsonl", result["ledger"].dropped)
    DatasetDict({name: Dataset.from_list(rows) for name, rows in splits.items() if rows}).save_to_disk(str(out / "hf"))
    log("wrote JSONL and the datasets copy; measuring conversation lengths")
    lengths = data_card.token_lengths(splits, result["tokenizer"])
    card = data_card.build_card(splits, result["ledger"], lengths)
    write_json(out / "data_card.json", card)
    (out / "data_card.md").write_text(data_card.render_markdown(card), encoding="utf-8")
    data_card.plot_lengths(lengths, out / "token_lengths.png")
    return card


@stage_main
def main(argv: list[str] | None = None) -> int:
    started = time.time()
    os.environ["TOKENIZERS_PARALLELISM"] = "true"  # this stage never forks: let the tokenizer use every core
    cfg, _ = stage_cli(DataConfig, __doc__.splitlines()[0], configs_dir() / "data.yaml", argv)
    result = run(cfg)  # sources -> clean, deduplicate, decontaminate, split, format (medtune.data.pipeline)
    out_dir = repo_path(cfg.output_dir)
    with atomic_dir(out_dir) as tmp:
        card = write_outputs(result, tmp)
        inputs = {name: cfg.resolve(s.path) for name, s in cfg.sources
                  if isinstance(s, SourceConfig) and s.enabled and not s.hub_id}
        write_json(tmp / "manifest.json", make_manifest("data", cfg, inputs, started, splits=card["splits"]))
    log(f"wrote {out_dir} in {time.time() - started:.1f}s: {card['splits']}; "
        f"dropped {card['dropped_total']} rows (see data_card.md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
