"""A pooled keep-alive connection the server closed while idle is resent once on a fresh one, even with
``max_retries=0``; a fresh connection the server hangs up on is not (the server may have acted on the request)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless.errors import HFServerlessConnectionError

_ANSWER = {
    "id": "chatcmpl-1",
    "model": "tiny",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
_SSE = (
    b'data: {"id":"c","model":"tiny","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}\n\n'
    b'data: {"id":"c","model":"tiny","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


class HangUpServer:
    """A raw HTTP/1.1 server on 127.0.0.1 that keeps connections alive and, when ``answers(conn, nth)`` says no,
    reads the ``nth`` request of connection ``conn`` (both from 0) and closes without a byte of answer: what a
    client sees when a server's idle timeout fires just as a kept-alive connection is reused.

    ``seen`` lists ``(conn, nth)`` of every request read.
    """

    def __init__(self, answers: Callable[[int, int], bool]) -> None:
        self.answers = answers
        self.seen: list[tuple[int, int]] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        conn_index = 0
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._handle, args=(conn, conn_index), daemon=True)
            thread.start()
            self._threads.append(thread)
            conn_index += 1

    def _handle(self, conn: socket.socket, index: int) -> None:
        buffer = b""
        nth = 0
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next(
                    (
                        int(v)
                        for k, _, v in (line.partition(":") for line in lines[1:])
                        if k.lower() == "content-length"
                    ),
                    0,
                )
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                self.seen.append((index, nth))
                if not self.answers(index, nth):
                    conn.shutdown(socket.SHUT_RDWR)  # FIN, no answer
                    return
                nth += 1
                if json.loads(body).get("stream"):
                    payload, kind = _SSE, b"text/event-stream"
                else:
                    payload, kind = json.dumps(_ANSWER).encode(), b"application/json"
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: "
                    + kind
                    + b"\r\ncontent-length: "
                    + str(len(payload)).encode()
                    + b"\r\nconnection: keep-alive\r\n\r\n"
                    + payload
                )

    def close(self) -> None:
        self._stop.set()
        self._accept.join()
        self._sock.close()


@pytest.fixture
def hang_up() -> Iterator[Callable[[Callable[[int, int], bool]], HangUpServer]]:
    servers: list[HangUpServer] = []

    def make(answers: Callable[[int, int], bool]) -> HangUpServer:
        servers.append(HangUpServer(answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _stale_second_request(conn: int, nth: int) -> bool:
    """Connection 0 answers its first request and hangs up on its second; every later connection answers."""
    return not (conn == 0 and nth == 1)


def _call(chat: ChatHFServerless, how: str) -> str:
    if how == "stream":
        return "".join(str(chunk.content) for chunk in chat.stream("hello"))
    return str(chat.invoke("hello").content)


async def _acall(chat: ChatHFServerless, how: str) -> str:
    if how == "stream":
        return "".join([str(chunk.content) async for chunk in chat.astream("hello")])
    return str((await chat.ainvoke("hello")).content)


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_request_on_a_connection_the_server_closed_is_resent_once(hang_up, how: str) -> None:
    server = hang_up(_stale_second_request)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)

    assert _call(chat, how) == "hi"
    assert _call(chat, how) == "hi"

    # The second call met the stale connection 0, then went on a fresh connection 1.
    assert server.seen == [(0, 0), (0, 1), (1, 0)]


@pytest.mark.parametrize("how", ["invoke", "stream"])
async def test_async_request_on_a_connection_the_server_closed_is_resent_once(hang_up, how: str) -> None:
    server = hang_up(_stale_second_request)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)

    assert await _acall(chat, how) == "hi"
    assert await _acall(chat, how) == "hi"

    assert server.seen == [(0, 0), (0, 1), (1, 0)]


def test_fresh_connection_hung_up_on_is_not_resent(hang_up) -> None:
    server = hang_up(lambda conn, nth: False)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)

    with pytest.raises(HFServerlessConnectionError, match="without sending a response"):
        chat.invoke("hello")
    assert server.seen == [(0, 0)]


async def test_async_fresh_connection_hung_up_on_is_not_resent(hang_up) -> None:
    server = hang_up(lambda conn, nth: False)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)

    with pytest.raises(HFServerlessConnectionError, match="without sending a response"):
        await chat.ainvoke("hello")
    assert server.seen == [(0, 0)]


def test_stale_connection_is_resent_only_once(hang_up) -> None:
    """The fresh connection hangs up too: the error comes out after exactly one resend, not a loop."""
    server = hang_up(lambda conn, nth: conn == 0 and nth == 0)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)
    chat.invoke("hello")

    with pytest.raises(HFServerlessConnectionError):
        chat.invoke("hello")
    assert server.seen == [(0, 0), (0, 1), (1, 0)]


def test_resend_does_not_spend_max_retries(hang_up) -> None:
    """With max_retries=1 a stale connection plus one failing fresh attempt still has its one retry left."""
    server = hang_up(lambda conn, nth: (conn, nth) not in ((0, 1), (1, 0)))
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=1)
    chat.invoke("hello")

    assert chat.invoke("hello").content == "hi"
    assert server.seen == [(0, 0), (0, 1), (1, 0), (2, 0)]
