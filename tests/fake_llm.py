"""A fake OpenAI-compatible model server on loopback: scripted chat-completions replies, streamed or not.

It stands in for Ollama or llama.cpp's server in the tests of written answers: no model, no network. Each reply is
scripted (`Reply`): its content, sent as server-sent events when the request asks to stream (in small chunks) or
as one JSON body; or a failure: an error status, a refusal of the JSON schema, a pause longer than the client's
time limit, a stream cut off part way. Every request is kept (`requests`) so a test can read the prompt sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "fake-writer-1"


@dataclass
class Reply:
    """What the server answers one request with."""

    content: str = ""
    chunk: int = 7  # characters an event carries, when streamed
    pause_s: float = 0.0  # before the first byte
    chunk_pause_s: float = 0.0  # between two events
    cut_at: int | None = None  # close the stream after this many characters, with no end
    status: int = 200
    refuse_schema: bool = False  # answer 400 to a request carrying a JSON schema
    finish: str = "stop"
    events: tuple[str, ...] = ()  # sent as they are, one `data:` line each, in place of the content (streamed)


def sentences(*items: tuple[str, list[int], str]) -> str:
    """A reply's content: the JSON the prompt asks for, from (text, sources, quote) triples."""
    return json.dumps({"sentences": [{"text": t, "sources": s, "quote": q} for t, s, q in items]})


def first_sentences(message: dict, count: int = 2) -> Reply:
    """A faithful reply to any prompt: each of the first records' summaries' first sentence, citing it and quoting its
    first six words."""
    from qa.shared import split_sentences

    items = []
    for record in message["records"][:count]:
        first = split_sentences(record["summary"])[:1]
        if first:
            items.append((first[0], [record["n"]], " ".join(first[0].split()[:6])))
    return Reply(sentences(*items))


class FakeLLM:
    """The server, on a free loopback port, in a daemon thread; `reply` (or `script` by question) says what it
    answers."""

    def __init__(self) -> None:
        self.reply: Reply | Callable[[dict], Reply] = Reply(sentences())  # or made from the request
        self.script: dict[str, Reply] = {}  # a reply for the questions holding this text
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def reply_for(self, body: dict) -> Reply:
        message = json.loads(body["messages"][-1]["content"])
        scripted = next((r for text, r in self.script.items() if text in message.get("question", "")), self.reply)
        return scripted(message) if callable(scripted) else scripted

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _json(self, status: int, data: dict, cut_at: int | None = None) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:cut_at])  # cut: the connection closes before the length announced

        def do_GET(self) -> None:
            if self.path == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append(body)
            reply = fake.reply_for(body)
            try:
                time.sleep(reply.pause_s)
                if reply.refuse_schema and (body.get("response_format") or {}).get("type") == "json_schema":
                    self._json(400, {"error": {"message": "response_format json_schema is not supported"}})
                elif reply.status != 200:
                    self._json(reply.status, {"error": {"message": "the model crashed"}})
                elif body.get("stream"):
                    self._stream(reply)
                else:
                    message = {"role": "assistant", "content": reply.content}
                    choice = {"index": 0, "message": message, "finish_reason": reply.finish}
                    reply_body = {"id": "fake", "object": "chat.completion", "model": MODEL, "choices": [choice]}
                    self._json(200, reply_body, reply.cut_at)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                pass

        def _stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for event in reply.events:
                self.wfile.write(f"data: {event}\n\n".encode())
            content = reply.content if reply.cut_at is None else reply.content[: reply.cut_at]
            for at in range(0, len(content), reply.chunk):
                time.sleep(reply.chunk_pause_s)
                self._event({"content": content[at : at + reply.chunk]}, None)
            if reply.cut_at is None:
                self._event({}, reply.finish)
                self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _event(self, delta: dict, finish: str | None) -> None:
            chunk = {
                "id": "fake",
                "object": "chat.completion.chunk",
                "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

    return Handler
