"""A scripted HTTP server on 127.0.0.1 for tests: no network, real sockets, real HTTP.

Queue answers with :meth:`LoopbackServer.reply` (status, headers, body or a list of body pieces with optional
delays between them, or a connection reset); every request is recorded (method, path, headers, body) in
:attr:`LoopbackServer.requests`. When the queue is empty, the ``default`` answer is served.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | list[bytes] = b""
    delay: float = 0.0
    """Seconds to wait before sending anything (simulates a slow server)."""
    piece_delay: float = 0.0
    """Seconds between body pieces (list bodies are sent chunked)."""
    reset: bool = False
    """Close the connection without answering."""
    hold: float = 0.0
    """Seconds to wait for the client to hang up before answering; when it does, nothing is sent."""
    cut: bool = False
    """List bodies: hang up after the last piece, without the chunk that ends the body."""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def sse(*events: Any, done: bool = True, space: bool = True) -> list[bytes]:
    """SSE body pieces from JSON-able events (``data: {...}`` or ``data:{...}``), optionally ``[DONE]``."""
    prefix = "data: " if space else "data:"
    pieces = [f"{prefix}{json.dumps(e) if not isinstance(e, str) else e}\n\n".encode() for e in events]
    if done:
        pieces.append(f"{prefix}[DONE]\n\n".encode())
    return pieces


class LoopbackServer:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.queue: deque[Answer] = deque()
        self.default: Answer | None = None
        self.connections_accepted = 0
        """Connections the server has accepted so far."""
        self.connections_open = 0
        """Connections not yet closed (by either side)."""
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections_accepted += 1
                    server.connections_open += 1

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with server._lock:
                        server.connections_open -= 1

            def _client_hung_up(self, within: float) -> bool:
                deadline = time.monotonic() + within
                while (left := deadline - time.monotonic()) > 0:
                    readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
                    if not readable:
                        continue
                    try:
                        if not self.connection.recv(1, socket.MSG_PEEK):
                            return True
                    except OSError:
                        return True
                    time.sleep(0.05)  # bytes of a next request are waiting: not a hang-up
                return False

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.requests.append(Seen(self.command, self.path, dict(self.headers.items()), body))
                    answer = server.queue.popleft() if server.queue else server.default
                if answer is None:
                    answer = Answer(500, {"content-type": "application/json"}, b'{"error": "no answer queued"}')
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.hold and self._client_hung_up(answer.hold):
                    self.close_connection = True
                    return
                if answer.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    self.close_connection = True
                    return
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                if isinstance(answer.body, list):
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for piece in answer.body:
                        if answer.piece_delay:
                            time.sleep(answer.piece_delay)
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                        self.wfile.flush()
                    if answer.cut:
                        self.close_connection = True
                        return
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)

            do_POST = _handle
            do_GET = _handle

        class QuietServer(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that reset or cancel on purpose are not test failures

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reply(self, status: int = 200, body: Any = b"", headers: dict[str, str] | None = None, **kw: Any) -> None:
        """Queue one answer; dict/list bodies (not byte pieces) are sent as JSON."""
        headers = dict(headers or {})
        if not isinstance(body, (bytes, str)) and not (isinstance(body, list) and body and isinstance(body[0], bytes)):
            body = json.dumps(body).encode()
            headers.setdefault("content-type", "application/json")
        elif isinstance(body, list):
            headers.setdefault("content-type", "text/event-stream")
        if isinstance(body, str):
            body = body.encode()
        self.queue.append(Answer(status, headers, body, **kw))

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    try:
        yield server
    finally:
        server.stop()
