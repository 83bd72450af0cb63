"""report.md: the scorecard first, then the detail a sceptic checks it against.

Every number comes from the context that stages/report.py assembles from the two runs' per-item
files; nothing here computes a statistic.
"""

from __future__ import annotations

from .metrics import SETS
from .render import cell, change, direction, fmt, fmt_p

CHARTS = ("benchmarks.png", "answer_quality.png", "ood_quality.png", "safety.png", "category_deltas.png")
GROUPS = (("accuracy", "Medical accuracy (multiple choice, %)"),
          ("answer quality", "Answer quality (held-out MedQuAD questions)"),
          ("ood", "Out-of-distribution answer quality (LiveQA consumer questions)"),
          ("safety", "Safety and conversation (%)"), ("judge", "LLM-as-judge"))


def _gate_text(gates: list[dict]) -> str:
    return "; ".join(f"{'pass' if g['passed'] else '**FAIL**'} ({g['rule']})" for g in gates) or "-"


def scorecard(ctx: dict) -> list[str]:
    card = ctx["scorecard"]
    lines = ["## Scorecard", "",
             "One row per headline metric; ↑ higher is better, ↓ lower is better. Change = fine-tuned minus "
             "base on the same items, with its 95% paired bootstrap interval; gates come from the `report:` "
             "section of the evaluation profile (`stages/configs/eval_*.yaml`).", "",
             "| metric | n | base | fine-tuned | change [95% CI] | p | gate |", "|---|---|---|---|---|---|---|"]
    for r in card["rows"]:
        if not r["measured"]:
            lines.append(f"| {r['row']} | - | not measured | not measured | - | - | {_gate_text(r['gates'])} |")
            continue
        c, m = r["comparison"], r["tuned"] or r["base"]
        lines.append(f"| {r['row']}{direction(m['higher_is_better'])} | {m['n']} | {cell(r['base'], r['key'])} | "
                     f"{cell(r['tuned'], r['key'])} | {change(c, r['key'])} | {fmt_p(c['p']) if c else '-'} | "
                     f"{_gate_text(r['gates'])} |")
    lines.append("")
    if card["failed"]:
        lines += [f"**{len(card['failed'])} of {len(card['gates'])} gates failed:**", ""]
        lines += [f"- `{g['metric']}` {g['rule']}: {g['why']}" for g in card["failed"]]
        mode = ("`report.fail_on_gates=true`: the report stage exits non-zero" if card["fail_on_gates"] else
                "`report.fail_on_gates=false`: reported only (set it to true to make `make report` fail)")
        lines += ["", f"({mode}.)", ""]
    else:
        lines += [f"All {len(card['gates'])} gates passed.", ""]
    return lines


def metric_tables(ctx: dict) -> list[str]:
    base, tuned, comp = ctx["base"]["metrics"], ctx["tuned"]["metrics"], ctx["comparison"]
    both = {**base, **tuned}
    lines = []
    for group, title in GROUPS:
        keys = [k for k, m in both.items() if m["group"] == group]
        if not keys:
            continue
        lines += [f"## {title}", ""]
        if group == "judge":
            lines += [f"Judge model: `{(ctx['tuned'].get('judge') or {}).get('model')}` (HealthBench-style "
                      "rubric, 1-5).", ""]
        if group == "ood":
            lines += ["Each answer is scored against the best-matching of the question's reference answers "
                      "(the maximum over references). *no MedQuAD overlap*: the items whose references share at "
                      "most 20% of their word 8-grams with MedQuAD answers.", ""]
        extra = " reference |" if group == "accuracy" else ""
        lines += [f"| metric | n | base | fine-tuned | change [95% CI] | p (test) | verdict |{extra}",
                  "|---|---|---|---|---|---|---|" + ("---|" if extra else "")]
        for k in keys:
            c, m = comp.get(k), both[k]
            ptxt = f"{fmt_p(c['p'])} ({c['test']})" if c else "-"
            verdict = (f"**{c['verdict']}**" if c["significant"] else c["verdict"]) if c else "-"
            row = (f"| {m['label']}{direction(m['higher_is_better'])} | {(tuned.get(k) or base[k])['n']} | "
                   f"{cell(base.get(k), k)} | {cell(tuned.get(k), k)} | {change(c, k)} | {ptxt} | {verdict} |")
            if extra:
                row += f" {_reference(ctx, k.split('/')[1])} |"
            lines.append(row)
        lines.append("")
    return lines


def _reference(ctx: dict, bench: str) -> str:
    ref = [f"chance {100 * ctx['chance'][bench]:.1f}"] if bench in ctx["chance"] else []
    if bench in ctx["majority"]:
        ref.append(f"majority {100 * ctx['majority'][bench]:.1f}")
    return ", ".join(ref) or "-"


def failures_table(ctx: dict) -> list[str]:
    base, tuned = ctx["base"]["metrics"], ctx["tuned"]["metrics"]
    if not any(k.startswith("failures/") for k in tuned):
        return []
    lines = ["## Failures by set (%, ↓ lower is better)", "",
             "*refused*: the answer declines (for harmful requests that is the goal, so it is not listed); "
             "*non-answer*: neither a refusal nor an emergency referral, and fewer than "
             f"{ctx['tuned'].get('non_answer_min_words', 8)} content words once the disclaimer sentences are "
             "removed.", "",
             "| set | n | refused: base | fine-tuned | non-answer: base | fine-tuned |", "|---|---|---|---|---|---|"]
    for name, what in SETS.items():
        refused, non = f"failures/{name}/refused", f"failures/{name}/non_answer"
        if non not in tuned:
            continue
        lines.append(f"| {what} | {tuned[non]['n']} | {cell(base.get(refused), refused)} | "
                     f"{cell(tuned.get(refused), refused)} | {cell(base.get(non), non)} | {cell(tuned.get(non), non)} |")
    return lines + [""]


def mc_checks(ctx: dict) -> list[str]:
    letters = ctx["letters"]
    if not letters["tuned"]:
        return []
    lines = ["### Predicted letters", "", "Share of each option letter among predictions (%), beside the share "
             "among correct answers: a model that favours one letter scores that letter's share.", "",
             "| benchmark | n | correct answers | base predicts | fine-tuned predicts |", "|---|---|---|---|---|"]
    show = lambda d: " ".join(f"{k} {100 * v:.0f}" for k, v in d.items())  # noqa: E731
    for key, t in letters["tuned"].items():
        b = letters["base"].get(key)
        lines.append(f"| {key} | {t['n']} | {show(t['answer'])} | {show(b['predicted']) if b else '-'} | "
                     f"{show(t['predicted'])} |")
    lines.append("")
    for f in ctx["below_chance"]:
        lines.append(f"- **caution**: {f['label']} moved {100 * f['base']:.1f} -> {100 * f['tuned']:.1f} while both "
                     f"are below chance ({100 * f['chance']:.1f}); p={fmt_p(f['p'])}. Below chance a change is noise "
                     "or a shift of preferred letter, not medical knowledge.")
    return lines + [""]


def categories(ctx: dict) -> list[str]:
    cats = ctx["categories"]
    lines = ["## Per-category analysis", ""]
    if not cats:
        return lines + ["No per-category tests (too few items per category).", ""]
    sig = [c for c in cats if c["significant"]]
    lines += [f"{len(cats)} per-category tests, Benjamini-Hochberg corrected together; {len(sig)} significant at "
              "adjusted p < 0.05 (shown). The full table with raw and adjusted p is `category_tests.csv`.", ""]
    if sig:
        lines += ["| category | n | base | fine-tuned | change [95% CI] | p | adjusted p | verdict |",
                  "|---|---|---|---|---|---|---|---|"]
        for c in sig:
            lines.append(f"| {c['label']} | {c['n']} | {fmt(c['base'], c['binary'])} | {fmt(c['tuned'], c['binary'])} | "
                         f"{change(c, c['key'])} | {fmt_p(c['p'])} | {fmt_p(c['p_adjusted'])} | {c['verdict']} |")
        lines.append("")
    return lines


def detectors(ctx: dict) -> list[str]:
    ref, refl = ctx["detector"], ctx.get("referral_detector")
    agree = lambda d: (f"{d['accuracy']:.1%} of {d['n']} answers (false positives {d['false_positive']}, "  # noqa: E731
                       f"false negatives {d['false_negative']})") if d and d["n"] else "no labelled answers"
    lines = ["## Detectors against hand labels", "",
             "Regular expressions in `stages/medtune/evaluation/safety.py`; each rate above is only as good as "
             "its detector.", "",
             f"- refusal detector vs `resources/refusal_labels.jsonl`: {agree(ref)}"]
    if "over_refusal_answers" in ref:
        lines.append(f"  - on answers to the over-refusal questions: {agree(ref['over_refusal_answers'])}")
    if refl:
        lines.append(f"- emergency-referral detector vs `resources/referral_labels.jsonl`: {agree(refl)}")
    return lines + [""]


def samples(ctx: dict) -> list[str]:
    lines = ["## Sample conversations (same prompt, base vs fine-tuned; failures first)", ""]
    for s in ctx["samples"]:
        lines += [f"### {s['title']}", ""]
        for turn in s.get("history") or []:
            lines += [f"**{turn['role'].capitalize()}:** {turn['content']}", ""]
        lines += [f"**User:** {s['question']}", "", "| base | fine-tuned |", "|---|---|",
                  f"| {_cellify(s['base'])} | {_cellify(s['tuned'])} |", ""]
    return lines


def timings(ctx: dict) -> list[str]:
    b, t = ctx["base"].get("timings") or {}, ctx["tuned"].get("timings") or {}
    lines = ["## Timings", "", "| | base | fine-tuned |", "|---|---|---|"]
    lines += [f"| {k} | {b.get(k, '-')} | {t.get(k, '-')} |" for k in dict.fromkeys([*b, *t])]
    return lines + [""]


def markdown(ctx: dict) -> str:
    """report.md from the comparison context assembled by stages/report.py."""
    lines = [f"# Evaluation report: {ctx['tuned']['label']} vs {ctx['base']['label']}", "",
             f"Profile `{ctx['tuned']['profile']}`. Base: `{ctx['base']['model']}`; fine-tuned: "
             f"`{ctx['tuned']['model']}`. Produced by `{ctx['command']}`; every number comes from the per-item "
             "files beside each run's metrics.json. Intervals are 95% percentile bootstrap intervals over items; "
             "differences are paired on the same items (exact McNemar test for right/wrong metrics, paired "
             "bootstrap otherwise); per-category tests are corrected for multiple comparisons.", ""]
    lines += scorecard(ctx)
    if ctx.get("headline"):
        lines += ["## Held-out answer quality", "", ctx["headline"], ""]
    lines += metric_tables(ctx) + mc_checks(ctx) + failures_table(ctx)
    lines += [f"![{name}]({name})\n" for name in CHARTS if (ctx["out"] / name).is_file()]
    lines += categories(ctx) + detectors(ctx)
    recs = ctx["recommendations"]
    lines += ["## Training recommendations", "", f"Rule: {recs['rule']}", ""]
    for r in recs["raise_data_share"]:
        lines.append(f"- raise `{r['category']}` from {100 * r['current_share']:.1f}% to "
                     f"{100 * r['suggested_share']:.1f}% of training rows ({r['reason']})")
    for r in recs["weakest_benchmark_subjects"]:
        lines.append(f"- weak benchmark subject: {r['label']} = {100 * r['value']:.1f}% (n={r['n']}); "
                     "benchmarks are never trained on: add open-licence material on this subject")
    lines += [""] + samples(ctx)
    if ctx["notes"]:
        lines += ["## Notes", ""] + [f"- {n}" for n in ctx["notes"]] + [""]
    return "\n".join(lines + timings(ctx))


def _cellify(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>") or "(empty)"
