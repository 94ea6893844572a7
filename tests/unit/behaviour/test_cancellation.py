"""Cancellation frees the connection: a stream abandoned midway (``break``, ``task.cancel()``, ``.close()`` on a
sync generator) and a cancelled ``ainvoke`` close their HTTP connection at once — the server sees it go, and the
client's pool holds no busy connection — while a stream read to its end keeps its connection for the next call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from langchain_hfserverless import ChatHFServerless
from tests.loopback import Answer, LoopbackServer, sse

ENDLESS_EVENTS = 1_500  # at one event per 20 ms: half a minute, far longer than any test waits


def _chunk(content: str, first: bool) -> dict[str, Any]:
    delta = {"role": "assistant", "content": content} if first else {"content": content}
    return {
        "id": "c-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


SSE = {"content-type": "text/event-stream"}
FINITE = Answer(headers=SSE, body=sse(*(_chunk(t, i == 0) for i, t in enumerate(["a ", "b ", "c"]))))
"""A short stream: "a b c", then ``[DONE]``."""
HANG_UP_AFTER_DONE = Answer(headers=SSE, body=FINITE.body, cut=True)
"""The same complete answer, but the socket closes before the body properly ends."""
ENDLESS = Answer(
    headers=SSE, body=sse(*(_chunk(f"t{i} ", i == 0) for i in range(ENDLESS_EVENTS)), done=False), piece_delay=0.02
)
"""One event every 20 ms until the client hangs up."""
NO_ANSWER = Answer(hold=30)
"""No answer until the client hangs up."""


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


async def _anext_call_works(llm: ChatHFServerless, server: LoopbackServer) -> None:
    """The pool kept no half-used connection: the next call gets a whole answer, on a new connection."""
    server.queue.append(FINITE)
    accepted = server.connections_accepted
    assert "".join([str(c.content) async for c in llm.astream("finite")]) == "a b c"
    assert server.connections_accepted == accepted + 1


def _next_call_works(llm: ChatHFServerless, server: LoopbackServer) -> None:
    server.queue.append(FINITE)
    accepted = server.connections_accepted
    assert "".join(str(c.content) for c in llm.stream("finite")) == "a b c"
    assert server.connections_accepted == accepted + 1


def _model(server: LoopbackServer) -> ChatHFServerless:
    return ChatHFServerless(base_url=server.url, model="m", max_retries=0, timeout=10)


# ------------------------------------------------------------------------------------------------ async


async def test_breaking_out_of_astream_closes_the_connection(server: LoopbackServer) -> None:
    server.queue.append(ENDLESS)
    llm = _model(server)
    received = []
    async for piece in llm.astream("endless"):
        received.append(piece.content)
        if len(received) == 3:
            break
    assert received == ["t0 ", "t1 ", "t2 "]
    assert await _aeventually(lambda: server.connections_open == 0), "the server still holds the connection"
    await _anext_call_works(llm, server)
    await llm.aclose()


async def test_cancelling_a_streaming_task_closes_the_connection(server: LoopbackServer) -> None:
    server.queue.append(ENDLESS)
    llm = _model(server)
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
    assert server.connections_accepted == 1
    assert await _aeventually(lambda: server.connections_open == 0), "the server still holds the connection"
    await _anext_call_works(llm, server)
    assert len(received) < 100  # it stopped when cancelled, long before the stream's end
    await llm.aclose()


async def test_cancelling_ainvoke_closes_the_connection(server: LoopbackServer) -> None:
    server.queue.append(NO_ANSWER)
    llm = _model(server)
    task = asyncio.ensure_future(llm.ainvoke("no answer"))
    assert await _aeventually(lambda: len(server.requests) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _aeventually(lambda: server.connections_open == 0), "the server still holds the connection"
    await _anext_call_works(llm, server)
    await llm.aclose()


async def test_a_stream_read_to_its_end_keeps_its_connection_for_reuse(server: LoopbackServer) -> None:
    server.default = FINITE
    llm = _model(server)
    for _ in range(3):
        assert "".join([str(c.content) async for c in llm.astream("finite")]) == "a b c"
    assert server.connections_accepted == 1  # one connection, reused
    assert server.connections_open == 1
    await llm.aclose()
    assert await _aeventually(lambda: server.connections_open == 0)


# ------------------------------------------------------------------------------------------------ sync


def test_closing_a_sync_stream_early_closes_the_connection(server: LoopbackServer) -> None:
    server.queue.append(ENDLESS)
    llm = _model(server)
    stream = llm.stream("endless")
    received = [next(stream).content for _ in range(3)]
    assert received == ["t0 ", "t1 ", "t2 "]
    assert server.connections_open == 1
    stream.close()
    assert _eventually(lambda: server.connections_open == 0), "the server still holds the connection"
    _next_call_works(llm, server)
    llm.close()


def test_breaking_out_of_a_sync_stream_closes_the_connection(server: LoopbackServer) -> None:
    server.queue.append(ENDLESS)
    llm = _model(server)
    for count, _ in enumerate(llm.stream("endless"), start=1):
        if count == 5:
            break
    assert _eventually(lambda: server.connections_open == 0), "the server still holds the connection"
    # The model is fine afterwards: the next stream runs on a fresh connection.
    _next_call_works(llm, server)
    llm.close()


def test_a_sync_stream_read_to_its_end_keeps_its_connection_for_reuse(server: LoopbackServer) -> None:
    server.default = FINITE
    llm = _model(server)
    for _ in range(3):
        assert "".join(str(c.content) for c in llm.stream("finite")) == "a b c"
    assert server.connections_accepted == 1
    llm.close()
    assert _eventually(lambda: server.connections_open == 0)


def test_a_server_hanging_up_right_after_done_still_gives_the_whole_answer(server: LoopbackServer) -> None:
    server.queue.append(HANG_UP_AFTER_DONE)
    llm = _model(server)
    assert "".join(str(c.content) for c in llm.stream("hang up after done")) == "a b c"
    _next_call_works(llm, server)
    llm.close()
