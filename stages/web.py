"""Web chat page: the exported model in the browser (Gradio), through `/v1/chat/completions`.

    make serve                                   # llama-server on the exported GGUF, then in another shell:
    make web                                     # http://127.0.0.1:7860 (WEB_PORT), against CHAT_URL
    python stages/web.py --url http://127.0.0.1:11434 --model medtune    # Ollama

The page is a thin shell around the terminal client (stages/chat.py): the same system prompt,
generation defaults and history trimming, streamed into a Gradio chat. It shows the safety banner,
has a "New conversation" button and says plainly when the chat server cannot be reached. It binds
127.0.0.1 unless --host says otherwise: the page has no login, so do not expose it to a network.
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home; this machine may be offline

from medtune.chat_client import ChatSession, ServerUnreachable  # noqa: E402
from medtune.chat_format import DISCLAIMER, GENERATION_DEFAULTS  # noqa: E402
from medtune.stage import logger  # noqa: E402

BANNER = (f"**MedTune medical chat.** {DISCLAIMER} **In an emergency, call your local emergency number now** "
          "(for example 911 in the US or 112 in Europe). Answers come from a small language model and "
          "can be wrong.")
ERROR_PREFIX = "\u26a0\ufe0f Error: "  # answers that are error notices; never sent back to the model
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # the default theme would fetch web fonts


def text_of(content) -> str:
    """A Gradio message's content as text (Gradio may hand it over as a list of typed parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if isinstance(content, dict):
        return content.get("text", "")
    return ""


def history_messages(history: list[dict]) -> list[dict]:
    """Gradio's chat history -> the user/assistant turns the server gets (the system prompt is added later).

    A question that got an error notice instead of an answer is left out with its notice, so the
    turns still alternate user/assistant.
    """
    messages = [{"role": m["role"], "content": text_of(m["content"])}
                for m in history if m.get("role") in ("user", "assistant")]
    kept: list[dict] = []
    for message in messages:
        if message["role"] == "assistant" and message["content"].startswith(ERROR_PREFIX):
            if kept and kept[-1]["role"] == "user":
                kept.pop()
            continue
        kept.append(message)
    return kept


def stream_answer(new_session: Callable[[], ChatSession], message: str, history: list[dict]) -> Iterator[str]:
    """Ask with the page's history and yield the growing answer as the server streams it."""
    import gradio as gr

    session = new_session()
    session.history = history_messages(history)
    chunks: queue.Queue = queue.Queue()

    def ask() -> None:  # ChatSession streams through a callback; the page needs a generator
        try:
            chunks.put(session.ask(message, stream=True, on_text=chunks.put))
        except Exception as error:  # handed to the page below, never lost in the thread
            chunks.put(error)

    threading.Thread(target=ask, daemon=True).start()
    answer = ""
    while isinstance(item := chunks.get(), str):
        answer += item
        yield answer
    if isinstance(item, Exception):  # shown in the conversation, where the question was asked
        unreachable = isinstance(item, ServerUnreachable)
        yield f"{ERROR_PREFIX}{item}" if unreachable else f"{ERROR_PREFIX}the chat server failed: {item}"
        return
    if item.trimmed_turns:
        gr.Info(f"The {item.trimmed_turns} oldest turn(s) were left out to fit the context window.")
    if item.finish_reason == "length":
        gr.Info(f"The answer was cut at {session.max_tokens} tokens.")
    yield answer


def build_page(new_session: Callable[[], ChatSession]):
    import gradio as gr

    def respond(message: str, history: list[dict]) -> Iterator[str]:
        yield from stream_answer(new_session, message, history)

    with gr.Blocks(title="MedTune chat", analytics_enabled=False) as page:
        gr.Markdown(BANNER, elem_id="safety-banner")
        chat = gr.ChatInterface(
            respond,
            chatbot=gr.Chatbot(elem_id="conversation", height="60vh", label="MedTune"),
            textbox=gr.Textbox(placeholder="Ask a health question", elem_id="question", submit_btn=True),
            analytics_enabled=False, autofocus=True, fill_height=False)
        new_conversation = gr.Button("New conversation", elem_id="new-conversation", variant="secondary")
        new_conversation.click(lambda: ([], []), outputs=[chat.chatbot, chat.chatbot_state], queue=False)
    return page


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("CHAT_URL", "http://127.0.0.1:8080"),
                        help="chat server base URL (env CHAT_URL); Ollama: http://127.0.0.1:11434")
    parser.add_argument("--model", default=os.environ.get("CHAT_MODEL", "medtune"),
                        help="model name (Ollama needs it; llama-server ignores it)")
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"),
                        help="address the page binds (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", 7860)))
    parser.add_argument("--context-window", type=int, default=int(os.environ.get("CHAT_CONTEXT", 2048)))
    parser.add_argument("--max-tokens", type=int, default=GENERATION_DEFAULTS["max_new_tokens"])
    parser.add_argument("--temperature", type=float, default=GENERATION_DEFAULTS["temperature"])
    parser.add_argument("--seed", type=int, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def new_session() -> ChatSession:
        return ChatSession(args.url, args.model, args.context_window, args.max_tokens, args.temperature,
                           seed=args.seed)

    logger("web")(f"chat page for {args.url} on http://{args.host}:{args.port} (Ctrl-C stops it)")
    import gradio as gr

    theme = gr.themes.Default(font=SYSTEM_FONTS, font_mono=["ui-monospace", "monospace"])
    build_page(new_session).queue().launch(server_name=args.host, server_port=args.port, share=False,
                                           inbrowser=False, show_error=True, quiet=True, theme=theme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
