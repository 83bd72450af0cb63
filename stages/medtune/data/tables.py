"""The hand-written tables behind the project-written examples (triage, sensitive, context).

They live as YAML under medtune/resources/ so the builders stay short and the wording can be edited
without touching code. Placeholders such as {emergency} are filled in on loading, so one wording
(defined in code) serves every table; "{who}" is left alone for the triage builder.
"""

from __future__ import annotations

from pathlib import Path

import yaml

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def load(name: str, **fill: str):
    """The parsed resources/<name>, with every "{key}" of `fill` replaced in every string."""
    return _fill(yaml.safe_load((RESOURCES / name).read_text(encoding="utf-8")), fill)


def _fill(value, fill: dict[str, str]):
    if isinstance(value, str):
        for key, text in fill.items():
            value = value.replace("{" + key + "}", text)
        return value
    if isinstance(value, list):
        return [_fill(v, fill) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fill) for k, v in value.items()}
    return value
