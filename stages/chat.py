"""Chat client: talk to the exported model through `/v1/chat/completions` (llama-server or Ollama).

    make chat                                   # interactive, against CHAT_URL (default: make serve's port)
    python stages/chat.py --url http://localhost:11434 --model medtune       # Ollama
    python stages/chat.py --once "What is anemia?" --once "How is it treated?"  # scripted turns

Keeps the conversation history (always led by the shared system prompt), streams the answer, trims
the oldest turns with a notice when the history would not fit the context window (tokens counted by
the server's /tokenize, or --tokenizer), and prints the medical disclaimer. A server error or a dropped
connection costs one answer, not the session; Ctrl-C stops the current answer. Type /reset to start
over, /quit (or Ctrl-D) to leave.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from medtune.chat_client import ChatError, ChatSession, Reply, ServerUnreachable
from medtune.chat_format import DISCLAIMER, GENERATION_DEFAULTS
from medtune.stage import stage_main

__all__ = ["ChatError", "ChatSession", "ServerUnreachable", "main"]   # the client's names, as before

BANNER = (f"MedTune medical chat. {DISCLAIMER} In an emergency, call your local emergency number now.\n"
          "Commands: /reset starts a new conversation, /quit leaves.")


def _print_chunk(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _turn(session: ChatSession, question: str, stream: bool) -> Reply:
    reply = session.ask(question, stream=stream, on_text=_print_chunk)
    print()
    if session.tokens.notice:
        print(f"[notice: {session.tokens.notice}]", file=sys.stderr)
        session.tokens.notice = ""
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
        except EOFError:
            print()
            return 0
        except KeyboardInterrupt:
            print("\n[/quit or Ctrl-D leaves]")
            continue
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return 0
        if question == "/reset":
            session.reset()
            print("[conversation reset]")
            continue
        print("medtune> ", end="", flush=True)
        try:
            _turn(session, question, stream)
        except KeyboardInterrupt:
            print("\n[answer stopped; it is not kept in the conversation]", flush=True)
        except ChatError as e:
            print(f"\nerror: {e}\n[the conversation goes on: ask again, /reset or /quit]", file=sys.stderr, flush=True)


@stage_main
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
    parser.add_argument("--tokenizer", default=os.environ.get("CHAT_TOKENIZER"),
                        help="tokenizer folder (e.g. artifacts/<run>/merged) to count tokens when the server has "
                             "no /tokenize (Ollama)")
    parser.add_argument("--no-stream", action="store_true", help="wait for whole answers")
    parser.add_argument("--transcript", help="write the turns (question, answer, finish_reason, seconds) as JSON")
    args = parser.parse_args(argv)
    session = ChatSession(args.url, args.model, args.context_window, args.max_tokens, args.temperature,
                          seed=args.seed, tokenizer=args.tokenizer)
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
    except ChatError:   # stage_main says what failed (exit 2; 3 when the server is unreachable)
        print(file=sys.stderr)   # after the open "medtune> " line
        raise
    except KeyboardInterrupt:
        print("\n[stopped]", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
