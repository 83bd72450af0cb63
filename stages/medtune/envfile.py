"""The project's `.env` file, read one way everywhere: by make, by the stages and by runpod/launch.py.

    KEY=value               # a trailing comment after a space is not part of the value
    export KEY="a value"    # quotes are stripped; "..." understands \\" \\\\ \\n, '...' is literal

Secrets (names ending in _KEY, _TOKEN, _SECRET or _PASSWORD) never go through make: the Makefile gets
only the other settings (`python3 stages/medtune/envfile.py make-vars`), and a process that needs a
secret reads it here (`secret(name)`), so it is not handed to every stage and server.

Standard library only: runpod/launch.py runs without the project's venv.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

try:
    from .errors import StageError
except ImportError:  # run as a plain script by make, before any venv: no package around it (main catches it)
    StageError = ValueError

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_PASSWORD")
NOT_SECRET = {"RUNPOD_SSH_KEY"}  # a path to a key file, not the key
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "$": "$"}


class EnvFileError(StageError):
    """A line of .env that cannot be read; the message names the file and line."""


def default_path() -> Path:
    return REPO_ROOT / ".env"


def is_secret(name: str) -> bool:
    return name.upper().endswith(SECRET_SUFFIXES) and name.upper() not in NOT_SECRET


def _double_quoted(text: str, where: str) -> tuple[str, str]:
    """The value of a "..." string starting at text[0] and what follows the closing quote."""
    out, i = [], 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
            continue
        if char == '"':
            return "".join(out), text[i + 1:]
        out.append(char)
        i += 1
    raise EnvFileError(f"{where}: the double quote is not closed")


def parse_value(raw: str, where: str) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        value, rest = _double_quoted(raw, where)
    elif raw.startswith("'"):
        end = raw.find("'", 1)
        if end < 0:
            raise EnvFileError(f"{where}: the single quote is not closed")
        value, rest = raw[1:end], raw[end + 1:]
    else:
        return re.split(r"\s#", raw, maxsplit=1)[0].strip()
    if rest.strip() and not rest.strip().startswith("#"):
        raise EnvFileError(f"{where}: text after the closing quote (a comment needs a space and #)")
    return value


def parse(path: Path | None = None) -> dict[str, str]:
    """KEY -> value of every setting in the file ({} when there is no file)."""
    path = Path(path) if path is not None else default_path()
    if not path.is_file():
        return {}
    values = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path}:{lineno}"
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, raw = line.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            raise EnvFileError(f"{where}: expected KEY=value")  # the line is not shown: it may hold a secret
        values[key] = parse_value(raw, where)
    return values


def secret(name: str, path: Path | None = None) -> str | None:
    """A secret from the environment, else from .env (None when neither has it)."""
    return os.environ.get(name) or parse(path).get(name) or None


def use_secrets(*names: str, path: Path | None = None) -> None:
    """Put these secrets from .env into this process's environment (for libraries that read it there)."""
    for name in names:
        value = secret(name, path)
        if value and not os.environ.get(name):
            os.environ[name] = value


def make_assignment(key: str, value: str) -> str:
    """A make line that sets `key` unless the command line or the environment already does, and exports it."""
    escaped = value.replace("$", "$$").replace("#", r"\#")
    if escaped.endswith("\\"):
        escaped += "$(if ,,)"  # expands to nothing; a trailing backslash would continue the line in make
    return f"export {key} ?= {escaped}"


def make_vars(path: Path | None = None) -> str:
    return "".join(make_assignment(k, v) + "\n" for k, v in parse(path).items() if not is_secret(k))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "make-vars" or len(argv) > 2:
        print("usage: envfile.py make-vars [PATH]   (the non-secret settings of .env as make assignments)",
              file=sys.stderr)
        return 2
    try:
        sys.stdout.write(make_vars(Path(argv[1]) if len(argv) > 1 else None))
    except EnvFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
