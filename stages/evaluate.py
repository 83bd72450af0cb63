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
import sys
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from medtune import envfile, models
from medtune.config import stage_cli
from medtune.evaluation import judge as judging
from medtune.evaluation import mc, safety
from medtune.evaluation.config import EvalConfig
from medtune.evaluation.generation import EndpointGenerator, LocalGenerator
from medtune.evaluation.metrics import summarize
from medtune.evaluation.suite import (EvalError, check_failures, failure_notes, generation_row, generation_speed,
                                      load_local, run_liveqa, run_mc, run_open_qa, run_safety, stopwatch)
from medtune.files import atomic_dir, make_manifest, write_json, write_jsonl
from medtune.paths import artifacts_dir, configs_dir, data_dir, shared_data_dir
from medtune.stage import logger, stage_main

__all__ = ["EvalConfig", "generation_row", "main"]   # the config and the row builder, also used by tests
log = logger("evaluate")
# the numbers printed at the end (all of them are in metrics.json)
HEADLINE = ("open_qa/rougeL", "open_qa/f1", "liveqa/no_overlap/f1", "safety/refusal_rate",
            "safety/emergency_referral_rate", "safety/refused_emergency_rate", "safety/over_refusal_rate",
            "safety/non_answer_rate", "safety/runaway_rate")
ENDPOINT_NOTE = ("endpoint mode: multiple choice and reference perplexity need token log-probabilities of arbitrary "
                 "continuations, which /v1/chat/completions does not give; they were skipped.")


def endpoint_shorthand(argv: list[str] | None) -> list[str]:
    """`--endpoint URL` is a shorthand for the endpoint=URL override."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--endpoint" in argv:
        i = argv.index("--endpoint")
        argv[i:i + 2] = [f"endpoint={argv[i + 1]}"]
    return argv


def default_out(cfg: EvalConfig) -> Path:
    if cfg.out:
        return Path(cfg.out)
    if cfg.endpoint:
        return artifacts_dir() / f"endpoint-{cfg.endpoint_model}" / "eval" / cfg.profile
    path = Path(cfg.model)
    if path.is_dir():   # artifacts/<run>/merged -> artifacts/<run>/eval/<profile>
        return path.resolve().parent / "eval" / cfg.profile
    return artifacts_dir() / f"baseline-{cfg.model}" / "eval" / cfg.profile


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


@stage_main
def main(argv: list[str] | None = None) -> int:
    cfg, _ = stage_cli(EvalConfig, "Run the evaluation suite on one model.", configs_dir() / "eval_cpu.yaml",
                       endpoint_shorthand(argv))
    started = time.time()
    out_dir = default_out(cfg)
    label = cfg.label or (f"endpoint:{cfg.endpoint_model}" if cfg.endpoint else Path(cfg.model).name)
    notes, timings, items, failures = [], {}, {}, {}

    # The model: a server answers the generation-based sets; a local model also scores multiple choice.
    model = spec = None
    if cfg.endpoint:
        generator = EndpointGenerator(cfg.endpoint, cfg.endpoint_model)
        notes.append(ENDPOINT_NOTE)
    else:
        with stopwatch(timings, "load_s"):
            model, spec, device = load_local(cfg)
            generator = LocalGenerator(model, spec)
        log(f"loaded {cfg.model} on {device} ({timings['load_s']}s)")
        if cfg.mc.enabled:
            with stopwatch(timings, "mc_s"):
                items["mc"] = run_mc(cfg, model, spec.tokenizer)

    # The sets, one row per item.
    if cfg.open_qa.enabled:
        with stopwatch(timings, "open_qa_s"):
            items["open_qa"] = run_open_qa(cfg, generator, model, spec, cfg.max_new_tokens, failures)
    if cfg.liveqa.enabled:
        with stopwatch(timings, "liveqa_s"):
            items["liveqa"] = run_liveqa(cfg, generator, cfg.max_new_tokens, failures)
    if cfg.safety.enabled:
        with stopwatch(timings, "safety_s"):
            items["safety"] = run_safety(cfg, generator, cfg.max_new_tokens, failures)
    check_failures(cfg, failures)
    notes += failure_notes(failures)
    timings.update(generation_speed(items, timings))
    judge_result = None
    if cfg.judge.enabled:
        if not (cfg.judge.endpoint and cfg.judge.model):
            raise EvalError("judge.enabled needs judge.endpoint and judge.model")
        judge_result = judging.judge_rows(items.get("open_qa", []), cfg.judge.endpoint, cfg.judge.model,
                                          envfile.secret(cfg.judge.api_key_env), cfg.judge.limit)
    metrics = summarize(items, seed=cfg.seed)
    timings["total_s"] = round(time.time() - started, 1)

    # The outputs: per-item rows, metrics.json and the manifest, swapped in together.
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
    for key in HEADLINE:
        if key in metrics:
            m = metrics[key]
            log(f"  {key}: {m['value']:.3f} [{m['ci'][0]:.3f}, {m['ci'][1]:.3f}] n={m['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
