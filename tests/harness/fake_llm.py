"""A small OpenAI-compatible HTTP server on 127.0.0.1, standing in for a remote LLM.

AstrBot's own ``openai_chat_completion`` provider (the ``openai`` SDK over httpx) talks
to it exactly as it would to api.openai.com: ``POST /v1/chat/completions`` plain JSON
or streamed (SSE ``data: {...}`` chunks, then ``data: [DONE]``), ``GET /v1/models``.

Every request is recorded (``requests`` / ``chat_requests()``, thread-safe). Replies
come from a script: ``script(...)`` queues ``Reply`` objects (or plain strings), one per
chat request; with the script empty, the ``default`` reply answers, and with no default
the text is ``"fake reply #<n>"`` (n counts chat requests from 1). ``responder`` (a
callable taking the ``RecordedRequest``) overrides both.

    with FakeOpenAIServer() as llm:
        llm.script("hi there", Reply(delay=2.0), Reply.error(500, "boom"))
        ... provider api_base = llm.base_url ...
        llm.wait_for_requests(1)
        assert "hello" in llm.chat_requests()[0].text

Every response closes its connection (``Connection: close``), so no handler thread
lingers in keep-alive; ``stop()`` interrupts scripted delays, shuts the server down and
joins its threads.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .waiting import wait_for

DEFAULT_MODEL = "fake-model"


@dataclass
class Reply:
    """One scripted answer to a chat completion request.

    Args:
        text: The assistant's content; None means the server's default text
            (``"fake reply #<n>"``).
        delay: Seconds to wait before answering (interrupted by ``stop()``).
        status: HTTP status; anything but 200 answers an OpenAI-style error body.
        error_message: The error message for a non-200 status.
        chunk_size: For streamed answers, characters per content chunk (>= 1).
        chunk_delay: For streamed answers, seconds between chunks.
    """

    text: str | None = None
    delay: float = 0.0
    status: int = 200
    error_message: str = "fake error"
    chunk_size: int = 4
    chunk_delay: float = 0.0

    @classmethod
    def error(cls, status: int = 500, message: str = "fake error", delay: float = 0.0) -> Reply:
        """An OpenAI-style error answer (``{"error": {"message": ...}}``)."""
        return cls(status=status, error_message=message, delay=delay)


@dataclass
class RecordedRequest:
    """A request the fake server received (the body parsed as JSON when it is)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float = field(default_factory=time.time)
    index: int = 0  # 1-based among chat completion requests; 0 for other requests

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/").endswith("/chat/completions")

    @property
    def messages(self) -> list[dict]:
        body = self.body if isinstance(self.body, dict) else {}
        return list(body.get("messages") or [])

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream")) if isinstance(self.body, dict) else False

    def contents(self, role: str | None = None) -> list[str]:
        """The text of each message (parts joined), optionally only one role's."""
        return [
            _content_text(m.get("content"))
            for m in self.messages
            if isinstance(m, dict) and (role is None or m.get("role") == role)
        ]

    @property
    def text(self) -> str:
        """Every message's text, one per line: for ``"hello" in req.text``."""
        return "\n".join(self.contents())

    @property
    def last_user_text(self) -> str:
        users = self.contents("user")
        return users[-1] if users else ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, {"type": "image_url"}]
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


class FakeOpenAIServer:
    """OpenAI chat-completions API on ``127.0.0.1:<free port>`` in background threads.

    Args:
        model: The model id ``/v1/models`` lists and completions echo when the
            request names none.
        default: The reply when the script is empty (text, or a ``Reply``).
        responder: ``f(RecordedRequest) -> Reply | str | None``; when it returns
            something, that is the answer (the script is not consumed).
        port: Port to bind; 0 (default) picks a free one.
    """

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        default: Reply | str | None = None,
        responder: Callable[[RecordedRequest], Reply | str | None] | None = None,
        port: int = 0,
    ) -> None:
        self.model = model
        self.default = default
        self.responder = responder
        self._port = port
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._chat_count = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        httpd = _Server(("127.0.0.1", self._port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openai-{httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down, interrupting delays; joins the serving and handler threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        httpd.shutdown()
        httpd.server_close()  # joins handler threads (daemon_threads is False)
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError("fake OpenAI server thread did not stop")
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """What AstrBot's provider wants as ``api_base``: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- script --------------------------------------------------------------------
    def script(self, *replies: Reply | str) -> FakeOpenAIServer:
        """Queue replies, one per coming chat request (strings become ``Reply(text)``)."""
        with self._lock:
            self._script.extend(_as_reply(r) for r in replies)
        return self

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    @property
    def pending_script(self) -> int:
        with self._lock:
            return len(self._script)

    # -- records -------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far (a copy), oldest first."""
        with self._lock:
            return list(self._requests)

    def chat_requests(self) -> list[RecordedRequest]:
        """The chat completion requests so far, oldest first."""
        return [r for r in self.requests if r.is_chat]

    def reset(self) -> None:
        """Forget recorded requests, the script and the reply counter."""
        with self._lock:
            self._requests.clear()
            self._script.clear()
            self._chat_count = 0

    def wait_for_requests(self, count: int = 1, timeout: float = 30.0) -> list[RecordedRequest]:
        """Wait until at least ``count`` chat requests arrived; returns them."""
        wait_for(
            lambda: len(self.chat_requests()) >= count,
            timeout,
            0.02,
            lambda: f"{len(self.chat_requests())} of {count} chat requests arrived",
        )
        return self.chat_requests()

    def wait_for_request(
        self, predicate: Callable[[RecordedRequest], bool], timeout: float = 30.0
    ) -> RecordedRequest:
        """Wait for a chat request matching ``predicate``; returns the first one."""

        def found() -> RecordedRequest | None:
            return next((r for r in self.chat_requests() if predicate(r)), None)

        return wait_for(found, timeout, 0.02, lambda: f"seen: {self.chat_requests()!r}")

    # -- used by the handler -------------------------------------------------------
    def _record(self, req: RecordedRequest) -> Reply | None:
        """Store the request; for a chat request, pick its reply."""
        with self._changed:
            if req.is_chat:
                self._chat_count += 1
                req.index = self._chat_count
            self._requests.append(req)
            self._changed.notify_all()
            if not req.is_chat:
                return None
            scripted = self._script.popleft() if self._script else None
        if self.responder is not None:
            answer = self.responder(req)
            if answer is not None:
                return _as_reply(answer)
        if scripted is not None:
            return scripted
        return _as_reply(self.default) if self.default is not None else Reply()

    def _text_for(self, reply: Reply, req: RecordedRequest) -> str:
        return reply.text if reply.text is not None else f"fake reply #{req.index}"

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; False when interrupted."""
        return not (seconds > 0 and self._stopping.wait(seconds))


def _as_reply(value: Reply | str | None) -> Reply:
    if isinstance(value, Reply):
        return value
    return Reply(text=value)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    allow_reuse_address = False
    fake: FakeOpenAIServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 15  # a silent client cannot hold a handler thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest shows the assertions, not an access log

    # -- routing -------------------------------------------------------------------
    def do_GET(self) -> None:
        fake = self.server.fake
        fake._record(RecordedRequest("GET", self.path, dict(self.headers), None))
        if self.path.split("?")[0].rstrip("/") in ("/v1/models", "/models"):
            models = {
                "object": "list",
                "data": [{"id": fake.model, "object": "model", "created": 0, "owned_by": "fake"}],
            }
            self._json(200, models)
        else:
            self._json(404, _error_body(f"no route GET {self.path}", "not_found"))

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        req = RecordedRequest("POST", self.path.split("?")[0], dict(self.headers), body)
        reply = fake._record(req)
        if reply is None:
            self._json(404, _error_body(f"no route POST {self.path}", "not_found"))
            return
        if not fake._sleep(reply.delay):
            self._json(503, _error_body("fake server stopping", "server_error"))
            return
        if reply.status != 200:
            self._json(reply.status, _error_body(reply.error_message, "server_error"))
            return
        text = fake._text_for(reply, req)
        model = req.model or fake.model
        if req.stream:
            self._stream(text, model, reply, req)
        else:
            self._json(200, _completion(text, model, req))

    # -- responses -----------------------------------------------------------------
    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client is gone (a test killed AstrBot mid-request)

    def _stream(self, text: str, model: str, reply: Reply, req: RecordedRequest) -> None:
        fake = self.server.fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # body ends when the connection does
        self.end_headers()
        self.close_connection = True
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        size = max(1, reply.chunk_size)
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        try:
            self._event(_chunk(cid, created, model, {"role": "assistant", "content": ""}))
            for piece in pieces:
                if not fake._sleep(reply.chunk_delay):
                    return
                self._event(_chunk(cid, created, model, {"content": piece}))
            self._event(_chunk(cid, created, model, {}, finish_reason="stop"))
            body = req.body if isinstance(req.body, dict) else {}
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = _usage(req, text)
                self._event(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    }
                )
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _event(self, payload: dict) -> None:
        self.wfile.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())
        self.wfile.flush()


def _error_body(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def _usage(req: RecordedRequest, text: str) -> dict:
    prompt = max(1, len(req.text) // 4)
    completion = max(1, len(text) // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(text: str, model: str, req: RecordedRequest) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(req, text),
    }


def _chunk(
    cid: str, created: int, model: str, delta: dict, finish_reason: str | None = None
) -> dict:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
