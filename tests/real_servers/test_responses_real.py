"""The Responses route (``use_responses_api=True``) through responses.js in front of llama.cpp's llama-server.

responses.js (``../shared/responses.js/start.sh``) translates each Responses call into chat completions on the real
engine; the model is random, so every assertion is on structure, never on the text. Skips when node/npm (or a build
tool for llama-server) is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pytest
from langchain_core.messages import AIMessageChunk
from langchain_core.tools import tool
from pydantic import BaseModel

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless.errors import HFServerlessAuthenticationError
from tests.processes import stop_pid
from tests.real_servers.conftest import API_KEY, CHAT_MODEL
from tests.responses_api.conftest import start_responses_js

pytestmark = pytest.mark.real_server


@pytest.fixture(scope="module")
def responses_url(chat_url: str) -> Iterator[str]:
    pid, url = start_responses_js(f"{chat_url}/v1")
    try:
        yield url
    finally:
        stop_pid(pid)


def _chat(url: str, **kwargs: Any) -> ChatHFServerless:
    kwargs.setdefault("max_tokens", 24)
    return ChatHFServerless(
        base_url=url, api_key=API_KEY, model=CHAT_MODEL, timeout=120, max_retries=0, use_responses_api=True, **kwargs
    )


@tool
def get_weather(city: Literal["Paris", "Lyon"]) -> str:
    """The current weather in a city."""
    return f"Sunny in {city}"


class Verdict(BaseModel):
    ok: bool
    level: Literal["low", "high"]


def test_invoke_answers_with_text_usage_and_metadata(responses_url: str) -> None:
    message = _chat(responses_url).invoke("Hello")
    assert isinstance(message.content, str)
    # responses.js does not ask its upstream for streamed usage, and llama-server sends none unasked: zeros come back
    assert message.usage_metadata is not None and message.usage_metadata["input_tokens"] >= 0
    assert message.response_metadata["finish_reason"] in ("stop", "length")
    assert message.response_metadata["model_provider"] == "huggingface"


def test_stream_yields_chunks_then_one_final_chunk_with_usage(responses_url: str) -> None:
    chunks = list(_chat(responses_url).stream("Hello"))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert [c.usage_metadata is not None for c in chunks].count(True) == 1 and chunks[-1].usage_metadata
    assert getattr(chunks[-1], "chunk_position", "last") == "last"


async def test_astream_and_ainvoke(responses_url: str) -> None:
    chat = _chat(responses_url)
    assert isinstance((await chat.ainvoke("Hello")).content, str)
    chunks = [c async for c in chat.astream("Hello")]
    assert chunks[-1].usage_metadata is not None


def test_required_tool_is_called(responses_url: str) -> None:
    message = _chat(responses_url, max_tokens=200).bind_tools([get_weather], tool_choice="required").invoke("?")
    assert message.tool_calls and {call["name"] for call in message.tool_calls} == {"get_weather"}
    assert message.tool_calls[0]["args"]["city"] in ("Paris", "Lyon")
    assert message.tool_calls[0]["id"]


def test_streamed_tool_call_fragments_merge(responses_url: str) -> None:
    chat = _chat(responses_url, max_tokens=200).bind_tools([get_weather], tool_choice="required")
    chunks = list(chat.stream("?"))
    fragments = [f for c in chunks for f in c.tool_call_chunks]
    indexes = sorted({f["index"] for f in fragments})
    assert indexes == list(range(len(indexes))) and indexes  # one index per call (a random model may make several)
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert len(merged.tool_calls) + len(merged.invalid_tool_calls) == len(indexes)


def test_structured_output_json_schema(responses_url: str) -> None:
    result = _chat(responses_url, max_tokens=200).with_structured_output(Verdict).invoke("?")
    assert isinstance(result, Verdict)


def test_wrong_key_is_an_authentication_error(responses_url: str) -> None:
    chat = ChatHFServerless(
        base_url=responses_url, api_key="wrong-key", model=CHAT_MODEL, max_retries=0, use_responses_api=True
    )
    with pytest.raises(HFServerlessAuthenticationError) as caught:
        chat.invoke("Hello")
    assert "wrong-key" not in str(caught.value)
