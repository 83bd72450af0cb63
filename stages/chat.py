"""Chat client: talk to the exported model through `/v1/chat/completions` (llama-server or Ollama).

    make chat                                   # interactive, against CHAT_URL (default: make serve's port)
    python stages/chat.py --url http://localhost:11434 --model medtune       # Ollama
    python stages/chat.py --once "What is anemia?" --once "How is it treated?"  # scripted turns

Keeps the conversation history (always led by the shared system prompt), streams the answer, trims
the oldest turns with a notice when the history would not fit the context window, and prints the
medical disclaimer. Type /reset to start over, /quit (or Ctrl-D) to leave.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

import requests

from medtune.chat_format import DISCLAIMER, GENERATION_DEFAULTS, SYSTEM_PROMPT

BANNER = (f"MedTune medical chat. {DISCLAIMER} In an emergency, call your local emergency number now.\n"
          "Commands: /reset starts a new conversation, /quit leaves.")
CHARS_PER_TOKEN = 3.0  # conservative for English BPE vocabularies (they average about 4)
MESSAGE_OVERHEAD = 8   # role markers and end-of-turn tokens around each message


class ServerUnreachable(RuntimeError):
    pass


def estimate_tokens(messages: list[dict]) -> int:
    return sum(math.ceil(len(m["content"]) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD for m in messages)


@dataclass
class Reply:
    content: str
    finish_reason: str | None
    seconds: float
    trimmed_turns: int = 0


@dataclass
class ChatSession:
    url: str
    model: str = "medtune"
    context_window: int = 2048
    max_tokens: int = GENERATION_DEFAULTS["max_new_tokens"]
    temperature: float = GENERATION_DEFAULTS["temperature"]
    top_p: float = GENERATION_DEFAULTS["top_p"]
    repeat_penalty: float = GENERATION_DEFAULTS["repeat_penalty"]
    seed: int | None = None
    timeout: float = 300.0
    system: str = SYSTEM_PROMPT
    history: list[dict] = field(default_factory=list)  # user/assistant turns, oldest first

    def reset(self) -> None:
        self.history.clear()

    def _fit(self, question: str) -> tuple[list[dict], int]:
        """Drop the oldest user/assistant pairs until prompt + reply fit the context window."""
        budget = self.context_window - self.max_tokens
        trimmed = 0
        while True:
            messages = [{"role": "system", "content": self.system}, *self.history,
                        {"role": "user", "content": question}]
            if estimate_tokens(messages) <= budget:
                return messages, trimmed
            if not self.history:
                raise ValueError(f"the question alone (about {estimate_tokens(messages)} tokens with the system "
                                 f"prompt) does not fit the context window of {self.context_window} tokens "
                                 f"minus {self.max_tokens} for the answer")
            del self.history[:2]
            trimmed += 1

    def ask(self, question: str, stream: bool = True, on_text=None) -> Reply:
        """Send one user turn with the history; on_text(chunk) receives streamed text as it arrives."""
        messages, trimmed = self._fit(question)
        body = {"model": self.model, "messages": messages, "stream": stream, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "top_p": self.top_p, "repeat_penalty": self.repeat_penalty}
        if self.seed is not None:
            body["seed"] = self.seed
        started = time.time()
        endpoint = self.url.rstrip("/") + "/v1/chat/completions"
        try:
            response = requests.post(endpoint, json=body, stream=stream, timeout=self.timeout)
        except requests.ConnectionError:
            raise ServerUnreachable(
                f"cannot reach the chat server at {self.url}. Start one with `make serve` (llama-server) or "
                "`make ollama-up` (Ollama), or point --url / CHAT_URL at a running one.") from None
        if response.status_code != 200:
            raise RuntimeError(f"{endpoint} answered HTTP {response.status_code}: {response.text[:300]}")
        if stream:
            content, finish = self._read_stream(response, on_text)
        else:
            choice = response.json()["choices"][0]
            content, finish = choice["message"]["content"] or "", choice.get("finish_reason")
            if on_text:
                on_text(content)
        self.history += [{"role": "user", "content": question}, {"role": "assistant", "content": content}]
        return Reply(content, finish, round(time.time() - started, 3), trimmed)

    @staticmethod
    def _read_stream(response, on_text) -> tuple[str, str | None]:
        """Server-sent events: `data: {json}` lines, ended by `data: [DONE]`."""
        parts, finish = [], None
        for line in response.iter_lines(decode_unicode=True):
            if not line or not line.startswith("data:"):
                continue
            data = line[len("data:"):].strip()
            if data == "[DONE]":
                break
            event = json.loads(data)
            if "error" in event:
                raise RuntimeError(f"server error while streaming: {event['error']}")
            for choice in event.get("choices", []):
                text = (choice.get("delta") or {}).get("content") or ""
                if text:
                    parts.append(text)
                    if on_text:
                        on_text(text)
                finish = choice.get("finish_reason") or finish
        return "".join(parts), finish


def _print_chunk(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _turn(session: ChatSession, question: str, stream: bool) -> Reply:
    reply = session.ask(question, stream=stream, on_text=_print_chunk)
    print()
    if reply.trimmed_turns:
        print(f"[notice: dropped the {reply.trimmed_turns} oldest turn(s) to fit the "
              f"{session.context_window}-token context window]", file=sys.stderr)
    if reply.finish_reason == "length":
        print(f"[notice: the answer was cut at {session.max_tokens} tokens]", file=sys.stderr)
    return reply


def interactive(session: ChatSession, stream: bool) -> int:
    print(BANNER)
    while True:
        try:
            question = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return 0
        if question == "/reset":
            session.reset()
            print("[conversation reset]")
            continue
        print("medtune> ", end="", flush=True)
        _turn(session, question, stream)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("CHAT_URL", "http://127.0.0.1:8080"),
                        help="server base URL (env CHAT_URL); Ollama: http://localhost:11434")
    parser.add_argument("--model", default=os.environ.get("CHAT_MODEL", "medtune"),
                        help="model name (Ollama needs it; llama-server ignores it)")
    parser.add_argument("--once", action="append", metavar="QUESTION",
                        help="ask this and exit; repeat for a scripted multi-turn conversation")
    parser.add_argument("--context-window", type=int, default=int(os.environ.get("CHAT_CONTEXT", 2048)))
    parser.add_argument("--max-tokens", type=int, default=GENERATION_DEFAULTS["max_new_tokens"])
    parser.add_argument("--temperature", type=float, default=GENERATION_DEFAULTS["temperature"])
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-stream", action="store_true", help="wait for whole answers")
    parser.add_argument("--transcript", help="write the turns (question, answer, finish_reason, seconds) as JSON")
    args = parser.parse_args(argv)
    session = ChatSession(args.url, args.model, args.context_window, args.max_tokens, args.temperature,
                          seed=args.seed)
    stream = not args.no_stream
    try:
        if not args.once:
            return interactive(session, stream)
        print(BANNER, file=sys.stderr)
        turns = []
        for question in args.once:
            print(f"you> {question}\nmedtune> ", end="", flush=True)
            reply = _turn(session, question, stream)
            turns.append({"question": question, "answer": reply.content, "finish_reason": reply.finish_reason,
                          "seconds": reply.seconds, "trimmed_turns": reply.trimmed_turns})
        if args.transcript:
            with open(args.transcript, "w", encoding="utf-8") as f:
                json.dump({"url": args.url, "model": args.model, "turns": turns}, f, indent=2, ensure_ascii=False)
        return 0
    except ServerUnreachable as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 3
    except (ValueError, RuntimeError) as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
