"""The chat client behind stages/chat.py and stages/web.py: one conversation with an OpenAI-compatible server.

ChatSession keeps the history (led by the system prompt), trims the oldest turns to fit the context
window (tokens counted by TokenCounter) and streams each answer; a failed answer raises ChatError and
leaves the history as it was.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import requests

from .chat_format import GENERATION_DEFAULTS, SYSTEM_PROMPT
from .errors import StageError

MESSAGE_OVERHEAD = 8   # role markers and end-of-turn tokens around each message


class ChatError(StageError):
    """One answer failed (server error, dropped connection, malformed reply); the session goes on."""


class ServerUnreachable(ChatError):
    exit_code = 3   # nothing was asked: distinct from a failed answer (2)


class DoesNotFit(ChatError, ValueError):
    """The question alone does not fit the context window (a ValueError too, as it always was)."""


class TokenCounter:
    """Tokens of a text as the served model counts them: a local tokenizer (--tokenizer), else the server's
    /tokenize (llama-server), else UTF-8 bytes, an upper bound for byte-level vocabularies (Ollama has no
    /tokenize). Characters are no measure: an emoji is one character and three tokens or more."""

    def __init__(self, url: str, tokenizer: str | None = None, timeout: float = 30.0):
        self.url, self.timeout = url.rstrip("/"), timeout
        self.local = None
        if tokenizer:
            from transformers import AutoTokenizer

            self.local = AutoTokenizer.from_pretrained(tokenizer)
        self.server_tokenizes: bool | None = None if self.local is None else False
        self.cache: dict[str, int] = {}
        self.notice: str | None = None  # said once when falling back to the byte count

    def _server_count(self, text: str) -> int | None:
        try:
            response = requests.post(self.url + "/tokenize", json={"content": text}, timeout=self.timeout)
        except requests.RequestException:
            return None  # the server is down right now; the chat request will say so
        if response.status_code != 200:
            self.server_tokenizes = False
            return None
        try:
            tokens = response.json()["tokens"]
        except (ValueError, KeyError, TypeError):
            self.server_tokenizes = False
            return None
        self.server_tokenizes = True
        return len(tokens)

    def count(self, text: str) -> int:
        if text not in self.cache:
            count = None
            if self.local is not None:
                count = len(self.local(text, add_special_tokens=False)["input_ids"])
            elif self.server_tokenizes is not False:
                count = self._server_count(text)
            if count is None:
                if self.server_tokenizes is False and self.notice is None:
                    self.notice = (f"{self.url} has no /tokenize: counting UTF-8 bytes, an upper bound, to fit the "
                                   "context window (--tokenizer artifacts/<run>/merged counts exactly)")
                return len(text.encode("utf-8"))  # not cached: the server may answer next time
            self.cache[text] = count
        return self.cache[text]

    def messages(self, messages: list[dict]) -> int:
        return sum(self.count(m["content"]) + MESSAGE_OVERHEAD for m in messages)


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
    tokenizer: str | None = None                        # a local tokenizer folder (else the server's /tokenize)
    history: list[dict] = field(default_factory=list)  # user/assistant turns, oldest first

    def __post_init__(self):
        self.tokens = TokenCounter(self.url, self.tokenizer)

    def reset(self) -> None:
        self.history.clear()

    def _fit(self, question: str) -> tuple[list[dict], int]:
        """Drop the oldest user/assistant pairs until prompt + reply fit the context window."""
        budget = self.context_window - self.max_tokens
        trimmed = 0
        while True:
            messages = [{"role": "system", "content": self.system}, *self.history,
                        {"role": "user", "content": question}]
            used = self.tokens.messages(messages)
            if used <= budget:
                return messages, trimmed
            if not self.history:
                raise DoesNotFit(f"the question alone (about {used} tokens with the system "
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
        except requests.RequestException as e:
            raise ChatError(f"{endpoint}: {e}") from None
        with response:  # closed on every way out, Ctrl-C included, so the server stops generating
            if response.status_code != 200:
                raise ChatError(f"{endpoint} answered HTTP {response.status_code}: {response.text[:300]}")
            if stream:
                content, finish = self._read_stream(response, on_text, endpoint)
            else:
                content, finish = self._read_whole(response, endpoint)
                if on_text:
                    on_text(content)
        # Only a complete answer joins the history: a failed or stopped one is not context the model gave.
        self.history += [{"role": "user", "content": question}, {"role": "assistant", "content": content}]
        return Reply(content, finish, round(time.time() - started, 3), trimmed)

    @staticmethod
    def _read_whole(response, endpoint: str) -> tuple[str, str | None]:
        try:
            choice = response.json()["choices"][0]
            return choice["message"]["content"] or "", choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError):
            raise ChatError(f"{endpoint} answered without a chat completion (no choices[0].message): "
                            f"{response.text[:300]}") from None

    @staticmethod
    def _read_stream(response, on_text, endpoint: str) -> tuple[str, str | None]:
        """Server-sent events: `data: {json}` lines, ended by `data: [DONE]`."""
        parts, finish, done = [], None, False
        try:
            for line in response.iter_lines(decode_unicode=True):
                if not line or not line.startswith("data:"):
                    continue
                data = line[len("data:"):].strip()
                if data == "[DONE]":
                    done = True
                    break
                try:
                    event = json.loads(data)
                except ValueError:
                    raise ChatError(f"{endpoint} sent a malformed event: {data[:200]}") from None
                if "error" in event:
                    raise ChatError(f"server error while streaming: {event['error']}")
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        parts.append(text)
                        if on_text:
                            on_text(text)
                    finish = choice.get("finish_reason") or finish
        except requests.RequestException as e:
            raise ChatError(f"the connection to {endpoint} dropped after {len(''.join(parts))} characters "
                            f"of the answer ({type(e).__name__})") from None
        if not done and finish is None:
            raise ChatError(f"the stream from {endpoint} ended before the answer was complete")
        return "".join(parts), finish
