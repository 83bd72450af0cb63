"""Loading the raw sets, from the offline copies (default) or from the Hugging Face hub.

Each source yields plain dicts with the fields the pipeline uses. A bad row stops the stage with
an error naming file, line and field, or (strict: false) is skipped and counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .. import envfile
from ..files import InputError, read_jsonl

MEDQUAD_FIELDS = {"id": str, "question": str, "answer": str, "qtype": str, "focus": str, "source": str}
SAFETY_FIELDS = {"id": str, "question": str, "answer": str, "category": (int, str)}


def load_rows(path: Path | None, required: dict, strict: bool, skipped: list[dict],
              hub_id: str | None = None, hub_split: str = "train",
              field_map: dict[str, str] | None = None) -> Iterator[dict]:
    """Rows of one source: a local JSONL file, or a hub dataset when `hub_id` is set."""
    if not hub_id:
        yield from read_jsonl(path, required, strict=strict, skipped=skipped)
        return
    from datasets import load_dataset  # only users with internet get here

    field_map = field_map or {}
    for i, row in enumerate(load_dataset(hub_id, split=hub_split, token=envfile.secret("HF_TOKEN")), start=1):
        row = {field_map.get(k, k): v for k, v in row.items()}
        row.setdefault("id", f"{hub_id}/{hub_split}/{i}")
        missing = [f for f in required if f not in row or row[f] is None]
        if missing:
            err = InputError(f"{hub_id}[{hub_split}] row {i}: field '{missing[0]}' is missing "
                             f"(map it with field_map)")
            if strict:
                raise err
            skipped.append({"file": hub_id, "line": i, "reason": str(err)})
            continue
        yield {k: (str(v) if k in ("id", "category") else v) for k, v in row.items()}


def benchmark_texts(name: str, row: dict) -> list[str]:
    """The texts of one evaluation item that training data must not contain."""
    texts = [row.get("question") or "", row.get("message") or ""]
    for turn in row.get("history") or []:  # the project's multi-turn context set
        if isinstance(turn, dict):
            texts += [str(v) for v in turn.values()]
    options = row.get("options")
    if isinstance(options, dict):
        texts += [str(v) for v in options.values()]
    elif isinstance(options, list):
        texts += [str(v) for v in options]
    for field in ("long_answer", "answer_text"):
        if isinstance(row.get(field), str):
            texts.append(row[field])
    return [t for t in texts if t]
