"""The table of fine-tuning recipe experiments: what was tried, what it cost, what it did to the gates.

    # after train + eval + report of one recipe: one record, reports/recipe-experiments/<name>.json
    python stages/recipe_experiments.py record r1-mix --run artifacts/<run> --data data/processed \\
        --note "MedQuAD capped at 5,000, refusals at 250"
    # every record -> reports/recipe-experiments.md
    python stages/recipe_experiments.py table

A record holds the recipe (training settings, the data mix by source), its cost (training time, steps, tokens)
and, from the run's report (report/comparison.json: the paired comparison with its base on the same items),
base, fine-tuned and change with its 95% interval for the measures the recipe issue sets goals on, and which
of the evaluation profile's gates failed. Runs evaluated with different profiles (dev, full) are not the
same items: the table says which profile each row used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

from medtune.errors import StageError
from medtune.evaluation import gates
from medtune.files import write_json
from medtune.paths import REPO_ROOT, configs_dir
from medtune.stage import logger, stage_main

RECORDS = REPO_ROOT / "reports" / "recipe-experiments"
TABLE = REPO_ROOT / "reports" / "recipe-experiments.md"
log = logger("recipe")

# (column, metric key, how to show it): the recipe issue's goals
COLUMNS = [
    ("LiveQA F1", "liveqa/f1", "{:.3f}"),
    ("LiveQA F1 (no overlap)", "liveqa/no_overlap/f1", "{:.3f}"),
    ("LiveQA MiniLM", "liveqa/cosine", "{:.3f}"),
    ("LiveQA words", "liveqa/words", "{:.0f}"),
    ("MedQuAD ROUGE-L", "open_qa/rougeL", "{:.3f}"),
    ("MC 0-shot", "mc/all/0shot", "{:.1%}"),
    ("referral", "safety/emergency_referral_rate", "{:.1%}"),
    ("refused emergencies", "safety/refused_emergency_rate", "{:.1%}"),
    ("over-triage", "safety/over_triage_rate", "{:.1%}"),
    ("harmful refused", "safety/refusal_rate", "{:.1%}"),
    ("over-refusal", "safety/over_refusal_rate", "{:.1%}"),
    ("context", "safety/context_pass_rate", "{:.1%}"),
    ("runaway", "safety/runaway_rate", "{:.1%}"),
    ("invented contacts", "safety/invented_contact_rate", "{:.2%}"),
]


def data_mix(data_dir: Path) -> dict[str, int]:
    """Training conversations per source."""
    with open(data_dir / "train.jsonl") as f:
        return dict(sorted(Counter(json.loads(line)["source"] for line in f).items()))


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise StageError(f"{path} not found: a record needs the run's manifest.json and train_summary.json "
                         "(`make train`) and its report's comparison.json (`make report`)")
    return json.loads(path.read_text())


def failed_gates(comparison: dict) -> list[str]:
    """The gates of the run's evaluation profile as they stand now (stages/configs/eval_<profile>.yaml), so
    that older records are judged by the same goals as new ones."""
    profile = yaml.safe_load((configs_dir() / f"eval_{comparison['profile']}.yaml").read_text())
    settings = gates.ReportSettings(**profile.get("report", {}))
    results = [gates.check(g, comparison["base_metrics"], comparison["tuned_metrics"], comparison["comparison"])
               for g in settings.gates]
    return [f"{r['metric']} ({r['rule']}; {r['why']})" for r in results if not r["passed"]]


def record(args) -> int:
    run = Path(args.run)
    manifest = read_json(run / "manifest.json")
    summary = read_json(run / "train_summary.json")
    comparison = read_json(Path(args.report or run / "report") / "comparison.json")
    base_m, tuned_m, paired = comparison["base_metrics"], comparison["tuned_metrics"], comparison["comparison"]
    cfg = manifest["config"]
    metrics = {}
    for _, key, _ in COLUMNS:
        if key in tuned_m:
            c = paired.get(key, {})
            metrics[key] = {"base": base_m.get(key, {}).get("value"), "tuned": tuned_m[key]["value"],
                            "diff": c.get("diff"), "ci": c.get("ci"), "significant": c.get("significant")}
    out = {
        "name": args.name, "note": args.note, "profile": comparison.get("profile"),
        "recipe": {"preset": cfg["model"]["preset"], "learning_rate": cfg["training"]["learning_rate"],
                   "epochs": cfg["training"]["epochs"], "batch_size": cfg["training"]["batch_size"],
                   "grad_accum": cfg["training"]["grad_accum"], "lora_r": cfg["lora"]["r"],
                   "lora_alpha": cfg["lora"]["alpha"], "data_mix": data_mix(Path(args.data))},
        "cost": {"train_s": summary.get("train_runtime_s"), "steps": summary.get("global_step"),
                 "tokens": summary.get("tokens_seen"), "device": summary.get("device"),
                 "eval_loss": summary.get("eval_loss_final")},
        "metrics": metrics,
        "failed_gates": failed_gates(comparison),
    }
    path = RECORDS / f"{args.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, out)
    log(f"wrote {path}")
    return 0


def cell(m: dict | None, fmt: str) -> str:
    if not m:
        return "-"
    text = f"{fmt.format(m['base'])} → {fmt.format(m['tuned'])}" if m["base"] is not None else fmt.format(m["tuned"])
    if m.get("ci"):
        lo, hi = m["ci"]
        mark = "**" if m.get("significant") else ""
        text += f" ({mark}{m['diff']:+.3g}{mark} [{lo:+.3g}, {hi:+.3g}])"
    return text


def table(args) -> int:
    records = [json.loads(p.read_text()) for p in sorted(RECORDS.glob("*.json"))]
    if not records:
        raise StageError(f"no records in {RECORDS}: run `record` first")
    lines = ["# Recipe experiments", "",
             "Written by `python stages/recipe_experiments.py table` from reports/recipe-experiments/*.json "
             "(one `record` per trained and evaluated recipe). Each cell: base → fine-tuned (paired change "
             "[95% CI]; bold: significant). Rows of the `dev` profile share items with each other, `full` rows "
             "with each other.", "",
             "## Recipes", "",
             "| name | profile | data mix (train conversations) | lr | epochs | LoRA r | steps | train s | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        rec, cost = r["recipe"], r["cost"]
        mix = ", ".join(f"{k} {v:,}" for k, v in rec["data_mix"].items())
        lines.append(f"| {r['name']} | {r['profile']} | {mix} (total {sum(rec['data_mix'].values()):,}) | "
                     f"{rec['learning_rate']:g} | {rec['epochs']:g} | {rec['lora_r']} | {cost['steps']} | "
                     f"{cost['train_s']:.0f} | {r['note']} |")
    lines += ["", "## Results", "", "| measure | " + " | ".join(r["name"] for r in records) + " |",
              "|---|" + "---|" * len(records)]
    for label, key, fmt in COLUMNS:
        lines.append(f"| {label} | " + " | ".join(cell(r["metrics"].get(key), fmt) for r in records) + " |")
    lines.append("| failed gates | " + " | ".join("<br>".join(r["failed_gates"]) or "none" for r in records) + " |")
    TABLE.write_text("\n".join(lines) + "\n")
    log(f"wrote {TABLE} ({len(records)} recipes)")
    return 0


def liveqa_gap(args) -> int:
    """Where does a LiveQA F1 gap come from? Two cuts of the same per-item answers:
    - length: the base's answers cut to the fine-tuned answer's length (words, disclaimer removed), scored again;
    - failures: the items the fine-tuned model refused or did not answer (only the disclaimer or a few words)
      against the rest, both models' mean F1 on each."""
    from medtune.evaluation import liveqa, text
    from medtune.files import read_jsonl
    from medtune.paths import shared_data_dir

    refs = {item["id"]: item["references"] for item in liveqa.load(shared_data_dir())}
    base = {r["id"]: r for r in read_jsonl(Path(args.base) / "liveqa.jsonl")}
    tuned = {r["id"]: r for r in read_jsonl(Path(args.tuned) / "liveqa.jsonl")}
    ids = sorted(set(base) & set(tuned))
    if not ids:
        raise StageError(f"no LiveQA items in common between {args.base} and {args.tuned}")

    def f1(answer: str, item: str) -> float:
        return liveqa.best_reference_scores(answer, refs[item])["f1"]

    def cut(answer: str, like: str) -> str:
        return " ".join(text.strip_disclaimer(answer).split()[:max(1, liveqa.words(like))])

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    scores = {"base": {i: f1(base[i]["prediction"], i) for i in ids},
              "fine-tuned": {i: f1(tuned[i]["prediction"], i) for i in ids}}
    words = {name: mean([liveqa.words(a[i]["prediction"]) for i in ids]) for name, a in (("base", base), ("fine-tuned", tuned))}
    log(f"LiveQA token F1 on {len(ids)} items (best reference; mean words base {words['base']:.0f}, "
        f"fine-tuned {words['fine-tuned']:.0f}):")
    log(f"  base: {mean(list(scores['base'].values())):.4f}")
    log(f"  fine-tuned: {mean(list(scores['fine-tuned'].values())):.4f}")
    cut_scores = [f1(cut(base[i]["prediction"], tuned[i]["prediction"]), i) for i in ids]
    log(f"  base cut to the fine-tuned length: {mean(cut_scores):.4f}")
    failed = [i for i in ids if tuned[i].get("refused") or tuned[i].get("non_answer")]
    rest = [i for i in ids if i not in set(failed)]
    refused = sum(bool(tuned[i].get("refused")) for i in failed)
    log(f"  the {len(failed)} items the fine-tuned model refused ({refused}) or did not answer "
        f"({len(failed) - refused}): base {mean([scores['base'][i] for i in failed]):.4f}, "
        f"fine-tuned {mean([scores['fine-tuned'][i] for i in failed]):.4f}")
    log(f"  the other {len(rest)} items: base {mean([scores['base'][i] for i in rest]):.4f}, "
        f"fine-tuned {mean([scores['fine-tuned'][i] for i in rest]):.4f}")
    return 0


@stage_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("record", help="one recipe's record from its run folder and report")
    p.add_argument("name")
    p.add_argument("--run", required=True, help="artifacts/<run> (manifest.json, train_summary.json)")
    p.add_argument("--report", help="the run's report folder (default: <run>/report)")
    p.add_argument("--data", default="data/processed", help="the processed data it trained on")
    p.add_argument("--note", default="")
    p.set_defaults(func=record)
    p = sub.add_parser("table", help="reports/recipe-experiments.md from every record")
    p.set_defaults(func=table)
    p = sub.add_parser("liveqa-gap", help="a LiveQA F1 gap split by answer length and by the fine-tuned model's failures")
    p.add_argument("--base", required=True, help="the base's evaluation folder (liveqa.jsonl)")
    p.add_argument("--tuned", required=True, help="the fine-tuned model's evaluation folder")
    p.set_defaults(func=liveqa_gap)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
