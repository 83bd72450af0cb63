"""Stage configs: one YAML file per stage, overridden by `key=value` arguments, validated by pydantic.

    python stages/data.py --config stages/configs/data.yaml split.seed=7 sources.medquad.enabled=false

Unknown keys and bad values stop the stage with a message that names the key and what is allowed.
"""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import StageError
from .stage import print_error

T = TypeVar("T", bound=BaseModel)


class ConfigError(StageError):
    pass


class StrictModel(BaseModel):
    """Base for config sections: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


def parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ConfigError(f"override '{text}' should look like key=value (e.g. split.seed=7)")
    key, raw = text.split("=", 1)
    value = yaml.safe_load(raw) if raw.strip() else ""
    return key.strip().split("."), value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    for item in overrides:
        keys, value = parse_override(item)
        node = data
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override '{item}': '{k}' is not a section")
        node[keys[-1]] = value
    return data


def _model_at(cls: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The config section class that a validation error location points into."""
    model = cls
    for part in loc[:-1]:
        field = model.model_fields.get(str(part)) if isinstance(part, str) else None
        if field is None:
            return model
        ann = field.annotation
        candidates = [ann, *typing.get_args(ann)]
        nxt = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nxt is None:
            # dict[str, Section]: the next location part is the dict key
            args = typing.get_args(ann)
            nxt = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
            if nxt is None:
                return model
        model = nxt
    return model


def format_validation_error(cls: type[BaseModel], err: ValidationError, source: str) -> str:
    lines = [f"invalid config ({source}):"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            section = _model_at(cls, e["loc"])
            allowed = ", ".join(sorted(section.model_fields)) if section else "?"
            lines.append(f"  unknown key '{key}'; allowed keys here: {allowed}")
        else:
            lines.append(f"  key '{key}': {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def load_config(cls: type[T], path: Path | None, overrides: list[str] | None = None) -> T:
    data: dict = {}
    source = "defaults"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level should be a mapping of keys to values")
        source = str(path)
    if overrides:
        data = apply_overrides(data, overrides)
        source += " + overrides " + " ".join(overrides)
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(cls, e, source)) from None


def stage_cli(cls: type[T], description: str, default_config: Path | None,
              argv: list[str] | None = None) -> tuple[T, argparse.Namespace]:
    """Parse `--config FILE key=value ...` for a stage script and return its validated config."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, default=default_config,
                        help=f"YAML config (default: {default_config})")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="override any config key, dotted for nested keys")
    args = parser.parse_args(argv)
    try:
        return load_config(cls, args.config, args.overrides), args
    except ConfigError as e:  # a usage error, like argparse's own: exit 2 from the parser, in-process too
        print_error(e)
        raise SystemExit(2) from None
