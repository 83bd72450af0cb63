"""Multiple-choice benchmarks scored like lm-evaluation-harness.

Prompt: `Question: ...\nA. ...\nB. ...\nAnswer:` (PubMedQA adds its abstract first), continuation
" A" / " B" / ...; the prediction is the option whose continuation has the highest summed
log-probability. k-shot prompts put k solved examples before the question: MMLU takes its dev rows of
the same subject, PubMedQA its train_dev rows, MedQA and MedMCQA k other items of the same set
(deterministic, never the scored item). Prompts are raw text without the chat template, as in the
harness.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from ..files import read_jsonl


@dataclass(frozen=True)
class Benchmark:
    folder: str                   # in the shared data folder
    test_file: str
    dev_file: str | None          # the k-shot examples; None: other items of the test file
    chance: float                 # accuracy of a uniform guess
    majority: float | None = None  # accuracy of always answering the most frequent class, where it differs


BENCHMARKS = {
    "medqa": Benchmark("medqa_usmle", "test_4options.jsonl", None, 0.25),
    "medmcqa": Benchmark("medmcqa", "validation.jsonl", None, 0.25),
    "pubmedqa": Benchmark("pubmedqa", "test.jsonl", "train_dev.jsonl", 1 / 3, 0.552),
    "mmlu": Benchmark("mmlu_medical", "test.jsonl", "dev.jsonl", 0.25),
}
REQUIRED = {"id": str, "question": str, "options": dict, "answer": str}


def load_benchmark(name: str, shared_dir: Path) -> tuple[list[dict], list[dict]]:
    """(test items, dev items) of a benchmark from the shared data folder."""
    bench = BENCHMARKS[name]
    base = Path(shared_dir) / bench.folder
    test = list(read_jsonl(base / bench.test_file, REQUIRED))
    dev = list(read_jsonl(base / bench.dev_file, REQUIRED)) if bench.dev_file else []
    for row in test:
        if row["answer"] not in row["options"]:
            raise ValueError(f"{base / bench.test_file}: item {row['id']}: field 'answer' {row['answer']!r} "
                             f"is not one of the options {sorted(row['options'])}")
    return test, dev


def category(row: dict) -> str | None:
    """The per-category breakdown key: MMLU / MedMCQA subject, MedQA step."""
    return row.get("subject") or row.get("step")


def format_item(row: dict, with_answer: bool = False) -> str:
    parts = []
    if row.get("context"):
        abstract = " ".join(c["text"] if isinstance(c, dict) else str(c) for c in row["context"])
        parts.append(f"Abstract: {abstract}")
    parts.append(f"Question: {row['question'].strip()}")
    parts += [f"{letter}. {str(text).strip()}" for letter, text in row["options"].items()]
    parts.append("Answer:" + (f" {row['answer']}" if with_answer else ""))
    return "\n".join(parts)


def fewshot_examples(row: dict, k: int, test: list[dict], dev: list[dict], seed: int) -> list[dict]:
    """k solved examples for `row`: same-subject dev rows if the set has dev rows, else other test items."""
    if k == 0:
        return []
    if dev:
        pool = [d for d in dev if d.get("subject") == row.get("subject")] if row.get("subject") else dev
        pool = pool or dev
    else:
        pool = test
    rng = random.Random(f"{seed}-{row['id']}")
    candidates = [p for p in pool if p["id"] != row["id"]]
    return rng.sample(candidates, min(k, len(candidates))) if len(candidates) > k else candidates[:k]


def build_prompt(row: dict, shots: list[dict]) -> str:
    header = ""
    if row.get("subject") and "mmlu" in row["id"]:
        header = f"The following are multiple choice questions (with answers) about {row['subject'].replace('_', ' ')}.\n\n"
    return header + "".join(format_item(s, with_answer=True) + "\n\n" for s in shots) + format_item(row)


@torch.no_grad()
def score_continuations(model, tokenizer, requests: list[tuple[str, str]], batch_size: int = 8,
                        max_length: int = 1024, progress=None) -> list[float]:
    """Summed log-probability of each continuation given its context.

    Context and continuation are tokenised separately and joined (as the harness does). The
    logits that score a continuation only depend on context + continuation[:-1], so all options
    of one question whose continuations are single tokens share one forward pass. Over-long inputs
    lose tokens from the left (the oldest few-shot examples first).
    """
    # Each distinct text is tokenised once, in one batch call: the options of a question share its context.
    texts = list(dict.fromkeys(t for request in requests for t in request))
    ids_of = dict(zip(texts, tokenizer(texts, add_special_tokens=False).input_ids)) if texts else {}
    encoded = []
    for ctx, cont in requests:
        ctx_ids, cont_ids = ids_of[ctx], ids_of[cont]
        if not cont_ids:
            raise ValueError(f"continuation {cont!r} encodes to no tokens")
        full = (ctx_ids + cont_ids)[-(max_length + 1):]
        encoded.append((tuple(full[:-1]), full[-len(cont_ids):]))
    inputs = sorted({inp for inp, _ in encoded}, key=len, reverse=True)
    logprobs: dict[tuple, torch.Tensor] = {}
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device
    keep = max(len(cont) for _, cont in encoded)
    if progress:
        progress(0, len(inputs))
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start:start + batch_size]
        width = len(batch[0])
        # Left padding puts every input's last positions at the end, so the model only has to
        # project the last `keep` positions onto the vocabulary (logits_to_keep).
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, inp in enumerate(batch):
            ids[i, width - len(inp):] = torch.tensor(inp)
            mask[i, width - len(inp):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                       logits_to_keep=keep).logits
        lp = torch.log_softmax(logits.float(), dim=-1).cpu()
        for i, inp in enumerate(batch):
            logprobs[inp] = lp[i]          # row j predicts the token after position len(inp) - keep + j
        if progress:
            progress(min(start + batch_size, len(inputs)), len(inputs))
    scores = []
    for inp, cont_ids in encoded:
        lp = logprobs[inp]
        first = keep - len(cont_ids)       # kept row whose logits predict cont_ids[0]
        scores.append(float(sum(lp[first + t, tok] for t, tok in enumerate(cont_ids))))
    return scores


def evaluate_items(model, tokenizer, name: str, items: list[dict], test: list[dict], dev: list[dict],
                   shots: int, seed: int, batch_size: int, max_length: int, progress=None) -> list[dict]:
    """Score every item of one benchmark at one k; one result row per item."""
    requests, owners = [], []
    for row in items:
        prompt = build_prompt(row, fewshot_examples(row, shots, test, dev, seed))
        for letter in row["options"]:
            requests.append((prompt, f" {letter}"))
            owners.append(row["id"])
    scores = score_continuations(model, tokenizer, requests, batch_size, max_length, progress)
    by_id: dict[str, dict[str, float]] = {}
    for (_, cont), owner, score in zip(requests, owners, scores):
        by_id.setdefault(owner, {})[cont.strip()] = score
    out = []
    for row in items:
        lp = by_id[row["id"]]
        pred = max(lp, key=lp.get)
        out.append({"id": row["id"], "benchmark": name, "shots": shots, "category": category(row),
                    "answer": row["answer"], "prediction": pred, "correct": pred == row["answer"],
                    "logprobs": {k: round(v, 4) for k, v in lp.items()}})
    return out
