"""The Ollama Modelfile, generated from the shared chat format.

The model's own chat template (the one training used, in the tokenizer) is measured once into a
`TurnFormat`: the text before and after each role's content and the generation prompt. The Go
template in the Modelfile is written from that structure, and `render_go_template` (a renderer for
exactly the Go-template subset emitted here) lets a test check that Ollama's prompt equals the
tokenizer's, character for character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from medtune.chat_format import GENERATION_DEFAULTS, ROLES, SYSTEM_PROMPT, render
from medtune.errors import StageError

_PROBE = "\x00MEDTUNE-PROBE-{}\x00"  # contents that cannot occur in a template


class TemplateError(StageError):
    pass


@dataclass(frozen=True)
class TurnFormat:
    """Each message renders as prefix[role] + content + suffix[role]; a prompt ends with generation_prompt."""

    prefix: dict[str, str]
    suffix: dict[str, str]
    generation_prompt: str

    def render(self, messages: list[dict], add_generation_prompt: bool = False) -> str:
        text = "".join(self.prefix[m["role"]] + m["content"] + self.suffix[m["role"]] for m in messages)
        return text + (self.generation_prompt if add_generation_prompt else "")


def turn_format(tokenizer) -> TurnFormat:
    """Measure the tokenizer's chat template on probe messages; raise if it is not prefix+content+suffix."""
    probes = [{"role": r, "content": _PROBE.format(i)} for i, r in enumerate(("system", "user", "assistant"))]
    prefix, suffix, done = {}, {}, ""
    for n, message in enumerate(probes, start=1):
        text = render(tokenizer, probes[:n])
        if not text.startswith(done):
            raise TemplateError("the chat template re-renders earlier messages when one is added")
        piece = text[len(done):]
        before, found, after = piece.partition(message["content"])
        if not found:
            raise TemplateError(f"the chat template drops the content of a {message['role']} message")
        prefix[message["role"]], suffix[message["role"]] = before, after
        done = text
    prompt = render(tokenizer, probes[:2], add_generation_prompt=True)
    generation_prompt = prompt[len(render(tokenizer, probes[:2])):]
    fmt = TurnFormat(prefix, suffix, generation_prompt)
    # The measured structure must reproduce the template on a multi-turn conversation.
    sample = probes + [{"role": "user", "content": _PROBE.format(3)}, {"role": "assistant", "content": _PROBE.format(4)}]
    for add in (False, True):
        msgs = sample if not add else sample[:-1]
        if fmt.render(msgs, add) != render(tokenizer, msgs, add_generation_prompt=add):
            raise TemplateError("the chat template is not a per-message prefix + content + suffix; "
                                "write the Modelfile TEMPLATE by hand")
    return fmt


def _go_literal_ok(text: str) -> str:
    if "{{" in text or "}}" in text or '"""' in text:
        raise TemplateError(f"template text {text!r} cannot be written into a Modelfile TEMPLATE")
    return text


def go_template(fmt: TurnFormat) -> str:
    """Ollama TEMPLATE: every message in order, then the generation prompt (Ollama always generates)."""
    branches = []
    for i, role in enumerate(ROLES):
        keyword = "if" if i == 0 else "else if"
        branches.append(f'{{{{ {keyword} eq .Role "{role}" }}}}{_go_literal_ok(fmt.prefix[role])}'
                        f"{{{{ .Content }}}}{_go_literal_ok(fmt.suffix[role])}")
    return ("{{ range .Messages }}" + "".join(branches) + "{{ end }}{{ end }}"
            + _go_literal_ok(fmt.generation_prompt))


_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_BRANCH = re.compile(r'(?:else )?if eq \.Role "(\w+)"')


def _parse(tokens: list[tuple[str, str]], i: int = 0, top: bool = True) -> tuple[list, int]:
    """Parse tokens into nodes: ("text", s), ("var", name), ("range", body), ("if", [(role, body)...])."""
    nodes: list = []
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "text":
            nodes.append(("text", value))
        elif value in (".Content", ".Role"):
            nodes.append(("var", value[1:].lower()))
        elif value == "range .Messages":
            body, i = _parse(tokens, i + 1, top=False)
            nodes.append(("range", body))
        elif _BRANCH.fullmatch(value) and value.startswith("if"):
            branches = []
            while True:
                role = _BRANCH.fullmatch(tokens[i][1]).group(1)
                body, i = _parse(tokens, i + 1, top=False)
                branches.append((role, body))
                if tokens[i][1] == "end":
                    break
                if not _BRANCH.fullmatch(tokens[i][1]):
                    raise TemplateError(f"unsupported action {{{{ {tokens[i][1]} }}}}")
            nodes.append(("if", branches))
        elif value == "end" or value.startswith("else"):
            if top:
                raise TemplateError(f"unexpected {{{{ {value} }}}}")
            return nodes, i  # the caller looks at tokens[i]
        else:
            raise TemplateError(f"unsupported action {{{{ {value} }}}}")
        i += 1
    if not top:
        raise TemplateError("missing {{ end }}")
    return nodes, i


def render_go_template(template: str, messages: list[dict]) -> str:
    """Render the Go-template subset that `go_template` emits: range .Messages, if/else if eq .Role, .Content.

    Anything else is an error, so a change to `go_template` cannot slip past the test unnoticed.
    """
    tokens, pos = [], 0
    for match in _ACTION.finditer(template):
        tokens += [("text", template[pos:match.start()]), ("action", match.group(1).strip())]
        pos = match.end()
    tokens.append(("text", template[pos:]))
    nodes, _ = _parse(tokens)

    def run(nodes: list, message: dict | None, out: list[str]) -> None:
        for node in nodes:
            if node[0] == "text":
                out.append(node[1])
            elif node[0] == "var":
                if message is None:
                    raise TemplateError(f"{{{{ .{node[1].title()} }}}} outside range .Messages")
                out.append(message[node[1]])
            elif node[0] == "range":
                for m in messages:
                    run(node[1], m, out)
            else:  # if / else if on the role
                if message is None:
                    raise TemplateError(".Role tested outside range .Messages")
                body = next((b for role, b in node[1] if role == message["role"]), [])
                run(body, message, out)

    out: list[str] = []
    run(nodes, None, out)
    return "".join(out)


def modelfile(gguf: str, tokenizer, stops: list[str], license_text: str, num_ctx: int,
              system: str = SYSTEM_PROMPT) -> str:
    """The Modelfile text. `gguf` is the FROM path, relative to the Modelfile's folder."""
    template = go_template(turn_format(tokenizer))
    for text in (system, license_text):
        _go_literal_ok(text)
    lines = [
        "# Generated by `make export` from stages/medtune/chat_format.py and the model's chat template.",
        f"FROM {gguf}",
        f'TEMPLATE """{template}"""',
        f'SYSTEM """{system}"""',
        *[f'PARAMETER stop "{stop}"' for stop in stops],
        f"PARAMETER temperature {GENERATION_DEFAULTS['temperature']}",
        f"PARAMETER top_p {GENERATION_DEFAULTS['top_p']}",
        f"PARAMETER repeat_penalty {GENERATION_DEFAULTS['repeat_penalty']}",
        f"PARAMETER num_predict {GENERATION_DEFAULTS['max_new_tokens']}",
        f"PARAMETER num_ctx {num_ctx}",
        f'LICENSE """{license_text}"""',
    ]
    return "\n".join(lines) + "\n"


def parse_modelfile(text: str) -> dict:
    """Read back the instructions written by `modelfile` (FROM, TEMPLATE, SYSTEM, PARAMETER, LICENSE)."""
    parsed: dict = {"parameters": {}}
    for match in re.finditer(r'^(FROM|TEMPLATE|SYSTEM|PARAMETER|LICENSE) (?:"""(.*?)"""|([^\n]*))$', text, re.M | re.S):
        key, quoted, plain = match.group(1), match.group(2), match.group(3)
        if key == "PARAMETER":
            name, _, value = plain.partition(" ")
            parsed["parameters"].setdefault(name, []).append(value.strip('"'))
        else:
            parsed[key.lower()] = quoted if quoted is not None else plain
    return parsed


def write_modelfile(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
