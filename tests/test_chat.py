"""The chat client (stages/chat.py) against a fake OpenAI-style server on 127.0.0.1 that misbehaves on cue:
HTTP errors, a 200 without choices, a stream dropped mid-answer, a slow stream to interrupt, and a
/tokenize whose counts differ from any characters-per-token guess (issue 18, item 8)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))

import chat  # noqa: E402

EMOJI = "\U0001F600"


def fake_tokens(text: str) -> int:
    """The fake model's tokenizer: one token per word, three per emoji (as byte-level BPE splits them)."""
    return len(text.replace(EMOJI, " ").split()) + 3 * text.count(EMOJI)


class FakeChatServer:
    """Answers /v1/chat/completions with the next behaviour in `plan` ("ok" once the plan is used up)."""

    def __init__(self, tokenize: bool = True):
        self.plan: list[str] = []
        self.requests: list[dict] = []
        self.streaming = threading.Event()
        self.client_gone = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _chunk(self, text: str) -> None:
                data = text.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _event(self, content: str, finish: str | None = None) -> None:
                self._chunk("data: " + json.dumps({"choices": [{"delta": {"content": content},
                                                                "finish_reason": finish}]}) + "\n\n")

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/tokenize":
                    if not tokenize:
                        return self._json(404, {"error": "not found"})
                    return self._json(200, {"tokens": list(range(fake_tokens(body["content"])))})
                fake.requests.append(body)
                behaviour = fake.plan.pop(0) if fake.plan else "ok"
                answer = f"Answer {len(fake.requests)}."
                if behaviour == "error500":
                    return self._json(500, {"error": {"message": "model crashed"}})
                if behaviour == "nochoices":
                    return self._json(200, {"object": "chat.completion", "usage": {}})
                if not body.get("stream"):
                    return self._json(200, {"choices": [{"message": {"role": "assistant", "content": answer},
                                                         "finish_reason": "stop"}]})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._event("Partial ")
                if behaviour == "drop":  # the connection dies before the last chunk
                    self.close_connection = True
                    self.connection.close()
                    return
                if behaviour == "slow":  # keeps talking until the client hangs up
                    fake.streaming.set()
                    try:
                        for _ in range(200):
                            time.sleep(0.05)
                            self._event("more ")
                    except OSError:
                        fake.client_gone.set()
                    return
                self._event(answer, "stop")
                self._chunk("data: [DONE]\n\n")
                self._chunk("")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    fake = FakeChatServer()
    yield fake
    fake.close()


def test_each_failure_is_one_clear_error(server):
    session = chat.ChatSession(server.url)
    server.plan = ["error500", "nochoices", "drop", "nochoices"]
    with pytest.raises(chat.ChatError, match="HTTP 500: .*model crashed"):
        session.ask("q1")
    with pytest.raises(chat.ChatError, match="without a chat completion"):
        session.ask("q2", stream=False)
    with pytest.raises(chat.ChatError, match="dropped after 8 characters"):
        session.ask("q3")
    with pytest.raises(chat.ChatError, match="ended before the answer was complete"):
        session.ask("q4")  # a stream with no events at all: the server answered JSON to a stream request
    assert session.history == []  # no failed turn became context
    reply = session.ask("q5")
    assert reply.content == "Partial Answer 5." and reply.finish_reason == "stop"


def test_interactive_session_survives_server_errors(server):
    """Issue 18.8: any server error ended the session and later questions were lost."""
    server.plan = ["error500", "nochoices", "drop"]
    result = subprocess.run([sys.executable, str(REPO / "stages/chat.py"), "--url", server.url],
                            input="q1\nq2\nq3\nq4\n/quit\n", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("the conversation goes on") == 3
    assert "Partial Answer 4." in result.stdout
    last = server.requests[-1]["messages"]
    assert [m["content"] for m in last[1:]] == ["q4"]


def test_ctrl_c_stops_the_answer_not_the_program(server):
    server.plan = ["slow"]
    proc = subprocess.Popen([sys.executable, "-u", str(REPO / "stages/chat.py"), "--url", server.url],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("tell me everything\n")
        proc.stdin.flush()
        assert server.streaming.wait(30), "the answer never started"
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert server.client_gone.wait(10), "the client kept the connection open"
        proc.stdin.write("and now?\n/quit\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "[answer stopped" in out and "Partial Answer 2." in out
    assert [m["content"] for m in server.requests[-1]["messages"][1:]] == ["and now?"]


def test_context_is_counted_in_the_servers_tokens(server):
    """Issue 18.8: characters / 3 put 1,200 emoji at 400 tokens (3,600 really): HTTP 400 instead of trimming."""
    session = chat.ChatSession(server.url, context_window=2048, max_tokens=256)
    session.history += [{"role": "user", "content": EMOJI * 1200}, {"role": "assistant", "content": "Nice."}]
    reply = session.ask("What is anemia?")
    assert reply.trimmed_turns == 1
    sent = [m["content"] for m in server.requests[-1]["messages"]]
    assert EMOJI * 1200 not in sent and sent[-1] == "What is anemia?"
    assert session.tokens.server_tokenizes is True
    assert session.tokens.count(EMOJI * 1200) == 3600


def test_without_tokenize_the_count_is_an_upper_bound_with_a_notice():
    fake = FakeChatServer(tokenize=False)
    try:
        session = chat.ChatSession(fake.url, context_window=2048, max_tokens=256)
        session.history += [{"role": "user", "content": EMOJI * 1200}, {"role": "assistant", "content": "Nice."}]
        assert session.ask("What is anemia?").trimmed_turns == 1
        assert "no /tokenize" in session.tokens.notice and session.tokens.count(EMOJI * 10) == 40
    finally:
        fake.close()
