"""The data card: what went in, what came out, what was dropped and why, and how long the chats are."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .. import chat_format
from .clean import EMAIL, PHONE, URL, has_contact_details


def assistant_contact_counts(splits: dict[str, list[dict]]) -> dict[str, int]:
    """Phone numbers, e-mail addresses and URLs left in assistant turns (must be zero)."""
    counts = Counter()
    for rows in splits.values():
        for row in rows:
            for m in row["messages"]:
                if m["role"] == "assistant" and has_contact_details(m["content"]):
                    counts["phone_numbers"] += len(PHONE.findall(m["content"]))
                    counts["emails"] += len(EMAIL.findall(m["content"]))
                    counts["urls"] += len(URL.findall(m["content"]))
    return {k: counts.get(k, 0) for k in ("phone_numbers", "emails", "urls")}


def focus_overlap(splits: dict[str, list[dict]]) -> dict[str, int]:
    focus = {name: {(r["focus"] or "").lower() for r in rows if r["focus"]} for name, rows in splits.items()}
    names = sorted(focus)
    return {f"{a}&{b}": len(focus[a] & focus[b]) for i, a in enumerate(names) for b in names[i + 1:]}


def token_lengths(splits: dict[str, list[dict]], tokenizer) -> dict[str, list[int]]:
    out = {}
    for name, rows in splits.items():
        texts = [chat_format.render(tokenizer, r["messages"]) for r in rows]
        out[name] = [len(e.ids) for e in tokenizer.backend_tokenizer.encode_batch(texts, add_special_tokens=False)]
    return out


def percentiles(values: list[int]) -> dict[str, int]:
    if not values:
        return {}
    s = sorted(values)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    return {"min": s[0], "p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99), "max": s[-1]}


def build_card(splits, ledger, lengths) -> dict:
    per_category = {name: dict(sorted(Counter(r["category"] for r in rows).items())) for name, rows in splits.items()}
    per_source = {name: dict(sorted(Counter(r["source"] for r in rows).items())) for name, rows in splits.items()}
    return {
        "splits": {name: len(rows) for name, rows in splits.items()},
        "steps": ledger.steps,
        "dropped_by_reason": ledger.reasons(),
        "dropped_total": len(ledger.dropped),
        "per_category": per_category,
        "per_source": per_source,
        "token_lengths": {name: percentiles(v) for name, v in lengths.items()},
        "checks": {"assistant_contact_details": assistant_contact_counts(splits),
                   "focus_overlap_between_splits": focus_overlap(splits)},
        "chat_format": {"system_prompt": chat_format.SYSTEM_PROMPT, "disclaimer": chat_format.DISCLAIMER},
    }


def plot_lengths(lengths: dict[str, list[int]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in lengths.items():
        if values:
            ax.hist(values, bins=50, alpha=0.5, label=f"{name} (n={len(values)})")
    ax.set_xlabel("tokens per conversation (chat template applied)")
    ax.set_ylabel("conversations")
    ax.set_title("Conversation length by split")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})  # no version stamp: identical inputs, identical bytes
    plt.close(fig)


def render_markdown(card: dict) -> str:
    lines = ["# Data card", "", "Produced by `make data` (stages/data.py). Every number below is computed by it.", "",
             "## Splits", "", "| split | conversations |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card["splits"].items()]
    lines += ["", "## Rows after every step", "", "| source | step | rows |", "|---|---|---|"]
    lines += [f"| {s['source']} | {s['step']} | {s['rows']} |" for s in card["steps"]]
    lines += ["", f"## Dropped rows ({card['dropped_total']}, each listed in dropped.jsonl)", "",
              "| step:reason | rows |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card["dropped_by_reason"].items()]
    cats = sorted({c for v in card["per_category"].values() for c in v})
    names = list(card["per_category"])
    lines += ["", "## Conversations per category", "", "| category | " + " | ".join(names) + " |",
              "|---|" + "---|" * len(names)]
    lines += [f"| {c} | " + " | ".join(str(card["per_category"][n].get(c, 0)) for n in names) + " |" for c in cats]
    lines += ["", "## Token lengths", "", "![lengths](token_lengths.png)", "", "| split | min | p50 | p90 | p99 | max |",
              "|---|---|---|---|---|---|"]
    for n, p in card["token_lengths"].items():
        if p:
            lines.append(f"| {n} | {p['min']} | {p['p50']} | {p['p90']} | {p['p99']} | {p['max']} |")
    checks = card["checks"]
    lines += ["", "## Checks", "",
              f"- contact details left in assistant turns: {checks['assistant_contact_details']}",
              f"- focus shared between splits: {checks['focus_overlap_between_splits']}",
              "", "## Chat format", "", f"System prompt: {card['chat_format']['system_prompt']}", "",
              f"Disclaimer (last assistant turn of information answers): {card['chat_format']['disclaimer']}", ""]
    return "\n".join(lines)
