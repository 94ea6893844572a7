"""``_connection.py``: the connection settings shared by every adapter (the toolkit too), strict construction
(unknown keywords, model_kwargs that shadow fields, numeric ranges raise at once), copies of a model that keep or
change its connection, and closing their pooled clients."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.rate_limiters import InMemoryRateLimiter
from pydantic import SecretStr, ValidationError

from bench.server import JSON_HEADERS, Request, response_bytes, serve_in_thread
from langchain_hfserverless import (
    ChatHFServerless,
    HFServerlessEmbeddings,
    HFServerlessLLM,
    HFServerlessTaskTool,
    HFServerlessToolkit,
    create_task_tool,
)
from langchain_hfserverless.tools import TranslationTool
from tests.loopback import LoopbackServer
from tests.unit.answers import CHAT_ANSWER
from tests.unit.media_samples import PNG

_ANSWER = {"id": "x", "model": "m", "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}]}


@pytest.mark.parametrize(
    "adapter",
    [
        lambda: ChatHFServerless(model="m", hf_token="hf_secret_value"),
        lambda: HFServerlessLLM(model="m", huggingfacehub_api_token="hf_secret_value"),
        lambda: HFServerlessEmbeddings(model="m", api_key="hf_secret_value"),
        lambda: create_task_tool("translation", api_key="hf_secret_value"),
    ],
    ids=["chat", "llm", "embeddings", "tool"],
)
def test_every_adapter_takes_the_same_connection_settings(adapter) -> None:  # type: ignore[no-untyped-def]
    instance = adapter()
    assert instance.api_key.get_secret_value() == "hf_secret_value"
    assert (instance.provider, instance.timeout, instance.max_retries) == ("auto", 120.0, 2)
    assert "hf_secret_value" not in repr(instance)


def test_task_tools_share_the_base() -> None:
    assert isinstance(create_task_tool("summarization"), HFServerlessTaskTool)


def test_close_keeps_the_model_usable(server: LoopbackServer) -> None:
    server.reply(body=_ANSWER)
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m")
    assert llm.invoke("a").content == "hi"
    llm.close()
    assert llm.invoke("b").content == "hi"
    llm.close()


async def test_aclose_keeps_the_model_usable(server: LoopbackServer) -> None:
    server.reply(body=_ANSWER)
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m")
    assert (await llm.ainvoke("a")).content == "hi"
    await llm.aclose()
    assert (await llm.ainvoke("b")).content == "hi"
    await llm.aclose()


# ---------------------------------------------------------------------------------------------- the toolkit


def test_the_toolkit_takes_every_connection_setting_and_its_tools_send_them(tmp_path: Path) -> None:
    server = serve_in_thread(_task_answers, is_async=False)
    try:
        toolkit = HFServerlessToolkit(
            tasks=["translation", "summarization"],
            api_key="hf_toolkit_token",
            provider="hf-inference",
            timeout=44.0,
            max_retries=1,
            default_headers={"X-Team": "search"},
            bill_to="my-org",
            use_cache=False,
            wait_for_model=True,
            tool_kwargs={
                "translation": {"base_url": f"{server.url}/translation"},
                "summarization": {"base_url": f"{server.url}/summarization"},
            },
        )
        translate, summarize = toolkit.get_tools()
        assert translate.invoke({"text": "hello"}) == "salut"
        assert summarize.invoke({"text": "a long text"}) == "short"
        assert translate.invoke({"text": "again"}) == "salut"
        assert len(_SEEN) == 3
        for seen in _SEEN:
            assert seen.headers["authorization"] == "Bearer hf_toolkit_token"
            assert seen.headers["x-team"] == "search"
            assert seen.headers["x-hf-bill-to"] == "my-org"
            assert seen.headers["x-use-cache"] == "false"
            assert seen.headers["x-wait-for-model"] == "true"
        assert server.stats.accepted == 1  # the toolkit's tools share one pooled connection
    finally:
        _SEEN.clear()
        server.stop()


def test_the_toolkit_refuses_base_url_saying_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"takes no base_url.*tool_kwargs=\{'<task>': \{'base_url'"):
        HFServerlessToolkit(base_url="https://my-endpoint.example")


def test_a_file_the_toolkit_generated_can_be_read_by_its_next_tool(tmp_path: Path) -> None:
    server = serve_in_thread(_task_answers, is_async=False)
    try:
        draw, classify = HFServerlessToolkit(
            tasks=["text-to-image", "image-classification"],
            output_dir=str(tmp_path),
            tool_kwargs={
                "text-to-image": {"base_url": f"{server.url}/text-to-image"},
                "image-classification": {"base_url": f"{server.url}/image-classification"},
            },
        ).get_tools()
        drawn = draw.invoke({"type": "tool_call", "id": "1", "name": draw.name, "args": {"prompt": "a cat"}})
        text = drawn.content[0]["text"] if isinstance(drawn.content, list) else drawn.content
        saved = re.search(r"Saved to (\S+?)\.(?:\s|$)", text)
        assert saved, text
        label = classify.invoke({"image": saved.group(1)})  # the path the model was told
        assert "tabby" in str(label)
        assert _SEEN[-1].body == PNG  # the generated file's bytes went to the next task
        outside = tmp_path.parent / "outside.png"
        outside.write_bytes(PNG)
        with pytest.raises(Exception, match="local_files_dir"):
            classify.invoke({"image": str(outside)})  # and nothing outside output_dir
    finally:
        _SEEN.clear()
        server.stop()


_SEEN: list[Request] = []


def _task_answers(request: Request) -> bytes:
    _SEEN.append(request)
    if request.path.endswith("/text-to-image"):
        return response_bytes(200, {"content-type": "image/png"}, PNG)
    answers: dict[str, Any] = {
        "/translation": [{"translation_text": "salut"}],
        "/summarization": [{"summary_text": "short"}],
        "/image-classification": [{"label": "tabby", "score": 0.5}],
    }
    return response_bytes(200, JSON_HEADERS, json.dumps(answers[request.path]).encode())


@pytest.mark.parametrize("factory", [ChatHFServerless, HFServerlessLLM, HFServerlessEmbeddings])
def test_base_url_without_scheme_is_refused_at_construction(factory) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="base_url must start with http:// or https://"):
        factory(base_url="localhost:8080")


def test_task_tool_base_url_without_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="http://localhost:8080"):
        create_task_tool("translation", base_url="localhost:8080")


ADAPTERS: dict[str, Any] = {
    "chat": lambda **kw: ChatHFServerless(model="org/m", **kw),
    "llm": lambda **kw: HFServerlessLLM(model="org/m", **kw),
    "embeddings": lambda **kw: HFServerlessEmbeddings(model="org/m", **kw),
    "toolkit": lambda **kw: HFServerlessToolkit(**kw),
    "task tool": lambda **kw: TranslationTool(**kw),
}


WITH_MODEL_KWARGS = ("chat", "llm", "embeddings")


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_unknown_keyword_raises_naming_it_and_the_closest_field(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTERS[name](timout=3, foo=1)
    message = str(caught.value)
    assert "'timout'" in message
    assert "did you mean 'timeout'?" in message
    assert "'foo'" in message


def test_chat_typo_suggests_temperature_and_points_extras_to_model_kwargs() -> None:
    with pytest.raises(ValueError) as caught:
        ChatHFServerless(model="org/m", tempreature=0.1, foo=1)
    message = str(caught.value)
    assert "'tempreature' (did you mean 'temperature'?)" in message
    assert "model_kwargs={'foo': ...}" in message


@pytest.mark.parametrize("name", WITH_MODEL_KWARGS)
def test_adapters_with_model_kwargs_name_it_in_the_message(name: str) -> None:
    with pytest.raises(ValidationError, match=r"model_kwargs=\{'logit_bias': \.\.\.\}"):
        ADAPTERS[name](logit_bias={"50256": -100})  # reasoning_effort is a chat field now


def test_toolkit_has_no_model_kwargs_to_suggest() -> None:
    with pytest.raises(ValidationError) as caught:
        HFServerlessToolkit(colour="red")
    assert "'colour'" in str(caught.value)
    assert "model_kwargs" not in str(caught.value)


def test_documented_aliases_and_langchain_core_fields_still_work(server: LoopbackServer) -> None:
    class Seen(BaseCallbackHandler):
        starts = 0

        def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
            Seen.starts += 1

    llm = ChatHFServerless(
        model_name="org/m",
        base_url=server.url,
        hf_token="hf_explicit",
        stop_sequences=["END"],
        rate_limiter=InMemoryRateLimiter(requests_per_second=100),
        output_version="v1",
        tags=["t"],
        metadata={"k": "v"},
        callbacks=[Seen()],
        disable_streaming=True,
        cache=False,
        verbose=False,
        name="mine",
    )
    server.reply(body={"choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]})
    llm.invoke("hello")
    sent = server.requests[0]
    assert sent.json()["model"] == "org/m"
    assert sent.json()["stop"] == ["END"]
    assert {k.lower(): v for k, v in sent.headers.items()}["authorization"] == "Bearer hf_explicit"
    assert Seen.starts == 1
    HFServerlessLLM(model="org/m", huggingfacehub_api_token="hf_x", tags=["t"], cache=False)
    HFServerlessEmbeddings(model="org/m", hf_token="hf_x")
    HFServerlessToolkit(hf_token="hf_x", tasks=["translation"])


@pytest.mark.parametrize(
    ("name", "key"),
    [("chat", "temperature"), ("chat", "max_tokens"), ("llm", "top_k"), ("llm", "stop"), ("embeddings", "normalize")],
)
def test_model_kwargs_key_that_is_a_field_raises(name: str, key: str) -> None:
    with pytest.raises(ValidationError, match=rf"model_kwargs holds '{key}'.*pass {key}=\.\.\. instead"):
        ADAPTERS[name](model_kwargs={key: 1})


def test_model_kwargs_keeps_provider_keys_and_langchain_names(server: LoopbackServer) -> None:
    llm = ChatHFServerless(base_url=server.url, model_kwargs={"top_k": 5, "metadata": {"user": "u1"}})
    server.reply(body={"choices": [{"message": {"role": "assistant", "content": "hi"}}]})
    llm.invoke("hello")
    body = server.requests[0].json()
    assert body["top_k"] == 5
    assert body["metadata"] == {"user": "u1"}


@pytest.mark.parametrize("name", list(ADAPTERS))
@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_timeout_must_be_positive(name: str, timeout: float) -> None:
    with pytest.raises(ValidationError, match=r"timeout must be a number of seconds > 0, or None for no limit"):
        ADAPTERS[name](timeout=timeout)


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_timeout_none_and_positive_are_fine(name: str) -> None:
    ADAPTERS[name](timeout=None)
    ADAPTERS[name](timeout=0.5)


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_max_retries_must_not_be_negative(name: str) -> None:
    with pytest.raises(ValidationError, match=r"max_retries must be 0 \(a single attempt\) or more"):
        ADAPTERS[name](max_retries=-1)
    ADAPTERS[name](max_retries=0)


@pytest.mark.parametrize(
    ("name", "field", "bad", "allowed", "good"),
    [
        ("chat", "max_tokens", 0, ">= 1", 1),
        ("chat", "top_logprobs", -1, ">= 0", 0),
        ("chat", "temperature", -0.1, ">= 0", 0),
        ("chat", "top_p", 1.5, ">= 0 and <= 1", 1),
        ("llm", "max_new_tokens", 0, ">= 1", 1),
        ("llm", "temperature", -1, ">= 0", 0),
        ("llm", "top_p", 0, "> 0 and <= 1", 0.9),
        ("llm", "top_k", 0, ">= 1", 1),
        ("llm", "repetition_penalty", 0, "> 0", 1.1),
        ("llm", "max_concurrency", 0, "greater than 0", 1),
        ("embeddings", "batch_size", 0, "greater than 0", 1),
        ("embeddings", "max_concurrency", 0, "greater than 0", 1),
        ("embeddings", "dimensions", 0, "greater than 0", 8),
    ],
)
def test_numeric_ranges_are_checked_at_construction(
    name: str, field: str, bad: float, allowed: str, good: float
) -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTERS[name](**{field: bad})
    assert field in str(caught.value)
    assert allowed in str(caught.value)
    ADAPTERS[name](**{field: good})


def test_timeout_zero_never_reaches_the_server(server: LoopbackServer) -> None:
    with pytest.raises(ValidationError):
        ChatHFServerless(base_url=server.url, timeout=0)
    assert server.requests == []


@pytest.fixture
def second_server() -> Any:
    from tests.loopback import serve

    yield from serve()


def test_model_copy_with_a_new_base_url_goes_to_the_new_server(
    server: LoopbackServer, second_server: LoopbackServer
) -> None:
    server.reply(body=CHAT_ANSWER)
    second_server.reply(body=CHAT_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    llm.invoke("x")  # builds the transport
    moved = llm.model_copy(update={"base_url": second_server.url})
    moved.invoke("y")
    assert len(server.requests) == 1
    assert len(second_server.requests) == 1


def test_model_copy_with_a_new_key_sends_the_new_key(server: LoopbackServer) -> None:
    server.reply(body=CHAT_ANSWER)
    server.reply(body=CHAT_ANSWER)
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
    server.reply(body=CHAT_ANSWER)
    server.reply(body=CHAT_ANSWER)
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
