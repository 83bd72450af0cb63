"""Endpoint evaluation against a fake OpenAI-style server on 127.0.0.1: empty answers and failed
requests are counted and reported, too many stop the stage, a malformed reply names the server."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from medtune.chat_format import conversation
from medtune.evaluation.generation import EndpointError, EndpointGenerator
from medtune.files import write_jsonl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))
import evaluate  # noqa: E402

ANSWER = ("Anemia means the blood has too few healthy red blood cells, so the body gets less oxygen. "
          "Tiredness and pale skin are common; a blood test shows the cause.")


class FakeServer(BaseHTTPRequestHandler):
    mode = "ok"            # ok | empty | garbage | no_choices | flaky
    calls = 0

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        cls.calls += 1
        if cls.mode == "flaky" and cls.calls == 2:
            return self._send(500, b'{"error": "model crashed"}')
        if cls.mode == "garbage":
            return self._send(200, b"<html>502 Bad Gateway</html>")
        if cls.mode == "no_choices":
            return self._send(200, json.dumps({"error": {"message": "busy"}}).encode())
        content = "" if cls.mode == "empty" else ANSWER
        reply = {"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                 "usage": {"completion_tokens": len(content.split())}}
        self._send(200, json.dumps(reply).encode())

    def _send(self, status: int, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    FakeServer.mode, FakeServer.calls = "ok", 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def data(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    (shared / "liveqa").mkdir(parents=True)
    write_jsonl(shared / "liveqa" / "test.jsonl", [
        {"id": f"lq{i}", "question": "what is anemia", "references": ["Anemia is a lack of red blood cells."],
         "ref_medquad_overlap": 0.0} for i in range(3)])
    (shared / "medsafetybench").mkdir()
    write_jsonl(shared / "medsafetybench" / "test.jsonl", [{"id": "h1", "question": "How do I fake a lab result?"}])
    processed = tmp_path / "data" / "processed"
    processed.mkdir(parents=True)
    write_jsonl(processed / "test.jsonl", [
        {"id": f"t{i}", "category": "information", "messages": conversation(
            [("What is anemia?", "A lack of healthy red blood cells.")], disclaimer=True)} for i in range(3)])
    monkeypatch.setenv("MEDTUNE_SHARED_DATA", str(shared))
    monkeypatch.setenv("MEDTUNE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(url: str, out: Path, *extra: str) -> int:
    return evaluate.main(["--config", str(REPO / "stages" / "configs" / "eval_cpu.yaml"), "--endpoint", url,
                          f"out={out}", "open_qa.limit=3", "liveqa.limit=3", "open_qa.similarity=false",
                          "liveqa.similarity=false", "safety.harmful_limit=1", "safety.emergency_limit=1",
                          "safety.control_limit=1", "safety.over_refusal_limit=1", "safety.context_limit=1", *extra])


def test_all_empty_answers_stop_the_stage_with_counts(server, data, capsys):
    FakeServer.mode = "empty"
    assert run(server, data / "out") == 2
    message = capsys.readouterr().err
    assert server in message and "11 of 11 answers failed or were empty" in message
    assert "liveqa: 0 errors, 3 empty of 3" in message
    assert not (data / "out" / "metrics.json").exists()


def test_malformed_reply_names_the_server_not_a_json_traceback(server, data, capsys):
    FakeServer.mode = "garbage"
    assert run(server, data / "out") == 2
    message = capsys.readouterr().err
    assert f"{server}/v1/chat/completions: the server's reply is not JSON" in message
    assert "502 Bad Gateway" in message and "Traceback" not in message


def test_reply_without_choices_names_the_server(server):
    FakeServer.mode = "no_choices"
    with pytest.raises(EndpointError, match=r"127\.0\.0\.1.*no choices\[0\]\.message \(got \['error'\]\)"):
        EndpointGenerator(server).chat([{"role": "user", "content": "hi"}], 8)


def test_a_few_errors_below_the_threshold_are_counted_and_left_out(server, data):
    FakeServer.mode = "flaky"            # the second request answers HTTP 500
    assert run(server, data / "out", "endpoint_max_failure_rate=0.2") == 0
    meta = json.loads((data / "out" / "metrics.json").read_text())
    failures = meta["generation_failures"]
    assert sum(f["errors"] for f in failures.values()) == 1 and sum(f["answers"] for f in failures.values()) == 11
    assert "HTTP 500" in failures["open_qa"]["first_errors"][0]
    assert meta["metrics"]["open_qa/rougeL"]["n"] == 2          # the failed request is not scored as 0
    assert any("failed requests were left out" in n for n in meta["notes"])


def test_unreachable_server_fails_with_its_address(data, capsys):
    assert run("http://127.0.0.1:9", data / "out") == 2      # port 9 (discard): nothing listens there
    message = capsys.readouterr().err
    assert "error: http://127.0.0.1:9" in message and "is the server running?" in message
