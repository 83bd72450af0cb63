"""Outside cross-check of the multiple-choice scorer with EleutherAI's lm-evaluation-harness.

    pip install "lm_eval==0.4.13"            # optional; not part of the pinned stack (see README)
    python stages/crosscheck_lmeval.py model=smollm2-135m limit=200
    python stages/crosscheck_lmeval.py model=artifacts/<run>/merged preset=<model> limit=null device=cuda

The harness scores the tasks in stages/crosscheck/ (the shared benchmark files, medtune's zero-shot
prompt, continuations " A", " B", ...) on the same loaded model as medtune's scorer, on the first
`limit` items of each benchmark. Writes reports/lmeval-crosscheck-<label>.{json,md}: both accuracies
with 95% intervals, the share of items where both pick the same option, and the largest difference in
an option's log-likelihood. PubMedQA is also scored in the harness's own yes/no style, which asks a
different question (the answer word, not its letter) and need not agree.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")   # lm-eval's task loader (the hub: medtune.stage)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from medtune import models
from medtune.config import StrictModel, stage_cli
from medtune.errors import StageError
from medtune.evaluation import mc, stats
from medtune.files import write_json
from medtune.paths import repo_path, shared_data_dir
from medtune.stage import stage_main

TASKS = Path(__file__).resolve().parent / "crosscheck"
BENCHMARKS = ("medqa", "medmcqa", "pubmedqa", "mmlu")


class CrosscheckConfig(StrictModel):
    model: str | None = None             # a preset name or a folder with a merged HF model (make passes it)
    label: str | None = None
    limit: int | None = 200              # first items of each benchmark; null = all
    batch_size: int = 16
    max_length: int = 2048
    dtype: str = "float32"
    device: str = "auto"
    out: str = "reports"


def load(cfg: CrosscheckConfig):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    dtype = getattr(torch, cfg.dtype)
    if Path(cfg.model).is_dir():
        tokenizer, model = AutoTokenizer.from_pretrained(cfg.model), AutoModelForCausalLM.from_pretrained(
            cfg.model, dtype=dtype)
    else:
        tokenizer, model = models.load_tokenizer(cfg.model), models.load_model(cfg.model, dtype=dtype)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer, device


def harness(model, tokenizer, cfg: CrosscheckConfig) -> dict:
    """lm-eval's per-item log-likelihoods of every option, by task: {task: {item id: [loglik, ...]}}."""
    try:
        import lm_eval
        from lm_eval.models.huggingface import HFLM
        from lm_eval.tasks import TaskManager
    except ImportError:
        raise StageError('lm-evaluation-harness is not installed: pip install "lm_eval==0.4.13"') from None
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=cfg.batch_size, max_length=cfg.max_length)
    tasks = [f"medtune_{b}" for b in BENCHMARKS] + ["medtune_pubmedqa_yesno"]
    result = lm_eval.simple_evaluate(model=lm, tasks=tasks, num_fewshot=0, limit=cfg.limit, log_samples=True,
                                     task_manager=TaskManager(include_path=str(TASKS), include_defaults=False))
    return {task: {s["doc"]["id"]: [float(r[0]) for r in s["filtered_resps"]] for s in samples}
            for task, samples in result["samples"].items()}


def compare(ours: list[dict], theirs: dict[str, list[float]], letters_field: bool = True) -> dict:
    """Both scorers' accuracies on the same items, their agreement and the largest log-likelihood gap."""
    rows = [r for r in ours if r["id"] in theirs]
    mine = [r["correct"] for r in rows]
    other, same, gap = [], [], 0.0
    for r in rows:
        lls = theirs[r["id"]]
        letters = list(r["logprobs"])
        pick = letters[max(range(len(lls)), key=lls.__getitem__)]
        other.append(pick == r["answer"])
        same.append(pick == r["prediction"])
        if letters_field:
            gap = max(gap, max(abs(r["logprobs"][k] - ll) for k, ll in zip(letters, lls)))
    entry = {"n": len(rows), "same_prediction": sum(same) / len(rows) if rows else float("nan"),
             "max_abs_loglik_diff": round(gap, 4) if letters_field else None}
    for name, values in (("medtune", mine), ("lm_eval", other)):
        entry[name] = {"accuracy": stats.statistic(values), "ci": list(stats.bootstrap_ci(values))}
    entry["mcnemar_p"] = stats.mcnemar(mine, other)["p"]
    return entry


def markdown(record: dict) -> str:
    lines = [f"# Multiple-choice scorer cross-check: {record['label']}", "",
             f"medtune's scorer (`stages/medtune/evaluation/mc.py`) and lm-evaluation-harness {record['lm_eval']} "
             f"on the same loaded model, zero-shot, first {record['limit']} items per benchmark, device "
             f"{record['device']}. Produced by `{record['command']}`.", "",
             "| benchmark | n | medtune acc [95% CI] | lm-eval acc [95% CI] | same prediction | max abs log-lik diff | "
             "McNemar p |", "|---|---|---|---|---|---|---|"]
    for name, e in record["benchmarks"].items():
        acc = lambda s: f"{100 * s['accuracy']:.1f} [{100 * s['ci'][0]:.1f}, {100 * s['ci'][1]:.1f}]"  # noqa: E731
        lines.append(f"| {name} | {e['n']} | {acc(e['medtune'])} | {acc(e['lm_eval'])} | "
                     f"{100 * e['same_prediction']:.1f}% | {e['max_abs_loglik_diff']} | {e['mcnemar_p']:.3g} |")
    lines += ["", "`pubmedqa_yesno` is the harness's own PubMedQA style (continuations yes/no/maybe, no option "
              "letters): a different question, so its accuracy may differ from the letter-scored row.", ""]
    return "\n".join(lines)


@stage_main
def main(argv: list[str] | None = None) -> int:
    cfg, _ = stage_cli(CrosscheckConfig, "Cross-check the MC scorer with lm-evaluation-harness.", None, argv)
    if not cfg.model:
        raise StageError("give model=<preset or merged folder> (make crosscheck passes TRAIN_CONFIG's model.preset)")
    started = time.time()
    model, tokenizer, device = load(cfg)
    theirs = harness(model, tokenizer, cfg)
    record = {"label": cfg.label or Path(cfg.model).name, "limit": cfg.limit, "device": device,
              "command": " ".join(["stages/crosscheck_lmeval.py", *(argv if argv is not None else sys.argv[1:])]),
              "benchmarks": {}}
    import lm_eval
    record["lm_eval"] = lm_eval.__version__
    for bench in BENCHMARKS:
        test, dev = mc.load_benchmark(bench, shared_data_dir())
        items = test[:cfg.limit] if cfg.limit else test
        ours = mc.evaluate_items(model, tokenizer, bench, items, test, dev, 0, 0, cfg.batch_size, cfg.max_length)
        record["benchmarks"][bench] = compare(ours, theirs[f"medtune_{bench}"])
        if bench == "pubmedqa":
            record["benchmarks"]["pubmedqa_yesno"] = compare(ours, theirs["medtune_pubmedqa_yesno"], False)
    record["wall_s"] = round(time.time() - started, 1)
    out = repo_path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"lmeval-crosscheck-{record['label']}"
    # not with_suffix: a label like qwen2.5-coder-1.5b would lose its ".5b"
    write_json(stem.parent / f"{stem.name}.json", record)
    (stem.parent / f"{stem.name}.md").write_text(markdown(record), encoding="utf-8")
    print(markdown(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
