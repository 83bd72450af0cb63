"""The web chat page (stages/web.py) in a real headless Chromium, talking to a real llama-server.

llama-server serves the embedded model's own GGUF (SmolLM2-135M-Instruct, from its PyPI wheel); a
recording relay between the page and the server keeps every request body, so the test can check what
the page sent. Needs Debian's chromium + chromium-driver (.ci/run installs them) and the pinned
llama.cpp build (`make llama-cpp`): without them the tests fail and say so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from medtune import llamacpp
from medtune.chat_format import DISCLAIMER, SYSTEM_PROMPT
from medtune.models import get_preset, gguf_path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "stages"))

import web  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FIRST, FOLLOW_UP, AFTER_RESET = "What is anemia?", "How is it usually treated?", "What is asthma?"
MAX_TOKENS = 96


class RecordingRelay(ThreadingHTTPServer):
    """Passes POSTs through to `upstream` as they stream (chunked), keeping each chat request's body and streamed
    answer (a /tokenize call counted as an answer would end a wait for the chat answer early)."""

    def __init__(self, upstream: str):
        self.upstream, self.requests, self.answers = upstream, [], []
        super().__init__(("127.0.0.1", 0), _RelayHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)
        upstream = requests.post(self.server.upstream + self.path, data=body, stream=True, timeout=300,
                                 headers={"Content-Type": "application/json"})
        self.send_response(upstream.status_code)
        self.send_header("Content-Type", upstream.headers.get("Content-Type", "text/event-stream"))
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        raw = b""
        for chunk in upstream.iter_content(chunk_size=None):
            raw += chunk
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        if self.path.endswith("/chat/completions"):  # not the client's /tokenize calls, which come first
            self.server.answers.append(_streamed_text(raw.decode()))
            self.server.requests.append(request)  # last: a test that sees the request also sees its answer

    def log_message(self, *args):
        pass


def _streamed_text(sse: str) -> str:
    text = ""
    for line in sse.splitlines():
        if line.startswith("data:") and line[5:].strip() != "[DONE]":
            for choice in json.loads(line[5:]).get("choices", []):
                text += (choice.get("delta") or {}).get("content") or ""
    return text


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


@pytest.fixture(scope="module")
def browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: apt-get install chromium chromium-driver (.ci/run does)",
                    pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1100,1300"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    """llama-server on the embedded model's GGUF, behind the recording relay."""
    if not llamacpp.is_built():
        pytest.fail(f"llama.cpp {llamacpp.SDIST_VERSION} is not built in {llamacpp.home()}: {llamacpp.BUILD_HINT}",
                    pytrace=False)
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with llamacpp.LlamaServer(gguf_path(get_preset("smollm2-135m")), port=llamacpp.free_port(), log=log) as server:
        relay = RecordingRelay(server.url)
        threading.Thread(target=relay.serve_forever, daemon=True).start()
        yield relay
        relay.shutdown()


def _start_page(chat_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = llamacpp.free_port()
    with open(log, "w") as out:
        page = subprocess.Popen(
            [sys.executable, str(REPO / "stages" / "web.py"), "--url", chat_url, "--port", str(port),
             "--max-tokens", str(MAX_TOKENS), "--temperature", "0", "--seed", "0"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    llamacpp.wait_healthy(url, 120, page, log)
    return page, url


@pytest.fixture()
def page(relay, tmp_path):
    process, url = _start_page(relay.url, tmp_path / "web.log")
    yield url
    process.terminate()
    process.wait(timeout=30)


def _open(driver, url: str) -> None:
    """Load the page and wait until Gradio has rendered the question box."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 30).until(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, "#question textarea")))


def _messages(driver, who: str) -> list[str]:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(50):
        try:
            return [e.text for e in driver.find_elements(By.CSS_SELECTOR, f"#conversation [data-testid='{who}']")]
        except StaleElementReferenceException:  # the page re-rendered between finding a message and reading it
            time.sleep(0.1)
    raise AssertionError(f"the {who} messages kept changing for 5 s")


def _ask(driver, question: str, relay: RecordingRelay | None = None, timeout: float = 180) -> list[str]:
    """Type a question, send it, and return every distinct text of the answer seen while it arrived."""
    from selenium.webdriver.common.by import By

    answered = len(relay.requests) if relay else 0
    n_bots = len(_messages(driver, "bot"))
    driver.find_element(By.CSS_SELECTOR, "#question textarea").send_keys(question)
    driver.find_element(By.CSS_SELECTOR, "#question button.submit-button").click()
    seen, started, stable_since = [], time.time(), None
    while time.time() - started < timeout:
        bots = _messages(driver, "bot")
        text = bots[-1] if len(bots) > n_bots else ""
        if text and text != "Loading content" and (not seen or seen[-1] != text):
            seen.append(text)
            stable_since = time.time()
        done = relay is None or len(relay.requests) > answered
        if seen and done and time.time() - stable_since > 1.5:
            return seen
        time.sleep(0.03)
    raise AssertionError(f"no complete answer to {question!r} within {timeout} s; seen {seen[-1:]}")


def test_two_turns_stream_keep_the_context_and_reset(browser, relay, page, tmp_path):
    _open(browser, page)
    assert DISCLAIMER in browser.find_element("id", "safety-banner").text
    assert "emergency number" in browser.find_element("id", "safety-banner").text

    seen = _ask(browser, FIRST, relay)
    first_answer = relay.answers[-1]
    assert first_answer.strip(), "the model gave an empty answer"
    # Streamed: the page showed growing partial answers before the whole one.
    partial = [t for t in seen[:-1] if len(t) < len(seen[-1])]
    assert len(partial) >= 2, f"the answer appeared in {len(seen)} step(s), not streamed: {seen}"
    shown = _words(seen[-1])
    assert shown and set(shown) <= set(_words(first_answer)) and len(shown) >= 0.8 * len(_words(first_answer))
    assert relay.requests[-1]["messages"] == [{"role": "system", "content": SYSTEM_PROMPT},
                                              {"role": "user", "content": FIRST}]
    assert relay.requests[-1]["max_tokens"] == MAX_TOKENS

    _ask(browser, FOLLOW_UP, relay)
    # The follow-up went out with the first turn, the answer exactly as it was streamed.
    assert relay.requests[-1]["messages"] == [
        {"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": FIRST},
        {"role": "assistant", "content": first_answer}, {"role": "user", "content": FOLLOW_UP}]
    assert _messages(browser, "user") == [FIRST, FOLLOW_UP] and len(_messages(browser, "bot")) == 2
    # MEDTUNE_WEB_SCREENSHOT=reports/web-chat.png keeps the picture of the two-turn conversation.
    for close in browser.find_elements("css selector", "button.toast-close"):  # notices would hide the banner
        close.click()
    time.sleep(0.5)
    assert browser.save_screenshot(os.environ.get("MEDTUNE_WEB_SCREENSHOT") or str(tmp_path / "web-chat.png"))

    browser.find_element("id", "new-conversation").click()
    deadline = time.time() + 10
    while (_messages(browser, "user") or _messages(browser, "bot")) and time.time() < deadline:
        time.sleep(0.1)
    assert _messages(browser, "user") == [] and _messages(browser, "bot") == []
    _ask(browser, AFTER_RESET, relay)
    assert relay.requests[-1]["messages"] == [{"role": "system", "content": SYSTEM_PROMPT},
                                              {"role": "user", "content": AFTER_RESET}]


def test_server_down_is_said_in_the_conversation(browser, tmp_path):
    process, url = _start_page(f"http://127.0.0.1:{llamacpp.free_port()}", tmp_path / "web.log")
    try:
        _open(browser, url)
        answer = _ask(browser, FIRST)[-1]
        assert "cannot reach the chat server" in answer and "make serve" in answer
        # The failed turn is not sent again: the next question goes out alone.
        assert web.history_messages([{"role": "user", "content": FIRST},
                                     {"role": "assistant", "content": web.ERROR_PREFIX + "cannot reach"},
                                     {"role": "user", "content": "next"}]) == [{"role": "user", "content": "next"}]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_history_from_gradio_parts_and_default_host():
    history = [{"role": "user", "content": [{"type": "text", "text": "What is anemia?"}]},
               {"role": "assistant", "content": "Too few red cells.", "metadata": None}]
    assert web.history_messages(history) == [{"role": "user", "content": "What is anemia?"},
                                             {"role": "assistant", "content": "Too few red cells."}]
    assert web.build_parser().parse_args([]).host == "127.0.0.1"
