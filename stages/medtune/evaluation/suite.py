"""The evaluation suite's sets, each run on one model: multiple choice, open questions, LiveQA, safety.

stages/evaluate.py calls them in turn; each returns one row per item (the fields metrics.py reads).
Generated answers that failed are counted in `failures`; check_failures stops the stage when too many did.
"""

from __future__ import annotations

import contextlib
import random
import time

from .. import chat_format, models
from ..attention import disable_cudnn_attention
from ..errors import StageError
from ..files import read_jsonl
from ..model_spec import resolve_model
from ..paths import data_dir, shared_data_dir
from ..stage import logger
from . import liveqa, mc, progress, safety, text
from .config import EvalConfig
from .generation import reference_nll

log = logger("evaluate")


class EvalError(StageError):
    """The evaluation cannot give meaningful numbers: an input is missing or the endpoint failed too often."""


def gen_batch(cfg: EvalConfig) -> int:
    return cfg.generation_batch_size or cfg.batch_size


def sample(rows: list[dict], limit: int | None, seed: int, salt: str) -> list[dict]:
    """A deterministic sample: the same items for every model evaluated with the same seed."""
    if limit is None or limit >= len(rows):
        return rows
    picked = set(random.Random(f"{seed}-{salt}").sample(range(len(rows)), limit))
    return [r for i, r in enumerate(rows) if i in picked]


def load_local(cfg: EvalConfig):
    """The model, its ModelSpec (tokenizer, end-of-turn, pad, stops: as in training) and the device."""
    return load_for_inference(cfg.model, cfg.preset, cfg.dtype, cfg.device, cfg.threads)


def load_for_inference(name: str, preset: str | None = None, dtype: str = "float32", device: str = "auto",
                       threads: int | None = None):
    """A preset or merged folder ready to generate: (model, ModelSpec, device); also used by stages/distill.py."""
    import torch
    from transformers import AutoModelForCausalLM

    if threads:
        torch.set_num_threads(threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    spec = resolve_model(name, preset)
    model = AutoModelForCausalLM.from_pretrained(spec.path, dtype=getattr(torch, dtype))
    models.fit_embeddings(model, spec.tokenizer)  # rows for ChatML tokens resolve_model added, if any
    if device == "cuda":
        disable_cudnn_attention()  # a new cuDNN plan for every decoding length (see medtune.attention)
    return model.to(device).eval(), spec, device


def run_mc(cfg: EvalConfig, model, tokenizer) -> list[dict]:
    rows = []
    for name in cfg.mc.benchmarks:
        test, dev = mc.load_benchmark(name, shared_data_dir())
        items = sample(test, cfg.mc.limit, cfg.seed, name)
        for k in cfg.mc.shots:
            t0 = time.time()
            out = mc.evaluate_items(model, tokenizer, name, items, test, dev, k, cfg.seed, cfg.batch_size,
                                    cfg.mc.max_length, progress.bar(f"{name} {k}-shot", "prompt"))
            acc = sum(r["correct"] for r in out) / len(out)
            log(f"{name} {k}-shot: accuracy {acc:.3f} on {len(out)} items ({time.time() - t0:.0f}s)")
            rows += out
    return rows


def generation_row(result: dict, messages: list[dict], min_words: int = 8) -> dict:
    """The fields every generated answer gets, whatever set it belongs to."""
    prompt_text = " ".join(m["content"] for m in messages)
    answer = result["text"]
    row = {"prediction": answer, "new_tokens": result["new_tokens"], "runaway": not result["ended"],
           **safety.detector_fields(answer, prompt_text, min_words), "words": liveqa.words(answer),
           "history_turns": (len(messages) - 2) // 2}
    if row["history_turns"]:   # the earlier turns, so the report can show the whole conversation
        row["history"] = list(messages[1:-1])
    return row


def answered(what: str, cases: list, results: list[dict], failures: dict) -> list[tuple]:
    """(case, result) pairs whose request succeeded. Failed requests are left out and counted with
    their error; empty answers are kept (they score as non-answers) and counted."""
    count = failures.setdefault(what, {"answers": 0, "errors": 0, "empty": 0, "first_errors": []})
    kept = []
    for case, result in zip(cases, results):
        count["answers"] += 1
        if result.get("error"):
            count["errors"] += 1
            if len(count["first_errors"]) < 3:
                count["first_errors"].append(result["error"])
            continue
        count["empty"] += not result["text"].strip()
        kept.append((case, result))
    return kept


def check_failures(cfg: EvalConfig, failures: dict) -> None:
    """Stop when too many answers are missing: metrics of an endpoint that answers nothing mean nothing."""
    total = sum(f["answers"] for f in failures.values())
    bad = sum(f["errors"] + f["empty"] for f in failures.values())
    if not cfg.endpoint or not total or bad / total <= cfg.endpoint_max_failure_rate:
        return
    errors = [e for f in failures.values() for e in f["first_errors"]]
    per_set = ", ".join(f"{k}: {f['errors']} errors, {f['empty']} empty of {f['answers']}" for k, f in failures.items())
    raise EvalError(f"{cfg.endpoint}: {bad} of {total} answers failed or were empty "
                    f"({bad / total:.0%} > endpoint_max_failure_rate={cfg.endpoint_max_failure_rate}); {per_set}"
                    + (f"; first error: {errors[0]}" if errors else "") + ". No metrics were written.")


def run_open_qa(cfg: EvalConfig, generator, model, spec, max_new: int, failures: dict) -> list[dict]:
    path = data_dir() / "processed" / f"{cfg.open_qa.split}.jsonl"
    if not path.is_file():
        raise EvalError(f"{path} not found: run `make data` first")
    rows = [r for r in read_jsonl(path, {"id": str, "messages": list}) if r.get("category") != "refusal"]
    for i, r in enumerate(rows):
        chat_format.validate_messages(r["messages"], where=f"{path}:{i + 1}")
    rows = sample(rows, cfg.open_qa.limit, cfg.seed, "open_qa")
    results = generator.generate([r["messages"][:-1] for r in rows], max_new, gen_batch(cfg),
                                 progress.bar("open questions", "answer"))
    kept = answered("open_qa", rows, results, failures)
    rows, results = [r for r, _ in kept], [res for _, res in kept]
    prompts = [r["messages"][:-1] for r in rows]
    references = [r["messages"][-1]["content"] for r in rows]
    cosines = (text.cosine_similarities([text.strip_disclaimer(x["text"]) for x in results],
                                        [text.strip_disclaimer(ref) for ref in references])
               if cfg.open_qa.similarity else [None] * len(rows))
    nll = (reference_nll(model, spec, [r["messages"] for r in rows], cfg.batch_size,
                         cfg.open_qa.max_length, progress.bar("reference perplexity", "answer"))
           if model is not None and cfg.open_qa.perplexity else [{}] * len(rows))
    out = []
    for r, prompt, res, ref, cos, ppl in zip(rows, prompts, results, references, cosines, nll):
        out.append({"id": r["id"], "set": "open_qa", "category": r.get("category"), "question": prompt[-1]["content"],
                    "reference": ref, **generation_row(res, prompt, cfg.non_answer_min_words),
                    **text.answer_scores(res["text"], ref), "cosine": cos, "ref_nll": ppl.get("nll"),
                    "ref_tokens": ppl.get("tokens"), "advice": True})
    return out


def run_liveqa(cfg: EvalConfig, generator, max_new: int, failures: dict) -> list[dict]:
    """Real consumer questions (LiveQA), each answer scored against its best-matching reference."""
    items = sample(liveqa.load(shared_data_dir()), cfg.liveqa.limit, cfg.seed, "liveqa")
    prompts = [chat_format.prompt_messages(r["question"]) for r in items]
    results = generator.generate(prompts, max_new, gen_batch(cfg), progress.bar("LiveQA questions", "answer"))
    kept = answered("liveqa", list(zip(items, prompts)), results, failures)
    scores = liveqa.score_answers([res["text"] for _, res in kept], [item for (item, _), _ in kept],
                                  cfg.liveqa.similarity)
    return [{"id": item["id"], "set": "liveqa", "question": item["question"], **score,
             **generation_row(res, prompt, cfg.non_answer_min_words), "advice": True}
            for ((item, prompt), res), score in zip(kept, scores)]


def run_safety(cfg: EvalConfig, generator, max_new: int, failures: dict) -> list[dict]:
    s, seed = cfg.safety, cfg.seed
    harmful = list(read_jsonl(shared_data_dir() / "medsafetybench" / "test.jsonl", {"id": str, "question": str}))
    triage = safety.load_resource("emergency_triage.jsonl", {"id": str, "urgent": bool, "topic": str, "message": str})
    context = safety.load_resource("context_conversations.jsonl")
    benign = safety.load_resource("over_refusal.jsonl", safety.OVER_REFUSAL)
    cases = []   # (set, id, messages, extra fields)
    for r in sample(harmful, s.harmful_limit, seed, "harmful"):
        cases.append(("harmful", r["id"], chat_format.prompt_messages(r["question"]),
                      {"category": str(r.get("category"))}))
    for name, urgent, limit in (("emergency", True, s.emergency_limit), ("control", False, s.control_limit)):
        for r in sample([t for t in triage if t["urgent"] == urgent], limit, seed, name):
            cases.append((name, r["id"], chat_format.prompt_messages(r["message"]), {"category": r["topic"]}))
    for r in sample(benign, s.over_refusal_limit, seed, "over_refusal"):
        cases.append(("over_refusal", r["id"], chat_format.prompt_messages(r["question"]), {"category": r["category"]}))
    for r in sample(context, s.context_limit, seed, "context"):
        history = [m for turn in r["history"] for m in ({"role": "user", "content": turn["user"]},
                                                         {"role": "assistant", "content": turn["assistant"]})]
        cases.append(("context", r["id"], chat_format.prompt_messages(r["question"], history),
                      {"check": r["check"], "category": "context"}))
    results = generator.generate([c[2] for c in cases], max_new, gen_batch(cfg),
                                 progress.bar("safety and context", "answer"))
    out = []
    for (kind, cid, messages, extra), res in answered("safety", cases, results, failures):
        row = {"id": cid, "set": kind, "question": messages[-1]["content"],
               **generation_row(res, messages, cfg.non_answer_min_words),
               "advice": kind in ("control", "context", "over_refusal"), "category": extra["category"]}
        if kind == "context":
            row["passed"] = safety.check_passes(res["text"], extra["check"])
        out.append(row)
    return out


@contextlib.contextmanager
def stopwatch(timings: dict, key: str):
    """Time the block into timings[key] (seconds)."""
    started = time.time()
    yield
    timings[key] = round(time.time() - started, 1)


def failure_notes(failures: dict) -> list[str]:
    """Warn about the failed requests and empty answers below the threshold; the notes say it in metrics.json."""
    notes = []
    for what, f in failures.items():
        if f["errors"] or f["empty"]:
            log(f"warning: {what}: {f['errors']} failed requests (left out) and {f['empty']} empty answers "
                f"of {f['answers']}")
            notes.append(f"{what}: {f['errors']} failed requests were left out and {f['empty']} of {f['answers']} "
                         "answers were empty (scored as non-answers)")
    return notes


def generation_speed(items: dict, timings: dict) -> dict:
    """Answers and tokens generated over the generation-based sets, and the tokens per second."""
    sets = ("open_qa", "liveqa", "safety")
    generated = [r for name in sets for r in items.get(name, [])]
    if not generated:
        return {}
    tokens = sum(r["new_tokens"] or 0 for r in generated)
    seconds = sum(timings.get(f"{name}_s", 0) for name in sets)
    return {"generated_answers": len(generated), "generated_tokens": tokens,
            "generation_tokens_per_s": round(tokens / max(seconds, 1e-9), 1)}
