"""Report charts (matplotlib) and the number formats shared with report.md (markdown.py).

Every chart marks which direction is better: each tick label ends with an arrow (higher / lower is
better) and per-category changes are green when better, red when worse, whatever the metric's direction.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def fmt_p(p: float) -> str:
    """Bootstrap p-values have a resolution of 1/2000: print small ones as a bound."""
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def fmt(v, pct: bool) -> str:
    if v is None or v != v:
        return "-"
    return f"{100 * v:.1f}" if pct else f"{v:.3f}"


def is_rate(key: str, m: dict | None = None) -> bool:
    """Rates (right/wrong per item) are printed in percent."""
    if m is not None and "binary" in m:
        return bool(m["binary"])
    return key.startswith(("mc/", "safety/", "failures/")) or key.endswith(("/exact_match", "_rate"))


def cell(m: dict | None, key: str) -> str:
    if not m:
        return "-"
    pct = is_rate(key, m)
    return f"{fmt(m['value'], pct)} [{fmt(m['ci'][0], pct)}, {fmt(m['ci'][1], pct)}]"


def change(c: dict | None, key: str) -> str:
    """'+1.2 [-0.3, +2.8]': the paired change and its interval."""
    if not c:
        return "-"
    pct = is_rate(key, c)
    sign = lambda v: ("+" if v >= 0 else "") + fmt(v, pct)  # noqa: E731
    return f"{sign(c['diff'])} [{sign(c['ci'][0])}, {sign(c['ci'][1])}]"


def direction(higher_is_better: bool | None) -> str:
    return {True: " ↑", False: " ↓"}.get(higher_is_better, "")


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
    arrows = [direction((tuned.get(k) or base.get(k)).get("higher_is_better")) for k in keys]
    ax.set_xticks(range(len(keys)), [labels.get(k, k) + a for k, a in zip(keys, arrows)], rotation=30, ha="right",
                  fontsize=8)
    ax.set_title(f"{title}\n(↑ higher is better, ↓ lower is better)", fontsize=10)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def delta_chart(path: Path, comparison: dict, group_prefix: str = "category:") -> None:
    rows = [(c["label"], c["diff"], c["ci"], c["higher_is_better"]) for c in comparison.values()
            if c["group"].startswith(group_prefix)]
    if not rows:
        return
    rows.sort(key=lambda r: r[1])
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(rows) + 1)))
    ys = range(len(rows))
    better = [(r[1] >= 0) == (r[3] is not False) for r in rows]
    ax.barh(list(ys), [r[1] for r in rows], color=["#2ca02c" if b else "#d62728" for b in better],
            xerr=[[max(0, r[1] - r[2][0]) for r in rows], [max(0, r[2][1] - r[1]) for r in rows]], capsize=2)
    ax.set_yticks(list(ys), [r[0] for r in rows], fontsize=7)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("fine-tuned minus base (95% paired bootstrap interval); green = better, red = worse")
    ax.set_title("Per-category change (higher is better for every category score)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
