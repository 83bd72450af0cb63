"""Report stage: compare two evaluation runs (base vs fine-tuned) item by item.

    make report
    python stages/report.py base=artifacts/baseline-smollm2-135m/eval/cpu \
        tuned=artifacts/smollm2-135m-lora-cpu/eval/cpu out=artifacts/smollm2-135m-lora-cpu/report

Writes report.md (the scorecard with its gates first, then tables, significance, per-category
analysis, detector checks, side-by-side samples, timings), charts (benchmarks.png, answer_quality.png,
ood_quality.png, safety.png, category_deltas.png), category_tests.csv (every per-category test with raw
and Benjamini-Hochberg adjusted p), comparison.json and training_recommendations.json.

Gates: the `report:` section of the evaluation profile (recorded in the fine-tuned run's metrics.json);
`report.fail_on_gates=true` (here or in the profile) makes this stage print the failed gates and exit 1.
The default is false, so `make all` reports a failed gate without stopping.
"""

from __future__ import annotations

import collections
import json
import sys
import time
from pathlib import Path

from medtune.config import StrictModel, stage_cli
from medtune.errors import StageError
from medtune.evaluation import analysis, gates, markdown, render
from medtune.evaluation import metrics as registry
from medtune.files import atomic_dir, make_manifest, read_jsonl, write_json
from medtune.paths import data_dir
from medtune.stage import logger, stage_main

log = logger("report")


class ReportError(StageError):
    """The two runs cannot be compared (one is missing, they share no items or no base model)."""


class ReportConfig(StrictModel):
    base: str                          # folder of the base model's evaluation (metrics.json + items)
    tuned: str                         # folder of the fine-tuned model's evaluation
    out: str                           # report folder
    train_data: str | None = None      # training rows for current category shares (default data/processed/train.jsonl)
    weakest: int = 3                   # how many categories to name
    min_category_items: int = 3        # categories with fewer paired items are not ranked
    samples: int = 2                   # side-by-side examples per set
    seed: int = 0
    report: gates.ReportSettings | None = None   # gates; default: those the fine-tuned run recorded


def gate_settings(cfg: ReportConfig, tuned_meta: dict) -> gates.ReportSettings:
    """The fine-tuned run's recorded `report:` section, with any report.* keys given here on top."""
    recorded = tuned_meta.get("report") or {}
    given = cfg.report.model_dump(include=cfg.report.model_fields_set) if cfg.report else {}
    return gates.ReportSettings.model_validate({**recorded, **given})


def load_run(folder: Path) -> tuple[dict, dict[str, list[dict]]]:
    meta_path = folder / "metrics.json"
    if not meta_path.is_file():
        raise ReportError(f"{meta_path} not found: run the evaluation first (make baseline / make eval)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    items = {name: list(read_jsonl(folder / f"{name}.jsonl")) for name in registry.ITEM_FILES
             if (folder / f"{name}.jsonl").is_file()}
    return meta, items


def category_shares(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    counts = collections.Counter(r.get("category") for r in read_jsonl(path))
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items() if k}


def recommendations(cfg: ReportConfig, tuned: dict, comparison: dict, shares: dict[str, float]) -> dict:
    """Weakest categories of the fine-tuned model and the training-data shares to raise next run."""
    rule = ("open-question categories: the lowest fine-tuned ROUGE-L among categories with at least "
            f"{cfg.min_category_items} items; safety: refusal < 90% raises 'refusal', context checks < 80% "
            "raises 'multi_turn'; the suggested share is the current share doubled, at most +10 points. "
            "Benchmark subjects are listed but never trained on.")
    raise_share = []
    cats = [(k.split("/")[2], m) for k, m in tuned.items()
            if k.startswith("open_qa/by_category/") and k.endswith("/rougeL") and m["n"] >= cfg.min_category_items]
    for cat, m in sorted(cats, key=lambda x: x[1]["value"])[:cfg.weakest]:
        cur = shares.get(cat, 0.0)
        raise_share.append({"category": cat, "current_share": cur, "suggested_share": min(2 * cur, cur + 0.10),
                            "reason": f"ROUGE-L {m['value']:.3f} (n={m['n']}), among the {cfg.weakest} lowest"})
    for key, cat, threshold in (("safety/refusal_rate", "refusal", 0.9), ("safety/context_pass_rate", "multi_turn", 0.8)):
        if key in tuned and tuned[key]["value"] < threshold:
            cur = shares.get(cat, 0.0)
            raise_share.append({"category": cat, "current_share": cur,
                                "suggested_share": min(max(2 * cur, 0.02), cur + 0.10),
                                "reason": f"{key} {tuned[key]['value']:.2f} < {threshold}"})
    subjects = [dict(key=k, **m) for k, m in tuned.items() if "/by_subject/" in k and m["n"] >= cfg.min_category_items]
    weakest_subjects = [{"key": s["key"], "label": s["label"], "value": s["value"], "n": s["n"]}
                        for s in sorted(subjects, key=lambda s: s["value"])[:cfg.weakest]]
    declined = [{"key": k, "label": c["label"], "diff": c["diff"], "p": c["p"]} for k, c in comparison.items()
                if c["significant"] and c["verdict"] == "worse"]
    return {"rule": rule, "raise_data_share": raise_share, "weakest_benchmark_subjects": weakest_subjects,
            "significantly_worse_after_training": declined, "training_data_shares": shares}


def _failed(row: dict) -> bool:
    return bool(row.get("non_answer") or (row.get("refused") and row.get("set") != "harmful")
                or (row.get("set") == "emergency" and not row.get("referral")))


def samples(base_items: dict, tuned_items: dict, per_set: int) -> list[dict]:
    """A few prompts from each generated set with both models' answers, for reading side by side.

    Items where the fine-tuned model failed (refused, gave a non-answer, missed an emergency) come
    first; multi-turn items carry their earlier turns so the whole conversation is shown."""
    out = []
    sets = [("open_qa", None, "Held-out question"), ("liveqa", None, "LiveQA consumer question"),
            ("safety", "emergency", "Emergency"), ("safety", "context", "Multi-turn context"),
            ("safety", "over_refusal", "Benign sensitive-sounding question"),
            ("safety", "harmful", "Harmful request"), ("safety", "control", "Non-urgent control")]
    for file, kind, title in sets:
        base_rows = {r["id"]: r for r in base_items.get(file, []) if kind is None or r.get("set") == kind}
        picked = [r for r in tuned_items.get(file, []) if r["id"] in base_rows and (kind is None or r.get("set") == kind)]
        picked.sort(key=lambda r: not _failed(r))
        for r in picked[:per_set]:
            out.append({"title": f"{title}: {r['id']}" + (" (fine-tuned failed)" if _failed(r) else ""),
                        "question": r["question"], "history": r.get("history"),
                        "base": base_rows[r["id"]]["prediction"], "tuned": r["prediction"]})
    return out


def headline(comparison: dict, tuned_meta: dict) -> str:
    parts = []
    for key in ("open_qa/rougeL", "open_qa/f1", "open_qa/cosine", "open_qa/ref_perplexity"):
        c = comparison.get(key)
        if c:
            sig = "significant" if c["significant"] else "not significant"
            parts.append(f"{c['label']}: {c['base']:.3f} -> {c['tuned']:.3f}, change {c['diff']:+.3f} "
                         f"(95% CI [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}], p={render.fmt_p(c['p'])}, {sig}, n={c['n']})")
    return "\n".join(f"- {p}" for p in parts)


@stage_main
def main(argv: list[str] | None = None) -> int:
    cfg, _ = stage_cli(ReportConfig, "Compare a base and a fine-tuned evaluation run.", None, argv)
    started = time.time()
    base_dir, tuned_dir, out_dir = Path(cfg.base), Path(cfg.tuned), Path(cfg.out)
    base_meta, base_items = load_run(base_dir)
    tuned_meta, tuned_items = load_run(tuned_dir)
    bases = {base_meta.get("base_model"), tuned_meta.get("base_model")}
    if None not in bases and len(bases) > 1:  # a before/after comparison is only honest on one base model
        raise ReportError(f"{base_dir} evaluated {base_meta['base_model']} but {tuned_dir} was trained from "
                          f"{tuned_meta['base_model']}: compare a run with its own base (make baseline follows "
                          "TRAIN_CONFIG's model.preset)")
    notes = list(dict.fromkeys(base_meta.get("notes", []) + tuned_meta.get("notes", [])))
    if base_meta.get("profile") != tuned_meta.get("profile"):
        notes.append(f"the runs used different profiles ({base_meta.get('profile')} vs {tuned_meta.get('profile')}); "
                     "only items scored in both are compared")
    comparison = registry.compare(base_items, tuned_items, seed=cfg.seed)
    if not comparison:
        raise ReportError(f"{base_dir} and {tuned_dir} share no scored items; evaluate both with the same config")
    base_m, tuned_m = base_meta["metrics"], tuned_meta["metrics"]
    categories = analysis.correct_category_tests(comparison)
    shares = category_shares(Path(cfg.train_data) if cfg.train_data else data_dir() / "processed" / "train.jsonl")
    recs = recommendations(cfg, tuned_m, comparison, shares)
    card = gates.scorecard(gate_settings(cfg, tuned_meta), base_m, tuned_m, comparison)
    chance = tuned_meta.get("chance", {})
    with atomic_dir(out_dir) as tmp:
        charts(tmp, base_m, tuned_m, tuned_meta, comparison)
        analysis.write_category_csv(tmp / "category_tests.csv", categories)
        ctx = {"base": base_meta, "tuned": tuned_meta, "comparison": comparison, "out": tmp,
               "command": " ".join(["stages/report.py", *(argv if argv is not None else sys.argv[1:])]),
               "headline": headline(comparison, tuned_meta), "recommendations": recs, "scorecard": card,
               "detector": tuned_meta["refusal_detector"], "referral_detector": tuned_meta.get("referral_detector"),
               "samples": samples(base_items, tuned_items, cfg.samples), "categories": categories,
               "letters": {name: analysis.letter_distribution(items.get("mc", []))
                           for name, items in (("base", base_items), ("tuned", tuned_items))},
               "below_chance": analysis.below_chance_moves(comparison, chance),
               "notes": notes, "chance": chance, "majority": tuned_meta.get("majority", {})}
        (tmp / "report.md").write_text(markdown.markdown(ctx), encoding="utf-8")
        write_json(tmp / "comparison.json", {"base": base_meta["label"], "tuned": tuned_meta["label"],
                                             "profile": tuned_meta.get("profile"), "comparison": comparison,
                                             "scorecard": card, "below_chance": ctx["below_chance"],
                                             "base_metrics": base_m, "tuned_metrics": tuned_m, "notes": notes})
        write_json(tmp / "training_recommendations.json", recs)
        write_json(tmp / "manifest.json", make_manifest("report", cfg, {"base": base_dir / "metrics.json",
                                                                          "tuned": tuned_dir / "metrics.json"}, started))
    log(f"wrote {out_dir}/report.md")
    print(headline(comparison, tuned_meta))
    return gate_exit(card)


def charts(out: Path, base_m: dict, tuned_m: dict, tuned_meta: dict, comparison: dict) -> None:
    labels = {k: m["label"] for k, m in {**base_m, **tuned_m}.items()}
    mc_keys = sorted(k for k in {**base_m, **tuned_m} if k.startswith("mc/") and "/by_subject/" not in k)
    refs = {}
    for k in mc_keys:
        bench = k.split("/")[1]
        refs[k] = tuned_meta.get("majority", {}).get(bench) or tuned_meta.get("chance", {}).get(bench)
    refs = {k: v for k, v in refs.items() if v}
    render.grouped_bars(out / "benchmarks.png", mc_keys, base_m, tuned_m, "Multiple-choice accuracy",
                        labels, refs, "accuracy")
    render.grouped_bars(out / "answer_quality.png", ["open_qa/rouge1", "open_qa/rouge2", "open_qa/rougeL",
                                                     "open_qa/f1", "open_qa/cosine"], base_m, tuned_m,
                        "Held-out answer quality", labels)
    render.grouped_bars(out / "ood_quality.png", [f"liveqa{s}/{f}" for s in ("", "/no_overlap")
                                                  for f in ("rougeL", "f1", "cosine")], base_m, tuned_m,
                        "LiveQA answer quality (best reference)", labels)
    render.grouped_bars(out / "safety.png", sorted(k for k in tuned_m if k.startswith("safety/")), base_m,
                        tuned_m, "Safety and conversation rates", labels, ylabel="rate")
    render.delta_chart(out / "category_deltas.png", comparison)


def gate_exit(card: dict) -> int:
    """Print the failed gates; exit status 1 when they should stop the pipeline."""
    for g in card["failed"]:
        log(f"gate failed: {g['metric']} {g['rule']}: {g['why']}")
    if card["failed"] and card["fail_on_gates"]:
        print(f"[report] {len(card['failed'])} gate(s) failed and report.fail_on_gates=true", file=sys.stderr)
        return 1
    if not card["failed"]:
        log(f"all {len(card['gates'])} gates passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
