"""Assistant-only labels: which tokens of a conversation are trained, and the padding rule.

The conversation is rendered once with the model's chat template (chat_format.render); each assistant
turn is located by rendering the conversation up to that turn with and without it, so the tokens of
every assistant answer *and its end-of-turn token* are trained, and nothing else is. The trainer
receives ready `input_ids` + `labels`; its collator pads labels with -100 by position, and the pad
token is a different token from the end-of-turn token anyway (set_pad_token).

A low module beside chat_format: it needs no trainer, so any stage can label a conversation (evaluation's
reference perplexity scores exactly these labels). medtune.model_spec applies the pad rule for every stage.
TrainError lives here, in the lowest module that raises it; medtune.training re-exports it.
"""

from __future__ import annotations

import random
from pathlib import Path

from .chat_format import render, validate_messages
from .errors import StageError
from .files import InputError, read_jsonl

IGNORE_INDEX = -100
# Tokens tried as padding when the tokenizer pads with its end-of-turn token (SmolLM2: pad == eos == <|im_end|>).
PAD_CANDIDATES = ("<|endoftext|>", "<|finetune_right_pad_id|>", "<pad>", "<|pad|>", "<unk>")


class TrainError(StageError):
    """A problem the user can fix; the message says how."""


def set_pad_token(tokenizer, end_of_turn: str) -> str:
    """Make the pad token differ from the end-of-turn token; return the pad token used."""
    if tokenizer.pad_token is not None and tokenizer.pad_token != end_of_turn:
        return tokenizer.pad_token
    vocab = tokenizer.get_vocab()
    for candidate in PAD_CANDIDATES:
        if candidate in vocab and candidate != end_of_turn:
            tokenizer.pad_token = candidate
            return candidate
    raise TrainError(f"no padding token distinct from the end-of-turn token {end_of_turn!r}; "
                     f"the tokenizer has none of {PAD_CANDIDATES}")


def assistant_spans(tokenizer, messages: list[dict], end_of_turn: str,
                    only_last: bool = False) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant answers (end-of-turn included)."""
    text = render(tokenizer, messages)
    spans = []
    indices = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    for i in indices[-1:] if only_last else indices:
        before = render(tokenizer, messages[:i], add_generation_prompt=True)
        upto = render(tokenizer, messages[: i + 1])
        if not (text.startswith(before) and text.startswith(upto) and upto.startswith(before)):
            raise TrainError("the chat template does not render a conversation as a prefix of its "
                             "continuation; assistant-only labels cannot be located")
        eot = upto.rfind(end_of_turn, len(before))
        if eot < 0:
            raise TrainError(f"the chat template does not close assistant turns with {end_of_turn!r}")
        spans.append((len(before), eot + len(end_of_turn)))
    return text, spans


def tokenize_conversation(tokenizer, messages: list[dict], end_of_turn: str,
                          max_length: int | None = None, only_last: bool = False) -> dict:
    """`input_ids` and `labels` (-100 outside assistant answers) for one conversation.

    Every assistant turn is trained (only the last with only_last=True, for reference-answer
    perplexity); each turn's end-of-turn token is inside its labels.
    """
    text, spans = assistant_spans(tokenizer, messages, end_of_turn, only_last)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids, labels = list(enc["input_ids"]), []
    for token_id, (start, end) in zip(input_ids, enc["offset_mapping"]):
        inside = any(s <= start and end <= e and end > start for s, e in spans)
        labels.append(token_id if inside else IGNORE_INDEX)
    if max_length is not None:
        input_ids, labels = input_ids[:max_length], labels[:max_length]
    return {"input_ids": input_ids, "labels": labels}


def read_conversations(path: Path) -> list[dict]:
    """The rows of a processed split, each one's messages checked (errors name the file and line)."""
    rows = list(read_jsonl(path, required={"messages": list}))
    for lineno, row in enumerate(rows, start=1):
        try:
            validate_messages(row["messages"], where=f"{path}:{lineno}")
        except ValueError as e:
            raise InputError(str(e)) from None
    return rows


def load_split(path: Path, tokenizer, end_of_turn: str, max_length: int, limit: int | None,
               seed: int, dropped: dict[str, int], overlong: str = "truncate") -> list[dict]:
    """Tokenized rows of one processed split; rows with no trainable token are counted in `dropped`."""
    rows = read_conversations(path)
    if limit is not None and limit < len(rows):
        random.Random(seed).shuffle(rows)  # a seeded random subset; tokenized only until `limit` rows are kept
    out = []
    for row in rows:
        item = tokenize_conversation(tokenizer, row["messages"], end_of_turn, None if overlong == "drop" else max_length)
        if len(item["input_ids"]) > max_length:
            key = f"{path.stem}: longer than data.max_length={max_length} (data.overlong=drop)"
            dropped[key] = dropped.get(key, 0) + 1
            continue
        if all(label == IGNORE_INDEX for label in item["labels"]):
            key = f"{path.stem}: prompt longer than data.max_length={max_length}"
            dropped[key] = dropped.get(key, 0) + 1
            continue
        out.append(item)
        if limit is not None and len(out) == limit:
            break
    return out
