"""The connection settings shared by every adapter, and closing their pooled clients."""

from __future__ import annotations

import pytest

from langchain_hfserverless import (
    ChatHFServerless,
    HFServerlessEmbeddings,
    HFServerlessLLM,
    HFServerlessTaskTool,
    create_task_tool,
)
from tests.loopback import LoopbackServer

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
    assert instance._transport is instance._transport  # one pooled transport per instance


def test_task_tools_share_the_base() -> None:
    assert isinstance(create_task_tool("summarization"), HFServerlessTaskTool)


def test_close_releases_the_pool_and_the_model_stays_usable(server: LoopbackServer) -> None:
    server.reply(body=_ANSWER)
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m")
    assert llm.invoke("a").content == "hi"
    client = llm._transport.client
    llm.close()
    assert client.is_closed
    assert llm.invoke("b").content == "hi"
    assert llm._transport.client is not client


async def test_aclose_releases_the_async_pool(server: LoopbackServer) -> None:
    server.reply(body=_ANSWER)
    llm = ChatHFServerless(base_url=server.url, model="m")
    assert (await llm.ainvoke("a")).content == "hi"
    client = llm._transport.async_client
    await llm.aclose()
    assert client.is_closed


@pytest.mark.parametrize("factory", [ChatHFServerless, HFServerlessLLM, HFServerlessEmbeddings])
def test_base_url_without_scheme_is_refused_at_construction(factory) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="base_url must start with http:// or https://"):
        factory(base_url="localhost:8080")


def test_task_tool_base_url_without_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="http://localhost:8080"):
        create_task_tool("translation", base_url="localhost:8080")
