"""Re-scoring: apply the current rule-based detectors to an evaluation's stored answers, without a model.

    python stages/rescore.py artifacts/r1-dpo/eval/full [another eval folder ...]

A detector change (safety.py, its hand labels) then reaches past GPU evaluations. In open_qa.jsonl,
liveqa.jsonl and safety.jsonl every answer's detector fields (refused, referral, non_answer, disclaimer,
invented_contact, invented; `passed` of the context checks) are recomputed with safety.detector_fields, the
function the evaluation itself uses; answers, scores and other fields are kept. metrics.json gets its
metrics again from metrics.summarize over all per-item rows (the evaluation's bootstrap seed, from
manifest.json), the detectors' agreement with the hand labels, and a `rescored` note with the rates that
changed. Model-dependent numbers (multiple choice, perplexity, similarity) are copied from the rows as they are.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

from medtune.chat_format import prompt_messages
from medtune.errors import StageError
from medtune.evaluation import safety
from medtune.evaluation.metrics import GENERATED, ITEM_FILES, summarize
from medtune.files import read_jsonl, write_json, write_jsonl
from medtune.stage import logger, stage_main

log = logger("rescore")
SHOWN = ("safety/refusal_rate", "safety/over_refusal_rate", "safety/refused_emergency_rate",
         "safety/emergency_referral_rate", "safety/non_answer_rate", "safety/disclaimer_rate")


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise StageError(f"{path} not found: is {path.parent} an evaluation folder (stages/evaluate.py)?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise StageError(f"{path}: not valid JSON ({e})") from e


def rescore_row(row: dict, where: str, min_words: int, checks: dict[str, dict]) -> dict:
    """The row with its detector fields recomputed from its answer (and its prompt, for invented contacts)."""
    for name in ("prediction", "question"):
        if not isinstance(row.get(name), str):
            raise StageError(f"{where}: item {row.get('id')!r} has no text field '{name}'")
    prompt_text = " ".join(m["content"] for m in prompt_messages(row["question"], row.get("history")))
    out = {**row, **safety.detector_fields(row["prediction"], prompt_text, min_words)}
    if row.get("set") == "context":
        if row["id"] not in checks:
            raise StageError(f"{where}: context item {row['id']!r} is not in resources/context_conversations.jsonl")
        out["passed"] = safety.check_passes(row["prediction"], checks[row["id"]])
    return out


def rescore(folder: Path) -> dict[str, tuple]:
    """Rewrite the folder's per-item detector fields and metrics.json; returns key -> (before, after)."""
    meta = read_json(folder / "metrics.json")
    seed = read_json(folder / "manifest.json").get("config", {}).get("seed", 0)
    min_words = meta.get("non_answer_min_words", 8)
    checks = {r["id"]: r["check"] for r in safety.load_resource("context_conversations.jsonl")}
    items = {name: list(read_jsonl(folder / f"{name}.jsonl", {"id": str}))
             for name in ITEM_FILES if (folder / f"{name}.jsonl").is_file()}
    if not any(name in items for name in GENERATED):
        raise StageError(f"{folder}: none of {', '.join(f'{n}.jsonl' for n in GENERATED)} found")
    for name in GENERATED:
        if name in items:
            items[name] = [rescore_row(r, f"{folder / name}.jsonl", min_words, checks) for r in items[name]]
    before = meta.get("metrics", {})
    after = summarize(items, seed=seed)
    changed = {k: (before[k]["value"], after[k]["value"]) for k in after
               if k in before and before[k]["value"] != after[k]["value"]}
    for name in GENERATED:
        if name in items:
            tmp = folder / f".{name}.jsonl.rescoring"
            write_jsonl(tmp, items[name])
            tmp.replace(folder / f"{name}.jsonl")
    meta.update(metrics=after, refusal_detector=safety.refusal_detector_accuracy(),
                referral_detector=safety.referral_detector_accuracy())
    meta.setdefault("rescored", []).append({"at": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "seed": seed, "changed": {k: list(v) for k, v in changed.items()}})
    write_json(folder / "metrics.json", meta)
    return {k: (before.get(k, {}).get("value"), after[k]["value"]) for k in SHOWN if k in after}


@stage_main
def main(argv: list[str] | None = None) -> int:
    folders = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    if not folders or any(a.startswith("-") for a in map(str, folders)):
        raise StageError("usage: python stages/rescore.py EVAL_FOLDER [EVAL_FOLDER ...]")
    for folder in folders:
        for key, (old, new) in rescore(folder).items():
            old_text = "-" if old is None else f"{old:.3f}"
            log(f"{folder}: {key}: {old_text} -> {new:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
