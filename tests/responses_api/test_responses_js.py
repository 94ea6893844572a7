"""The Responses route against the real responses.js server gives what the chat route gives on the same recordings.

Each test queues one recorded chat-completions answer per call on the loopback upstream and asks it twice: once on
the chat route (``base_url`` = the upstream) and once on the Responses route (``use_responses_api=True``, ``base_url``
= responses.js, which translates to chat completions on the same upstream). Text, reasoning, tool calls, usage and
errors must agree; what responses.js forwarded upstream shows what our Responses request meant.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, Field

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless.errors import HFServerlessAuthenticationError, HFServerlessError
from tests.loopback import LoopbackServer
from tests.replay.recordings import SHARED, load_cassette
from tests.responses_api.recordings import (
    CHATLAS,
    MODEL,
    SSE,
    chatlas,
    synthetic_reasoning,
    tgi_stream,
    unauthorized,
)

pytestmark = pytest.mark.responses_js

TERSE = [SystemMessage("Be as terse as possible; no punctuation"), HumanMessage("What is 1 + 1?")]
TGI_TOOLS = "test_tools_llama/test_flash_llama_grammar_tools_choice_stream.json"
KEY = "loopback-test-key"


def get_date() -> str:
    """Gets the current date"""
    return "2026-01-01"


class get_current_weather(BaseModel):
    """Get the current weather"""

    location: str = Field(description="The city and state, e.g. San Francisco, CA")
    format: str = Field(description="celsius or fahrenheit")


class ArticleSummary(BaseModel):
    title: str
    author: str


def chat_route(upstream: LoopbackServer) -> ChatHFServerless:
    return ChatHFServerless(model=MODEL, base_url=upstream.url, api_key=KEY, max_retries=0)


def responses_route(url: str, **kw: Any) -> ChatHFServerless:
    return ChatHFServerless(model=MODEL, base_url=url, api_key=KEY, max_retries=0, use_responses_api=True, **kw)


def streamed(llm: Any, messages: Any, **kw: Any) -> tuple[AIMessageChunk, list[AIMessageChunk]]:
    chunks = list(llm.stream(messages, **kw))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total, chunks


def usage(message: AIMessage) -> tuple[int, int, int] | None:
    u = message.usage_metadata
    return None if u is None else (u["input_tokens"], u["output_tokens"], u["total_tokens"])


def test_text_invoke_and_stream_agree_with_chat(upstream: LoopbackServer, responses_js: str) -> None:
    body = chatlas("test_huggingface_simple_streaming_request.yaml", 0)
    for _ in range(3):
        upstream.reply(200, body, headers=SSE)
    expected, _ = streamed(chat_route(upstream), TERSE)
    llm = responses_route(responses_js)
    answer = llm.invoke(TERSE)
    total, chunks = streamed(llm, TERSE)

    assert expected.content == "2"
    assert answer.content == total.content == expected.content
    assert usage(answer) == usage(total) == usage(expected) is not None
    assert answer.response_metadata["finish_reason"] == total.response_metadata["finish_reason"] == "stop"
    assert answer.response_metadata["model_provider"] == "huggingface"
    assert chunks[-1].usage_metadata is not None and sum(c.usage_metadata is not None for c in chunks) == 1
    assert getattr(chunks[-1], "chunk_position", "last") == "last"
    # responses.js turned instructions + input items back into the same conversation
    sent = upstream.requests[-1].json()
    assert sent["messages"][0] == {"role": "system", "content": "Be as terse as possible; no punctuation"}
    assert sent["messages"][1]["role"] == "user"
    assert upstream.requests[-1].headers.get("authorization") == f"Bearer {KEY}"


async def test_async_invoke_and_stream(upstream: LoopbackServer, responses_js: str) -> None:
    body = chatlas("test_huggingface_simple_streaming_request.yaml", 0)
    for _ in range(2):
        upstream.reply(200, body, headers=SSE)
    llm = responses_route(responses_js)
    answer = await llm.ainvoke(TERSE)
    chunks = [c async for c in llm.astream(TERSE)]
    assert answer.content == "".join(str(c.content) for c in chunks) == "2"
    assert chunks[-1].usage_metadata == answer.usage_metadata


def test_tool_call_agrees_with_chat(upstream: LoopbackServer, responses_js: str) -> None:
    # No router recording in ../shared streams a tool call: TGI's own recorded tool-call stream stands in.
    body = tgi_stream(TGI_TOOLS)
    for _ in range(3):
        upstream.reply(200, body, headers=SSE)
    question = [HumanMessage("What is the weather like in Brooklyn, New York?")]
    expected, _ = streamed(chat_route(upstream).bind_tools([get_current_weather]), question)
    llm = responses_route(responses_js).bind_tools([get_current_weather])
    answer = llm.invoke(question)
    total, chunks = streamed(llm, question)

    assert [c["name"] for c in expected.tool_calls] == ["get_current_weather"]
    for got in (answer, total):
        assert [(c["name"], c["args"], c["id"]) for c in got.tool_calls] == [
            (c["name"], c["args"], c["id"]) for c in expected.tool_calls
        ]
        assert got.response_metadata["finish_reason"] == "tool_calls"
    fragments = [tc for c in chunks for tc in c.tool_call_chunks]
    assert fragments and {tc["index"] for tc in fragments} == {0}
    assert fragments[0]["name"] == "get_current_weather"
    sent = upstream.requests[-1].json()
    assert sent["tools"][0]["function"]["name"] == "get_current_weather"
    assert "tool_choice" not in sent or sent["tool_choice"] == "auto"


def test_named_tool_choice_and_tgi_tool_stream(upstream: LoopbackServer, responses_js: str) -> None:
    body = tgi_stream(TGI_TOOLS)
    for _ in range(2):
        upstream.reply(200, body, headers=SSE)
    question = [HumanMessage("What is the weather like in Brooklyn, New York?")]
    expected, _ = streamed(
        chat_route(upstream).bind_tools([get_current_weather], tool_choice="get_current_weather"), question
    )
    llm = responses_route(responses_js).bind_tools([get_current_weather], tool_choice="get_current_weather")
    answer = llm.invoke(question)
    assert (
        answer.tool_calls[0]["args"]
        == expected.tool_calls[0]["args"]
        == {
            "location": "Brooklyn, NY",
            "format": "fahrenheit",
        }
    )
    assert upstream.requests[-1].json()["tool_choice"] == {
        "type": "function",
        "function": {"name": "get_current_weather"},
    }


def test_tool_round_trip_reaches_upstream_as_chat_messages(upstream: LoopbackServer, responses_js: str) -> None:
    upstream.reply(200, chatlas("test_huggingface_tools.yaml", 0), headers=SSE)
    conversation = [
        HumanMessage("What's the current date in YYYY-MM-DD format?"),
        AIMessage("", tool_calls=[{"name": "get_date", "args": {}, "id": "call_1"}]),
        ToolMessage("2026-01-01", tool_call_id="call_1"),
    ]
    answer = responses_route(responses_js).bind_tools([get_date]).invoke(conversation)
    assert isinstance(answer.content, str) and answer.content
    sent = upstream.requests[-1].json()["messages"]
    assert {"role": "tool", "content": "2026-01-01", "tool_call_id": "call_1"} in sent
    # responses.js (as of this snapshot) forwards our function_call item as a second "tool" message carrying the
    # arguments, not as an assistant message with tool_calls: a server quirk, see README "Responses API".


@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
def test_structured_output_agrees_with_chat(upstream: LoopbackServer, responses_js: str, method: str) -> None:
    recorded = load_cassette(SHARED / CHATLAS / "test_huggingface_data_extraction.yaml")[0]
    upstream.reply(200, recorded.response_body, headers={"content-type": "application/json"})
    prompt = "Extract the title and author: # Apples are tasty\n\nBy Hadley Wickham"
    expected = chat_route(upstream).with_structured_output(ArticleSummary, method=method).invoke(prompt)
    body = chatlas("test_huggingface_data_extraction.yaml", 0)  # the same answer, as the stream responses.js asks for
    for _ in range(2):
        upstream.reply(200, body, headers=SSE)
    llm = responses_route(responses_js).with_structured_output(ArticleSummary, method=method)
    assert llm.invoke(prompt) == expected == ArticleSummary(title="Apples are tasty", author="Hadley Wickham")
    assert list(llm.stream(prompt))[-1] == expected
    sent = upstream.requests[-1].json()["response_format"]
    assert sent["type"] == ("json_schema" if method == "json_schema" else "json_object")
    if method == "json_schema":
        assert sent["json_schema"]["name"] == "ArticleSummary"
        assert set(sent["json_schema"]["schema"]["properties"]) == {"title", "author"}


def test_structured_output_by_function_calling(upstream: LoopbackServer, responses_js: str) -> None:
    upstream.reply(200, tgi_stream(TGI_TOOLS), headers=SSE)
    llm = responses_route(responses_js).with_structured_output(get_current_weather, method="function_calling")
    parsed = llm.invoke("What is the weather like in Brooklyn, New York?")
    assert parsed == get_current_weather(location="Brooklyn, NY", format="fahrenheit")


def test_structured_output_that_does_not_parse_raises(upstream: LoopbackServer, responses_js: str) -> None:
    upstream.reply(200, chatlas("test_huggingface_simple_streaming_request.yaml", 0), headers=SSE)
    with pytest.raises(OutputParserException):
        responses_route(responses_js).with_structured_output(ArticleSummary).invoke("Extract")


def test_reasoning_agrees_with_chat(upstream: LoopbackServer, responses_js: str) -> None:
    body = synthetic_reasoning()
    for _ in range(3):
        upstream.reply(200, body, headers=SSE)
    expected, _ = streamed(chat_route(upstream), TERSE)
    llm = responses_route(responses_js)
    answer = llm.invoke(TERSE, reasoning_effort="high")
    total, _ = streamed(llm, TERSE)
    assert upstream.requests[-2].json()["reasoning_effort"] == "high"
    for got in (answer, total):
        assert got.content == expected.content == "2"
        assert got.additional_kwargs["reasoning_content"] == expected.additional_kwargs["reasoning_content"]
        assert usage(got) == usage(expected) == (20, 12, 32)


def test_reasoning_v1_content_blocks(upstream: LoopbackServer, responses_js: str) -> None:
    upstream.reply(200, synthetic_reasoning(), headers=SSE)
    answer = responses_route(responses_js, output_version="v1").invoke(TERSE)
    kinds = [block["type"] for block in answer.content if isinstance(block, dict)]
    assert kinds == ["reasoning", "text"]


@pytest.mark.parametrize("streaming", [False, True])
def test_upstream_401_is_the_same_typed_error(upstream: LoopbackServer, responses_js: str, streaming: bool) -> None:
    for _ in range(2):
        upstream.reply(401, unauthorized(), headers={"content-type": "application/json"})
    with pytest.raises(HFServerlessError) as chat_error:
        list(chat_route(upstream).stream(TERSE)) if streaming else chat_route(upstream).invoke(TERSE)
    llm = responses_route(responses_js)
    with pytest.raises(HFServerlessError) as ours:
        list(llm.stream(TERSE)) if streaming else llm.invoke(TERSE)
    assert type(ours.value) is type(chat_error.value) is HFServerlessAuthenticationError
    assert ours.value.status_code == chat_error.value.status_code == 401
    assert "Invalid username or password" in str(ours.value)
    assert KEY not in str(ours.value) and KEY not in repr(ours.value)


def test_invalid_request_from_responses_js_is_typed(upstream: LoopbackServer, responses_js: str) -> None:
    from langchain_hfserverless.errors import HFServerlessInvalidRequestError

    with pytest.raises(HFServerlessInvalidRequestError):
        responses_route(responses_js).invoke(TERSE, temperature=5)  # responses.js allows 0..2
    assert not upstream.requests
