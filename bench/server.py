"""A fast loopback stand-in for the router: chat completions, SSE streams of N chunks, feature-extraction.

One asyncio HTTP/1.1 keep-alive server, answers precomputed and cached, so the client under test — not the
server — is what a benchmark measures. Run it in its own process (``BenchServer``) so it never competes with
the client for the GIL, or in a thread (``serve_in_thread``) with a custom async handler, as the fault-injection
mode does.

Requests it understands (``POST``):

* ``…/chat/completions``: a chat completion, or with ``"stream": true`` an SSE stream of
  ``x-bench-chunks`` content chunks (default 200), a finish chunk, a usage chunk and ``data: [DONE]``.
* ``…/feature-extraction`` (or any ``/models/…`` path): ``{"inputs": str | [str]}`` -> one
  ``x-bench-dim``-sized vector (default 384) per text, sentence-transformers style.
* ``…/v1/embeddings``: the OpenAI shape (``data[].embedding``, ``usage``).
* ``/scenario/{name}/…/chat/completions``: a correctness scenario (``scenario_response``) for comparing
  clients: ``echo`` answers with the request's headers and body as the content, ``cumulative-usage``
  streams usage on every chunk (novita/hyperbolic style), ``reasoning`` answers with ``reasoning_content``.

Example:
    .. code-block:: python

        from bench.server import BenchServer

        with BenchServer() as server:
            print(server.url)  # http://127.0.0.1:<port>
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

CHAT_MODEL = "bench-model"
DEFAULT_CHUNKS = 200
DEFAULT_DIM = 384
ANSWER = "Hello from the bench server."
TOKEN = "tok "

_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    429: b"Too Many Requests",
    500: b"Internal Server Error",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
    504: b"Gateway Timeout",
}


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


@dataclass
class ServerStats:
    """What the server saw: connections accepted and still open, requests answered."""

    accepted: int = 0
    open: int = 0
    requests: int = 0


def response_bytes(status: int, headers: dict[str, str], body: bytes) -> bytes:
    """A whole HTTP/1.1 response with a content-length."""
    head = [b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Status"))]
    head += [f"{k}: {v}".encode() for k, v in headers.items()]
    head.append(b"content-length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def chunked_head(status: int, headers: dict[str, str]) -> bytes:
    """Status line and headers of a ``transfer-encoding: chunked`` response."""
    head = [b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Status"))]
    head += [f"{k}: {v}".encode() for k, v in headers.items()]
    head.append(b"transfer-encoding: chunked")
    return b"\r\n".join(head) + b"\r\n\r\n"


def chunk(piece: bytes) -> bytes:
    """One HTTP chunk."""
    return b"%x\r\n%s\r\n" % (len(piece), piece)


CHUNKED_END = b"0\r\n\r\n"
SSE_HEADERS = {"content-type": "text/event-stream", "x-inference-provider": "bench"}
JSON_HEADERS = {"content-type": "application/json", "x-inference-provider": "bench"}


def sse_event(payload: Any) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def stream_chunk(content: str | None = None, *, finish: str | None = None, role: bool = False) -> dict[str, Any]:
    delta: dict[str, Any] = {"role": "assistant"} if role else {}
    if content is not None:
        delta["content"] = content
    return {
        "id": "bench-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": CHAT_MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
CHAT_BODY = orjson.dumps(
    {
        "id": "bench-1",
        "object": "chat.completion",
        "created": 1,
        "model": CHAT_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
        "usage": USAGE,
    }
)
CHAT_RESPONSE = response_bytes(200, JSON_HEADERS, CHAT_BODY)


@functools.lru_cache(maxsize=16)
def sse_response(n: int) -> bytes:
    """A full chunked SSE response of ``n`` content chunks; each event is its own HTTP chunk."""
    events = [sse_event(stream_chunk(TOKEN, role=i == 0)) for i in range(n)]
    events.append(sse_event(stream_chunk(finish="stop")))
    events.append(
        sse_event(
            {
                "id": "bench-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": CHAT_MODEL,
                "choices": [],
                "usage": USAGE,
            }
        )
    )
    events.append(b"data: [DONE]\n\n")
    return chunked_head(200, SSE_HEADERS) + b"".join(chunk(e) for e in events) + CHUNKED_END


@functools.lru_cache(maxsize=8)
def _vector(dim: int) -> bytes:
    return orjson.dumps([round((i % 97) / 97 - 0.5, 6) for i in range(dim)])


def embeddings_response(request: Request) -> bytes:
    dim = int(request.headers.get("x-bench-dim", DEFAULT_DIM))
    data = request.json() or {}
    if request.path.endswith("/embeddings"):
        inputs = data.get("input", [])
        texts = inputs if isinstance(inputs, list) else [inputs]
        vec = _vector(dim)
        items = b",".join(b'{"object":"embedding","index":%d,"embedding":%s}' % (i, vec) for i in range(len(texts)))
        body = b'{"object":"list","model":"%s","data":[%s],"usage":{"prompt_tokens":%d,"total_tokens":%d}}' % (
            CHAT_MODEL.encode(),
            items,
            len(texts),
            len(texts),
        )
        return response_bytes(200, JSON_HEADERS, body)
    inputs = data.get("inputs", [])
    if isinstance(inputs, str):
        return response_bytes(200, JSON_HEADERS, _vector(dim))
    body = b"[" + b",".join([_vector(dim)] * len(inputs)) + b"]"
    return response_bytes(200, JSON_HEADERS, body)


# ---------------------------------------------------------------------------------------------- scenarios

SCENARIO_CHUNKS = 20
SCENARIO_PROMPT_TOKENS = 46  # the novita recording's figures: 46 prompt + 20 completion = 66
REASONING = "The user greets me; I greet back."


def _chat_body(message: dict[str, Any], usage: dict[str, int] | None = USAGE) -> bytes:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}
    return orjson.dumps({**orjson.loads(CHAT_BODY), "choices": [choice], "usage": usage})


def _sse(events: list[Any]) -> bytes:
    pieces = [sse_event(e) for e in events] + [b"data: [DONE]\n\n"]
    return chunked_head(200, SSE_HEADERS) + b"".join(chunk(p) for p in pieces) + CHUNKED_END


def _with_delta(event: dict[str, Any], **delta: Any) -> dict[str, Any]:
    event["choices"][0]["delta"].update(delta)
    return event


def scenario_response(name: str, request: Request) -> bytes:
    """One correctness scenario; streams when the body asks for it, like the router."""
    data = request.json() or {}
    stream = bool(data.get("stream"))
    if name == "echo":  # what the client sent, as the answer: headers (lower-cased) and the JSON body
        seen = orjson.dumps({"headers": request.headers, "body": data}).decode()
        if stream:
            return _sse([stream_chunk(seen, role=True), stream_chunk(finish="stop")])
        return response_bytes(200, JSON_HEADERS, _chat_body({"content": seen}))
    if name == "cumulative-usage":  # every chunk carries the running total; the last figure is the answer
        events = []
        for i in range(SCENARIO_CHUNKS + 1):
            last = i == SCENARIO_CHUNKS
            event = stream_chunk(TOKEN if i else None, role=i == 0, finish="stop" if last else None)
            event["usage"] = {
                "prompt_tokens": SCENARIO_PROMPT_TOKENS,
                "completion_tokens": i,
                "total_tokens": SCENARIO_PROMPT_TOKENS + i,
            }
            events.append(event)
        if stream:
            return _sse(events)
        body = _chat_body({"content": TOKEN * SCENARIO_CHUNKS}, events[-1]["usage"])
        return response_bytes(200, JSON_HEADERS, body)
    if name == "reasoning":
        if stream:
            halves = (REASONING[:12], REASONING[12:])
            head = [_with_delta(stream_chunk(role=not i), reasoning_content=r) for i, r in enumerate(halves)]
            return _sse([*head, stream_chunk(ANSWER), stream_chunk(finish="stop")])
        body = _chat_body({"content": ANSWER, "reasoning_content": REASONING})
        return response_bytes(200, JSON_HEADERS, body)
    body = orjson.dumps({"error": f"bench server: no scenario {name!r}"})
    return response_bytes(404, JSON_HEADERS, body)


def bench_handler(request: Request) -> bytes:
    """The stand-in router: every answer is precomputed or cached bytes (scenarios excepted)."""
    path = request.path
    if path.startswith("/scenario/") and path.endswith("/chat/completions"):
        return scenario_response(path.split("/")[2], request)
    if path.endswith("/chat/completions"):
        body = request.body
        if b'"stream":true' in body or b'"stream": true' in body:
            return sse_response(int(request.headers.get("x-bench-chunks", DEFAULT_CHUNKS)))
        return CHAT_RESPONSE
    if "feature-extraction" in path or path.endswith("/embeddings") or "/models/" in path:
        return embeddings_response(request)
    body = orjson.dumps({"error": f"bench server: no route for {path}"})
    return response_bytes(404, JSON_HEADERS, body)


SyncHandler = Callable[[Request], bytes]
AsyncHandler = Callable[[Request, "Connection"], Awaitable[None]]


class Connection(asyncio.Protocol):
    """HTTP/1.1 keep-alive connection: parses requests, hands each to a sync (bytes) or async handler."""

    def __init__(self, handler: SyncHandler | AsyncHandler, stats: ServerStats, is_async: bool) -> None:
        self._handler = handler
        self._stats = stats
        self._async = is_async
        self._buffer = bytearray()
        self._busy = False
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._stats.accepted += 1
        self._stats.open += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self._stats.open -= 1
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._busy:
            self._process()

    # -- helpers for async handlers
    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
        if self.transport is None:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- parsing
    def _next_request(self) -> Request | None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        method, path, _ = head[0].split(" ", 2)
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", 0))
        if len(self._buffer) < end + 4 + length:
            return None
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        del self._buffer[: end + 4 + length]
        return Request(method, path, headers, body)

    def _process(self) -> None:
        while self.transport is not None and not self.transport.is_closing():
            request = self._next_request()
            if request is None:
                return
            self._stats.requests += 1
            if not self._async:
                self.transport.write(self._handler(request))  # type: ignore[call-arg,arg-type]
                continue
            self._busy = True
            task = asyncio.ensure_future(self._handler(request, self))  # type: ignore[arg-type,call-arg]
            task.add_done_callback(self._handled)
            return

    def _handled(self, task: asyncio.Future[None]) -> None:
        self._busy = False
        if not task.cancelled() and task.exception() is not None and self.transport is not None:
            self.transport.abort()
            return
        self._process()


async def _serve(handler: SyncHandler | AsyncHandler, is_async: bool, stats: ServerStats) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: Connection(handler, stats, is_async), "127.0.0.1", 0, backlog=4096, reuse_address=True
    )


@dataclass
class ThreadServer:
    """A server running on its own event loop in a daemon thread (for in-process use, e.g. fault injection)."""

    url: str
    stats: ServerStats
    loop: asyncio.AbstractEventLoop
    _server: asyncio.Server
    _thread: threading.Thread
    connections: list[Connection] = field(default_factory=list)

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            await self._server.wait_closed()

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


def serve_in_thread(handler: SyncHandler | AsyncHandler, *, is_async: bool = True) -> ThreadServer:
    """Start a server with ``handler`` on a background event loop; ``stop()`` it when done."""
    loop = asyncio.new_event_loop()
    stats = ServerStats()
    started = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        holder["server"] = loop.run_until_complete(_serve(handler, is_async, stats))
        started.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name="bench-server", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("bench server did not start")
    port = holder["server"].sockets[0].getsockname()[1]
    return ThreadServer(f"http://127.0.0.1:{port}", stats, loop, holder["server"], thread)


class BenchServer:
    """The stand-in router in its own process, so it never shares the client's GIL."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> BenchServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self._proc.kill()
            raise RuntimeError(f"bench server failed to start: {line!r}")
        self.url = line
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the server exits when its stdin closes
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


async def _main() -> None:
    server = await _serve(bench_handler, False, ServerStats())
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    loop = asyncio.get_running_loop()
    # Stop when the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(_main())
