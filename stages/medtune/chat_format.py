"""The one chat format: system prompt, disclaimer policy, template, end-of-turn tokens, generation defaults.

Data formatting, training labels, evaluation prompts, GGUF metadata, the Ollama Modelfile and the
chat client all take these from here. A mismatch between the format used in training and the one
used after export is the most common reason an exported model never stops, so nothing else may
hard-code a prompt, a template or a stop token.
"""

from __future__ import annotations

SYSTEM_PROMPT = (
    "You are MedTune, a careful medical information assistant. Give accurate, general health "
    "information in clear, plain language. You are not a doctor: you cannot examine anyone, diagnose "
    "or prescribe, so say when the person should see a doctor or other health professional. If a "
    "message describes a possible emergency, tell the person to call their local emergency number "
    "or go to the nearest emergency department now. Refuse requests that could harm the person or "
    "others. Never make up phone numbers, web addresses, drug doses or sources."
)

# Appended (after a blank line) to the last assistant turn of each information conversation, so
# the model learns to close medical information with a pointer to a clinician. Refusals and
# emergency referrals carry their own wording and get no disclaimer.
DISCLAIMER = (
    "This is general information, not medical advice. Please talk to a doctor or other qualified "
    "health professional about your own situation."
)

# Sampling defaults shared by evaluation, the Modelfile and the chat client.
GENERATION_DEFAULTS = {
    "temperature": 0.3,
    "top_p": 0.9,
    "repeat_penalty": 1.1,
    "max_new_tokens": 384,
}

ROLES = ("system", "user", "assistant")

# Used when a base model has no chat template of its own (phi-2, stablelm-3b-4e1t).
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CHATML_TOKENS = ("<|im_start|>", "<|im_end|>")


def with_disclaimer(answer: str) -> str:
    answer = answer.rstrip()
    return answer if answer.endswith(DISCLAIMER) else f"{answer}\n\n{DISCLAIMER}"


def conversation(turns: list[tuple[str, str]], system: str = SYSTEM_PROMPT,
                 disclaimer: bool = False) -> list[dict]:
    """Build a `messages` list from (user, assistant) pairs; optional disclaimer on the last answer."""
    messages = [{"role": "system", "content": system}]
    for i, (user, assistant) in enumerate(turns):
        if disclaimer and i == len(turns) - 1:
            assistant = with_disclaimer(assistant)
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return messages


def prompt_messages(question: str, history: list[dict] | None = None, system: str = SYSTEM_PROMPT) -> list[dict]:
    """Messages for asking the model a question, with optional earlier turns (no system message in them)."""
    return [{"role": "system", "content": system}, *(history or []), {"role": "user", "content": question}]


def render(tokenizer, messages: list[dict], add_generation_prompt: bool = False) -> str:
    """Text of a conversation in the model's own chat template (the tokenizer's, or ChatML if it has none).

    Templates without a system role (Gemma's raises an error on one) get the system prompt folded into
    the first user turn, the way those models were tuned to see instructions.
    """
    if messages and messages[0]["role"] == "system" and not accepts_system_role(tokenizer):
        messages = fold_system_prompt(messages)
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


_SYSTEM_ROLE_SUPPORT: dict[str, bool] = {}  # per template text: probing once is enough


def accepts_system_role(tokenizer) -> bool:
    """Whether the chat template renders a system message as its own (no error, content kept)."""
    template = tokenizer.chat_template or ""
    if template not in _SYSTEM_ROLE_SUPPORT:
        from jinja2 import TemplateError

        probe = "\x00medtune-system-probe\x00"
        try:
            text = tokenizer.apply_chat_template([{"role": "system", "content": probe},
                                                  {"role": "user", "content": "hello"}], tokenize=False)
            _SYSTEM_ROLE_SUPPORT[template] = probe in text
        except TemplateError:
            _SYSTEM_ROLE_SUPPORT[template] = False
    return _SYSTEM_ROLE_SUPPORT[template]


def fold_system_prompt(messages: list[dict]) -> list[dict]:
    """The system message moved to the start of the first user turn (a blank line between them)."""
    system, rest = messages[0]["content"], list(messages[1:])
    if rest and rest[0]["role"] == "user":
        return [{"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}, *rest[1:]]
    return [{"role": "user", "content": system}, *rest]


def end_of_turn_token(tokenizer, preset_end_of_turn: str | None = None) -> str:
    """The token that closes an assistant turn: the preset's, checked against the tokenizer."""
    token = preset_end_of_turn or tokenizer.eos_token
    if tokenizer.convert_tokens_to_ids(token) in (None, tokenizer.unk_token_id):
        raise ValueError(f"end-of-turn token {token!r} is not in the tokenizer's vocabulary")
    return token


def stop_strings(tokenizer, preset_end_of_turn: str | None = None) -> list[str]:
    """Strings a server must stop on: the end-of-turn token and the tokenizer's EOS, de-duplicated."""
    stops = [end_of_turn_token(tokenizer, preset_end_of_turn)]
    if tokenizer.eos_token and tokenizer.eos_token not in stops:
        stops.append(tokenizer.eos_token)
    return stops


def validate_messages(messages, where: str = "row") -> None:
    """Raise ValueError naming the bad field if `messages` is not a system?/user/assistant alternation."""
    if not isinstance(messages, list) or not messages:
        raise ValueError(f"{where}: field 'messages' must be a non-empty list")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise ValueError(f"{where}: field 'messages[{i}]' must be {{role: system|user|assistant, content: str}}")
    body = messages[1:] if messages[0]["role"] == "system" else messages
    for i, m in enumerate(body):
        want = "user" if i % 2 == 0 else "assistant"
        if m["role"] != want:
            raise ValueError(f"{where}: field 'messages' turn {i} should be '{want}', got '{m['role']}'")
    if body[-1]["role"] != "assistant":
        raise ValueError(f"{where}: field 'messages' must end with an assistant turn")
