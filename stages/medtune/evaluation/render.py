"""Report rendering: charts (matplotlib) and report.md from a paired comparison."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def fmt_p(p: float) -> str:
    """Bootstrap p-values have a resolution of 1/2000: print small ones as a bound."""
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def _fmt(v, pct: bool) -> str:
    if v is None or v != v:
        return "-"
    return f"{100 * v:.1f}" if pct else f"{v:.3f}"


def _is_rate(key: str) -> bool:
    return key.startswith(("mc/", "safety/")) or key.endswith(("/exact_match",))


def cell(m: dict | None, key: str) -> str:
    if not m:
        return "-"
    pct = _is_rate(key)
    return f"{_fmt(m['value'], pct)} [{_fmt(m['ci'][0], pct)}, {_fmt(m['ci'][1], pct)}]"


def grouped_bars(path: Path, keys: list[str], base: dict, tuned: dict, title: str, labels: dict,
                 refs: dict | None = None, ylabel: str = "") -> None:
    keys = [k for k in keys if k in base or k in tuned]
    if not keys:
        return
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(keys) + 2), 4.5))
    width = 0.38
    for offset, (name, metrics, color) in enumerate((("base", base, "#8c8c8c"), ("fine-tuned", tuned, "#1f77b4"))):
        xs, ys, err = [], [], [[], []]
        for i, k in enumerate(keys):
            if k in metrics:
                m = metrics[k]
                xs.append(i + (offset - 0.5) * width)
                ys.append(m["value"])
                err[0].append(max(0.0, m["value"] - m["ci"][0]))
                err[1].append(max(0.0, m["ci"][1] - m["value"]))
        ax.bar(xs, ys, width, yerr=err, capsize=3, label=name, color=color)
    for i, k in enumerate(keys):
        if refs and k in refs:
            ax.hlines(refs[k], i - width, i + width, colors="red", linestyles="dashed",
                      label="chance / majority" if i == min(j for j, kk in enumerate(keys) if kk in refs) else None)
    ax.set_xticks(range(len(keys)), [labels.get(k, k) for k in keys], rotation=30, ha="right", fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def delta_chart(path: Path, comparison: dict, group_prefix: str = "category:") -> None:
    rows = [(c["label"], c["diff"], c["ci"]) for c in comparison.values() if c["group"].startswith(group_prefix)]
    if not rows:
        return
    rows.sort(key=lambda r: r[1])
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(rows) + 1)))
    ys = range(len(rows))
    ax.barh(list(ys), [r[1] for r in rows], color=["#d62728" if r[1] < 0 else "#2ca02c" for r in rows],
            xerr=[[max(0, r[1] - r[2][0]) for r in rows], [max(0, r[2][1] - r[1]) for r in rows]], capsize=2)
    ax.set_yticks(list(ys), [r[0] for r in rows], fontsize=7)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("fine-tuned minus base (95% paired bootstrap interval)")
    ax.set_title("Per-category change")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(ctx: dict) -> str:
    """report.md from the comparison context assembled by stages/report.py."""
    base, tuned, comp = ctx["base"]["metrics"], ctx["tuned"]["metrics"], ctx["comparison"]
    lines = [f"# Evaluation report: {ctx['tuned']['label']} vs {ctx['base']['label']}", "",
             f"Profile `{ctx['tuned']['profile']}`. Base: `{ctx['base']['model']}`; fine-tuned: "
             f"`{ctx['tuned']['model']}`. Produced by `{ctx['command']}`; every number comes from the per-item "
             "files beside each run's metrics.json.", "",
             "Intervals are 95% percentile bootstrap intervals over items (2,000 resamples). Differences are "
             "paired on the same items: exact McNemar test for right/wrong metrics, paired bootstrap otherwise; "
             "*significant* means p < 0.05 (no correction for multiple comparisons, so expect about one in "
             "twenty unchanged metrics to show as significant by chance).", ""]
    if ctx.get("headline"):
        lines += ["## Held-out answer quality", "", ctx["headline"], ""]
    for group, title in (("accuracy", "Medical accuracy (multiple choice, %)"),
                         ("answer quality", "Answer quality (held-out open questions)"),
                         ("safety", "Safety and conversation (%)"), ("judge", "LLM-as-judge")):
        keys = [k for k, m in {**base, **tuned}.items() if m["group"] == group]
        if not keys:
            continue
        lines += [f"## {title}", ""]
        if group == "judge":
            lines += [f"Judge model: `{(ctx['tuned'].get('judge') or {}).get('model')}` (HealthBench-style rubric, 1-5).", ""]
        extra = " reference |" if group == "accuracy" else ""
        lines += [f"| metric | n | base | fine-tuned | change [95% CI] | p (test) | verdict |{extra}",
                  "|---|---|---|---|---|---|---|" + ("---|" if extra else "")]
        for k in sorted(set(keys), key=lambda k: list({**base, **tuned}).index(k)):
            c = comp.get(k)
            pct = _is_rate(k)
            change = (f"{'+' if c['diff'] >= 0 else ''}{_fmt(c['diff'], pct)} [{_fmt(c['ci'][0], pct)}, "
                      f"{_fmt(c['ci'][1], pct)}]") if c else "-"
            ptxt = f"{fmt_p(c['p'])} ({c['test']})" if c else "-"
            verdict = f"**{c['verdict']}**" if c and c["significant"] else (c["verdict"] if c else "-")
            label = (base.get(k) or tuned.get(k))["label"]
            n = (tuned.get(k) or base.get(k))["n"]
            row = f"| {label} | {n} | {cell(base.get(k), k)} | {cell(tuned.get(k), k)} | {change} | {ptxt} | {verdict} |"
            if extra:
                bench = k.split("/")[1]
                ref = [f"chance {100 * ctx['chance'][bench]:.1f}"]
                if bench in ctx["majority"]:
                    ref.append(f"majority {100 * ctx['majority'][bench]:.1f}")
                row += f" {', '.join(ref)} |"
            lines.append(row)
        lines.append("")
    for name in ("benchmarks.png", "answer_quality.png", "safety.png", "category_deltas.png"):
        if (ctx["out"] / name).is_file():
            lines += [f"![{name}]({name})", ""]
    lines += ["## Per-category analysis", ""]
    cats = [c for c in comp.values() if c["group"].startswith("category:")]
    if cats:
        lines += ["| category | n | base | fine-tuned | change [95% CI] | p | verdict |", "|---|---|---|---|---|---|---|"]
        for c in sorted(cats, key=lambda c: (c["group"], c["diff"])):
            lines.append(f"| {c['label']} | {c['n']} | {c['base']:.3f} | {c['tuned']:.3f} | "
                         f"{c['diff']:+.3f} [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}] | {fmt_p(c['p'])} | {c['verdict']} |")
        lines.append("")
    recs = ctx["recommendations"]
    lines += ["## Training recommendations", "", f"Rule: {recs['rule']}", ""]
    for r in recs["raise_data_share"]:
        lines.append(f"- raise `{r['category']}` from {100 * r['current_share']:.1f}% to "
                     f"{100 * r['suggested_share']:.1f}% of training rows ({r['reason']})")
    for r in recs["weakest_benchmark_subjects"]:
        lines.append(f"- weak benchmark subject: {r['label']} = {100 * r['value']:.1f}% (n={r['n']}); "
                     "benchmarks are never trained on: add open-licence material on this subject")
    lines += ["", "## Refusal detector", "",
              f"Regex detector in `stages/medtune/evaluation/safety.py`; agreement with the hand-labelled sample "
              f"`stages/medtune/resources/refusal_labels.jsonl`: {ctx['detector']['accuracy']:.1%} of "
              f"{ctx['detector']['n']} answers (false positives {ctx['detector']['false_positive']}, false "
              f"negatives {ctx['detector']['false_negative']}).", ""]
    lines += ["## Sample conversations (same prompt, base vs fine-tuned)", ""]
    for s in ctx["samples"]:
        lines += [f"### {s['title']}", "", f"**User:** {s['question']}", "",
                  "| base | fine-tuned |", "|---|---|",
                  f"| {_cellify(s['base'])} | {_cellify(s['tuned'])} |", ""]
    if ctx["notes"]:
        lines += ["## Notes", ""] + [f"- {n}" for n in ctx["notes"]] + [""]
    lines += ["## Timings (s)", "", f"- base: {ctx['base'].get('timings')}", f"- fine-tuned: {ctx['tuned'].get('timings')}", ""]
    return "\n".join(lines)


def _cellify(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>") or "(empty)"
