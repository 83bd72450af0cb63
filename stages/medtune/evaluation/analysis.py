"""Checks a sceptic asks for beyond the headline numbers.

- letter_distribution: which option letters each model predicts; a model that always says "A"
  scores the share of "A" answers, so an accuracy change may be a change of preferred letter.
- below_chance_moves: accuracies that move while both models sit below chance (noise or letter bias,
  not knowledge).
- correct_category_tests: Benjamini-Hochberg correction over all per-category tests (dozens of
  subjects and question types: at p < 0.05 about one in twenty would look significant by chance).
"""

from __future__ import annotations

import collections
import csv
from pathlib import Path

from scipy.stats import false_discovery_control

from .metrics import verdict


def letter_distribution(rows: list[dict]) -> dict[str, dict]:
    """'<benchmark>/<k>shot' -> {'predicted': {letter: share}, 'answer': {letter: share}, 'n': items}."""
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for r in rows:
        groups[f"{r['benchmark']}/{r['shots']}shot"].append(r)
    out = {}
    for key, items in sorted(groups.items()):
        letters = sorted({r["answer"] for r in items} | {r["prediction"] for r in items})
        shares = {}
        for field in ("prediction", "answer"):
            counts = collections.Counter(r[field] for r in items)
            shares[field] = {letter: counts[letter] / len(items) for letter in letters}
        out[key] = {"predicted": shares["prediction"], "answer": shares["answer"], "n": len(items)}
    return out


def below_chance_moves(comparison: dict, chance: dict[str, float]) -> list[dict]:
    """Multiple-choice accuracies whose change happened with both models below chance."""
    flags = []
    for key, c in comparison.items():
        parts = key.split("/")
        if parts[0] != "mc" or len(parts) != 3 or parts[1] not in chance:
            continue
        level = chance[parts[1]]
        if c["base"] < level and c["tuned"] < level and c["diff"] != 0:
            flags.append({"key": key, "label": c["label"], "base": c["base"], "tuned": c["tuned"], "chance": level,
                          "diff": c["diff"], "p": c["p"], "significant": c["significant"]})
    return flags


def correct_category_tests(comparison: dict, alpha: float = 0.05) -> list[dict]:
    """Adjust the p-values of every per-category test together (Benjamini-Hochberg) and set their
    verdicts from the adjusted p; returns the category rows, most significant first."""
    cats = [c for c in comparison.values() if c["group"].startswith("category:")]
    if not cats:
        return []
    adjusted = false_discovery_control([c["p"] for c in cats], method="bh")
    for c, p_adj in zip(cats, adjusted):
        c["p_raw_significant"] = c["significant"]
        c["p_adjusted"] = float(p_adj)
        c["correction"] = "Benjamini-Hochberg over all per-category tests"
        c["significant"] = bool(p_adj < alpha)
        c["verdict"] = verdict(c["diff"], c["higher_is_better"], c["significant"])
    return sorted(cats, key=lambda c: (c["p_adjusted"], c["key"]))


CSV_FIELDS = ["group", "key", "label", "n", "base", "tuned", "diff", "ci_low", "ci_high", "test", "p", "p_adjusted",
              "significant", "verdict"]


def write_category_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for c in rows:
            writer.writerow({**{k: c.get(k) for k in CSV_FIELDS}, "ci_low": c["ci"][0], "ci_high": c["ci"][1]})
