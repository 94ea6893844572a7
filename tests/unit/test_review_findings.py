"""Bugs found by a fresh-eyes review, each pinned by the test that first failed on it.

The last four (closed event loops, typed decoding and redirect errors, one pool per batch) pinned bugs in
``_transport.py`` as strict xfails until the transport was fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import threading
import weakref
from typing import Any

import pytest
from pydantic import SecretStr

from langchain_hfserverless import (
    ChatHFServerless,
    HFServerlessEmbeddings,
    HFServerlessError,
    HFServerlessLLM,
)
from tests.loopback import LoopbackServer, sse

_ANSWER = {
    "id": "chatcmpl-1",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
_STREAM = sse({"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]})


# ---------------------------------------------------------------------------------------------- stream= keyword


def test_invoke_with_stream_false_is_a_plain_call(server: LoopbackServer) -> None:
    """``invoke(..., stream=False)`` is langchain-core's way to force a non-streamed call; it used to TypeError."""
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    assert llm.invoke("x", stream=False).content == "hi"
    assert server.requests[0].json() == {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": False}


def test_invoke_with_stream_true_streams(server: LoopbackServer) -> None:
    server.reply(body=_STREAM)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    assert llm.invoke("x", stream=True).content == "hi"
    assert server.requests[0].json() == {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_streaming_model_invoked_with_stream_false_does_not_stream(server: LoopbackServer) -> None:
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m", streaming=True, max_retries=0)
    assert llm.invoke("x", stream=False).content == "hi"
    assert server.requests[0].json()["stream"] is False


def test_ainvoke_and_bind_with_stream_keyword(server: LoopbackServer) -> None:
    server.reply(body=_ANSWER)
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    assert asyncio.run(llm.ainvoke("x", stream=False)).content == "hi"
    assert llm.bind(stream=False).invoke("y").content == "hi"
    assert [r.json()["stream"] for r in server.requests] == [False, False]


# ---------------------------------------------------------------------------------------------- stream_usage / options


def test_call_time_stream_usage_is_honoured_and_never_sent(server: LoopbackServer) -> None:
    server.reply(body=_STREAM)
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    list(llm.stream("x", stream_usage=False))
    llm.invoke("y", stream_usage=True)
    streamed, plain = (r.json() for r in server.requests)
    assert "stream_usage" not in streamed and "stream_options" not in streamed
    assert "stream_usage" not in plain and "stream_options" not in plain


def test_call_time_stream_usage_true_asks_for_usage(server: LoopbackServer) -> None:
    server.reply(body=_STREAM)
    llm = ChatHFServerless(base_url=server.url, model="m", stream_usage=False, max_retries=0)
    list(llm.stream("x", stream_usage=True))
    body = server.requests[0].json()
    assert body["stream_options"] == {"include_usage": True} and "stream_usage" not in body


def test_call_time_stream_options_are_sent_as_given(server: LoopbackServer) -> None:
    server.reply(body=_STREAM)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    list(llm.stream("x", stream_options={"include_usage": False}))
    assert server.requests[0].json()["stream_options"] == {"include_usage": False}


# ---------------------------------------------------------------------------------------------- copies


@pytest.fixture
def second_server() -> Any:
    from tests.loopback import serve

    yield from serve()


def test_model_copy_with_a_new_base_url_goes_to_the_new_server(
    server: LoopbackServer, second_server: LoopbackServer
) -> None:
    server.reply(body=_ANSWER)
    second_server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    llm.invoke("x")  # builds the transport
    moved = llm.model_copy(update={"base_url": second_server.url})
    moved.invoke("y")
    assert len(server.requests) == 1
    assert len(second_server.requests) == 1


def test_model_copy_with_a_new_key_sends_the_new_key(server: LoopbackServer) -> None:
    server.reply(body=_ANSWER)
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m", api_key="old-key-123", max_retries=0)
    llm.invoke("x")
    llm.model_copy(update={"api_key": SecretStr("new-key-456")}).invoke("y")
    auth = [{k.lower(): v for k, v in r.headers.items()}["authorization"] for r in server.requests]
    assert auth == ["Bearer old-key-123", "Bearer new-key-456"]


def test_embeddings_model_copy_with_a_new_model_sends_the_new_model(server: LoopbackServer) -> None:
    server.reply(body={"data": [{"index": 0, "embedding": [1.0, 0.0]}]})
    server.reply(body={"data": [{"index": 0, "embedding": [1.0, 0.0]}]})
    embeddings = HFServerlessEmbeddings(base_url=f"{server.url}/v1/embeddings", model="small")
    embeddings.embed_query("a")
    embeddings.model_copy(update={"model": "large"}).embed_query("b")
    assert [r.json()["model"] for r in server.requests] == ["small", "large"]


def test_plain_model_copy_shares_the_pool() -> None:
    from bench.server import bench_handler, serve_in_thread

    server = serve_in_thread(bench_handler, is_async=False)
    try:
        llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
        llm.invoke("x")
        llm.model_copy().invoke("y")
        llm.model_copy(update={"temperature": 0.5}).invoke("z")
        assert (server.stats.requests, server.stats.accepted) == (3, 1)  # three calls, one connection
    finally:
        server.stop()


@pytest.mark.parametrize("how", ["deepcopy", "model_copy"])
def test_deep_copy_of_a_used_model_works(server: LoopbackServer, how: str) -> None:
    server.reply(body=_ANSWER)
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    llm.invoke("x")  # the pooled client holds locks, which cannot be deep-copied
    twin = copy.deepcopy(llm) if how == "deepcopy" else llm.model_copy(deep=True)
    assert twin.invoke("y").content == "hi"
    assert twin._transport is not llm._transport
    assert len(server.requests) == 2


def test_deep_copy_of_a_used_llm_works(server: LoopbackServer) -> None:
    server.reply(body=[{"generated_text": "a"}])
    server.reply(body=[{"generated_text": "b"}])
    llm = HFServerlessLLM(base_url=server.url, max_retries=0)
    assert llm.invoke("x") == "a"
    assert copy.deepcopy(llm).invoke("y") == "b"


# ---------------------------------------------------------------------------------------------- async paths


def test_async_chat_looks_the_provider_up_off_the_event_loop(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """provider="together" asks the Hub for the provider's model id: a blocking HTTP call, kept off the loop."""
    from huggingface_hub.hf_api import InferenceProviderMapping
    from huggingface_hub.inference._providers import PROVIDERS, _common

    model = "meta-llama/Llama-3.1-8B-Instruct"
    mapping = InferenceProviderMapping(
        provider="together", hf_model_id=model, providerId="together/llama", task="conversational", status="live"
    )
    lookups: list[int] = []

    def fetch(name: str) -> list[Any]:
        lookups.append(threading.get_ident())
        return [mapping]

    monkeypatch.setattr(_common, "_fetch_inference_provider_mapping", fetch)
    monkeypatch.setattr(PROVIDERS["together"]["conversational"], "base_url", server.url)
    server.reply(body=_ANSWER)
    server.reply(body=_STREAM)
    llm = ChatHFServerless(model=model, provider="together", api_key="k", max_retries=0)
    ainvoke = ChatHFServerless(model=model, provider="together", api_key="k", max_retries=0)

    async def main() -> int:
        await ainvoke.ainvoke("x")
        [chunk async for chunk in llm.astream("y")]
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert lookups and loop_thread not in lookups
    assert [r.json()["model"] for r in server.requests] == ["together/llama", "together/llama"]


def test_closed_event_loops_are_released(server: LoopbackServer) -> None:
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def call() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await llm.ainvoke("x")

    for _ in range(3):
        server.reply(body=_ANSWER)
        asyncio.run(call())
    gc.collect()
    # asyncio.run() closes a loop's pooled client as the loop shuts down: no loop is kept alive by the pool, so
    # the memory held stays bounded however many asyncio.run() calls share the model.
    assert [ref() for ref in loops] == [None, None, None]


# ---------------------------------------------------------------------------------------------- typed errors


def test_undecodable_body_is_a_typed_error(server: LoopbackServer) -> None:
    server.reply(body=b"not gzip at all", headers={"content-type": "application/json", "content-encoding": "gzip"})
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    with pytest.raises(HFServerlessError):
        llm.invoke("x")


def test_redirect_loop_is_a_typed_error(server: LoopbackServer) -> None:
    server.default = None
    for _ in range(30):
        server.reply(302, b"", headers={"location": "/again"})
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    with pytest.raises(HFServerlessError):
        llm.invoke("x")


# ---------------------------------------------------------------------------------------------- pools under batch


def _json_default(server: LoopbackServer) -> None:
    import json

    from tests.loopback import Answer

    server.default = Answer(200, {"content-type": "application/json"}, json.dumps(_ANSWER).encode())


def _hold_first_two(made: list[Any]) -> Any:
    """A constructor hook: the first two callers wait for each other (at most 2 s), so two threads that race to
    build the same lazy object are both caught inside; with a lock, the second never gets there."""
    both_inside = threading.Barrier(2, timeout=2)

    def hold() -> None:
        made.append(None)
        if len(made) <= 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_inside.wait()

    return hold


def test_batch_builds_one_transport(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_hfserverless import _connection

    made: list[Any] = []
    hold = _hold_first_two(made)

    class Counted(_connection.RouterTransport):
        def __init__(self, **kwargs: Any) -> None:
            hold()
            super().__init__(**kwargs)

    monkeypatch.setattr(_connection, "RouterTransport", Counted)
    _json_default(server)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    llm.batch(["a", "b", "c", "d"], config={"max_concurrency": 4})
    assert len(made) == 1


def test_batch_builds_one_pooled_client(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2

    made: list[Any] = []
    hold = _hold_first_two(made)
    original = httpx2.Client.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        hold()
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx2.Client, "__init__", counted)
    _json_default(server)
    # Pools are shared per process and timeout: a timeout no other test uses makes this batch the pool's first use.
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0, timeout=17.25)
    assert llm._transport is not None  # built up front: this test is about the client
    llm.batch(["a", "b", "c", "d"], config={"max_concurrency": 4})
    assert len(made) == 1
