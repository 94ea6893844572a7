"""The connection settings shared by every adapter (the toolkit too), and closing their pooled clients."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bench.server import JSON_HEADERS, Request, response_bytes, serve_in_thread
from langchain_hfserverless import (
    ChatHFServerless,
    HFServerlessEmbeddings,
    HFServerlessLLM,
    HFServerlessTaskTool,
    HFServerlessToolkit,
    create_task_tool,
)
from tests.loopback import LoopbackServer
from tests.unit.test_task_tools import PNG

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
