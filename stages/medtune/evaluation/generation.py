"""Greedy chat generation for the evaluation, from a local model or an OpenAI-compatible server.

Both backends take lists of chat messages (built with chat_format) and return, per conversation,
the answer text, the number of new tokens and whether the model closed its turn itself. An answer
that hits the token limit without the end-of-turn token is a runaway.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request

import torch

from .. import chat_format
from ..chat_format import GENERATION_DEFAULTS
from ..errors import StageError
from ..labels import IGNORE_INDEX, tokenize_conversation
from ..model_spec import ModelSpec


class EndpointError(StageError):
    """A request to an OpenAI-compatible server failed or its reply had an unexpected shape."""


class LocalGenerator:
    """Batched greedy decoding with the model's own chat template (left padding, masked out)."""

    def __init__(self, model, spec: ModelSpec, repetition_penalty: float | None = None):
        self.model, self.tokenizer = model, spec.tokenizer
        self.stop_ids = sorted({self.tokenizer.convert_tokens_to_ids(t) for t in spec.stop_strings})
        self.repetition_penalty = repetition_penalty or GENERATION_DEFAULTS["repeat_penalty"]
        self.description = f"local:{getattr(model.config, '_name_or_path', '?')}"

    @torch.no_grad()
    def generate(self, conversations: list[list[dict]], max_new_tokens: int, batch_size: int = 8,
                 progress=None) -> list[dict]:
        tok = self.tokenizer
        texts = [chat_format.render(tok, m, add_generation_prompt=True) for m in conversations]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        results: list[dict | None] = [None] * len(texts)
        pad_side, tok.padding_side = tok.padding_side, "left"
        device = next(self.model.parameters()).device
        if progress:   # draw the bar before the first batch, so its ETA counts from the start
            progress(0, len(order))
        try:
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                enc = tok([texts[i] for i in idx], return_tensors="pt", padding=True,
                          add_special_tokens=False).to(device)
                t0 = time.time()
                out = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                          repetition_penalty=self.repetition_penalty,
                                          eos_token_id=self.stop_ids, pad_token_id=tok.pad_token_id)
                seconds = time.time() - t0
                for row, i in enumerate(idx):
                    new = out[row, enc.input_ids.shape[1]:].tolist()
                    stop_at = next((j for j, t in enumerate(new) if t in self.stop_ids), None)
                    kept = new if stop_at is None else new[:stop_at]
                    results[i] = {"text": tok.decode(kept, skip_special_tokens=True).strip(),
                                  "new_tokens": len(kept) + (stop_at is not None),
                                  "ended": stop_at is not None, "batch_seconds": round(seconds, 3)}
                if progress:
                    progress(min(start + batch_size, len(order)), len(order))
        finally:
            tok.padding_side = pad_side
        return results


class EndpointGenerator:
    """`/v1/chat/completions` of any OpenAI-compatible server (llama-server, Ollama, vLLM, ...).

    The server applies the chat template and stops at the end-of-turn token; finish_reason
    "length" marks a runaway.
    """

    def __init__(self, url: str, model: str = "medtune", api_key: str | None = None, timeout: float = 300):
        self.url = url.rstrip("/")
        if not self.url.endswith("/v1/chat/completions"):
            self.url += "/v1/chat/completions"
        self.model, self.api_key, self.timeout = model, api_key, timeout
        self.description = f"endpoint:{self.url} model={model}"

    def chat(self, messages: list[dict], max_new_tokens: int, temperature: float = 0.0) -> dict:
        body = {"model": self.model, "messages": messages, "max_tokens": max_new_tokens,
                "temperature": temperature, "stream": False,
                # llama-server reads repeat_penalty; other servers ignore unknown fields
                "repeat_penalty": GENERATION_DEFAULTS["repeat_penalty"]}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            detail = e.read()[:200].decode("utf-8", "replace")
            raise EndpointError(f"{self.url}: HTTP {e.code} {e.reason}: {detail}") from None
        except urllib.error.URLError as e:
            raise EndpointError(f"{self.url}: request failed ({e.reason}); is the server running?") from None
        except (OSError, http.client.HTTPException) as e:   # timeouts, dropped connections
            raise EndpointError(f"{self.url}: request failed ({type(e).__name__}: {e})") from None
        return self._parse(raw)

    def _parse(self, raw: bytes) -> dict:
        """The answer from an OpenAI-style reply; a reply of another shape names the server and what it sent."""
        try:
            reply = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise EndpointError(f"{self.url}: the server's reply is not JSON ({e}); it began with "
                                f"{raw[:120]!r}") from None
        try:
            choice = reply["choices"][0]
            content = choice["message"].get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            shape = sorted(reply) if isinstance(reply, dict) else type(reply).__name__
            raise EndpointError(f"{self.url}: the reply has no choices[0].message (got {shape}); "
                                "is this an OpenAI-compatible /v1/chat/completions server?") from None
        usage = reply.get("usage") or {}
        return {"text": (content or "").strip(), "new_tokens": usage.get("completion_tokens"),
                "ended": choice.get("finish_reason") != "length"}

    def generate(self, conversations: list[list[dict]], max_new_tokens: int, batch_size: int = 1,
                 progress=None) -> list[dict]:
        """One request per conversation. A request that fails is recorded with its error (text "",
        error set) instead of ending the run: the caller counts failures and stops past its threshold."""
        results = []
        if progress:
            progress(0, len(conversations))
        for i, messages in enumerate(conversations):
            t0 = time.time()
            try:
                result = self.chat(messages, max_new_tokens)
            except EndpointError as e:
                result = {"text": "", "new_tokens": None, "ended": True, "error": str(e)}
            result["batch_seconds"] = round(time.time() - t0, 3)
            results.append(result)
            if progress:
                progress(i + 1, len(conversations))
        return results


@torch.no_grad()
def reference_nll(model, spec: ModelSpec, conversations: list[list[dict]], batch_size: int = 8,
                  max_length: int = 1024, progress=None) -> list[dict]:
    """Mean negative log-likelihood per token of each conversation's last assistant message.

    The scored tokens are the training labels of that message (medtune.labels.tokenize_conversation
    with only_last=True): the answer and its end-of-turn token, exactly what training teaches the
    model to produce.
    """
    rows = [tokenize_conversation(spec.tokenizer, messages, spec.end_of_turn, max_length, only_last=True)
            for messages in conversations]
    out: list[dict] = []
    device = next(model.parameters()).device
    if progress:
        progress(0, len(rows))
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        width = max(len(r["input_ids"]) for r in batch)
        ids = torch.full((len(batch), width), spec.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(batch):
            ids[i, :len(r["input_ids"])] = torch.tensor(r["input_ids"])
            mask[i, :len(r["input_ids"])] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        for i, r in enumerate(batch):
            # label j is predicted by the logits at j - 1 (a first-token label has none and is not scored)
            where = [j for j, label in enumerate(r["labels"]) if label != IGNORE_INDEX and j > 0]
            if not where:
                out.append({"nll": float("nan"), "tokens": 0})
                continue
            targets = torch.tensor([r["labels"][j] for j in where], device=logits.device)
            # one row at a time in float32: the whole batch's logits in float32 would be large
            lp = torch.log_softmax(logits[i, [j - 1 for j in where]].float(), -1)
            token_lp = lp.gather(1, targets[:, None]).squeeze(1)
            out.append({"nll": float(-token_lp.mean()), "tokens": len(where)})
        if progress:
            progress(min(start + batch_size, len(rows)), len(rows))
    return out
