"""Cancellation frees the connection: a stream abandoned midway (``break``, ``task.cancel()``, ``.close()`` on a
sync generator) and a cancelled ``ainvoke`` close their HTTP connection at once — the server sees it go, and the
next call runs on a fresh connection — while a stream read to its end keeps its connection for the next call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from bench.server import (
    CHUNKED_END,
    JSON_HEADERS,
    SSE_HEADERS,
    Connection,
    Request,
    ThreadServer,
    chunk,
    chunked_head,
    response_bytes,
    serve_in_thread,
    sse_event,
    stream_chunk,
)
from langchain_hfserverless import ChatHFServerless

ENDLESS_EVENTS = 1_500  # at one event per 20 ms: half a minute, far longer than any test waits


async def _handler(request: Request, conn: Connection) -> None:
    """Prompt "finite": a short stream ("hang up after done": the same, then the socket closes mid-body). Any
    other stream: one event every 20 ms until the client hangs up. Not streamed: no answer until it hangs up."""
    body = request.json()
    if not body.get("stream"):
        await asyncio.wait([conn.closed], timeout=30)
        conn.close()
        return
    prompt = body["messages"][-1]["content"]
    if prompt in ("finite", "hang up after done"):
        events = [sse_event(stream_chunk(t, role=i == 0)) for i, t in enumerate(["a ", "b ", "c"])]
        head = chunked_head(200, SSE_HEADERS) + b"".join(chunk(e) for e in events) + chunk(b"data: [DONE]\n\n")
        if prompt == "finite":
            conn.write(head + CHUNKED_END)
        else:  # the answer is complete, but the body never properly ends
            conn.write(head)
            conn.close()
        return
    conn.write(chunked_head(200, SSE_HEADERS))
    for i in range(ENDLESS_EVENTS):
        if conn.closed.done():
            return
        conn.write(chunk(sse_event(stream_chunk(f"t{i} ", role=i == 0))))
        await asyncio.wait([conn.closed], timeout=0.02)
    conn.write(response_bytes(500, JSON_HEADERS, b""))  # never reached in a passing test


@pytest.fixture
def stream_server() -> Iterator[ThreadServer]:
    server = serve_in_thread(_handler)
    yield server
    server.stop()


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


async def _aeventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def _anext_call_works(llm: ChatHFServerless, server: ThreadServer) -> None:
    """The pool kept no half-used connection: the next call gets a whole answer, on a new connection."""
    accepted = server.stats.accepted
    assert "".join([str(c.content) async for c in llm.astream("finite")]) == "a b c"
    assert server.stats.accepted == accepted + 1


def _next_call_works(llm: ChatHFServerless, server: ThreadServer) -> None:
    accepted = server.stats.accepted
    assert "".join(str(c.content) for c in llm.stream("finite")) == "a b c"
    assert server.stats.accepted == accepted + 1


def _model(server: ThreadServer) -> ChatHFServerless:
    return ChatHFServerless(base_url=server.url, model="m", max_retries=0, timeout=10)


# ------------------------------------------------------------------------------------------------ async


async def test_breaking_out_of_astream_closes_the_connection(stream_server: ThreadServer) -> None:
    llm = _model(stream_server)
    received = []
    async for piece in llm.astream("endless"):
        received.append(piece.content)
        if len(received) == 3:
            break
    assert received == ["t0 ", "t1 ", "t2 "]
    assert await _aeventually(lambda: stream_server.stats.open == 0), "the server still holds the connection"
    await _anext_call_works(llm, stream_server)
    await llm.aclose()


async def test_cancelling_a_streaming_task_closes_the_connection(stream_server: ThreadServer) -> None:
    llm = _model(stream_server)
    received: list[str] = []
    two_in = asyncio.Event()

    async def consume() -> None:
        async for piece in llm.astream("endless"):
            received.append(str(piece.content))
            if len(received) == 2:
                two_in.set()

    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(two_in.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream_server.stats.accepted == 1
    assert await _aeventually(lambda: stream_server.stats.open == 0), "the server still holds the connection"
    await _anext_call_works(llm, stream_server)
    assert len(received) < 100  # it stopped when cancelled, long before the stream's end
    await llm.aclose()


async def test_cancelling_ainvoke_closes_the_connection(stream_server: ThreadServer) -> None:
    llm = _model(stream_server)
    task = asyncio.ensure_future(llm.ainvoke("no answer"))
    assert await _aeventually(lambda: stream_server.stats.requests == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _aeventually(lambda: stream_server.stats.open == 0), "the server still holds the connection"
    await _anext_call_works(llm, stream_server)
    await llm.aclose()


async def test_a_stream_read_to_its_end_keeps_its_connection_for_reuse(stream_server: ThreadServer) -> None:
    llm = _model(stream_server)
    for _ in range(3):
        assert "".join([str(c.content) async for c in llm.astream("finite")]) == "a b c"
    assert stream_server.stats.accepted == 1  # one connection, reused
    assert stream_server.stats.open == 1
    await llm.aclose()
    assert await _aeventually(lambda: stream_server.stats.open == 0)


# ------------------------------------------------------------------------------------------------ sync


def test_closing_a_sync_stream_early_closes_the_connection(stream_server: ThreadServer) -> None:
    llm = _model(stream_server)
    stream = llm.stream("endless")
    received = [next(stream).content for _ in range(3)]
    assert received == ["t0 ", "t1 ", "t2 "]
    assert stream_server.stats.open == 1
    stream.close()
    assert _eventually(lambda: stream_server.stats.open == 0), "the server still holds the connection"
    _next_call_works(llm, stream_server)
    llm.close()


def test_breaking_out_of_a_sync_stream_closes_the_connection(stream_server: ThreadServer) -> None:
    llm = _model(stream_server)
    for count, _ in enumerate(llm.stream("endless"), start=1):
        if count == 5:
            break
    assert _eventually(lambda: stream_server.stats.open == 0), "the server still holds the connection"
    # The model is fine afterwards: the next stream runs on a fresh connection.
    _next_call_works(llm, stream_server)
    llm.close()


def test_a_sync_stream_read_to_its_end_keeps_its_connection_for_reuse(stream_server: ThreadServer) -> None:
    llm = _model(stream_server)
    for _ in range(3):
        assert "".join(str(c.content) for c in llm.stream("finite")) == "a b c"
    assert stream_server.stats.accepted == 1
    llm.close()
    assert _eventually(lambda: stream_server.stats.open == 0)


def test_a_server_hanging_up_right_after_done_still_gives_the_whole_answer(stream_server: ThreadServer) -> None:
    llm = _model(stream_server)
    assert "".join(str(c.content) for c in llm.stream("hang up after done")) == "a b c"
    _next_call_works(llm, stream_server)
    llm.close()
