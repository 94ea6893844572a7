"""The Responses API mapping, against answers and streams CAPTURED from the real responses.js server.

Fixtures: tests/fixtures/responses_js/ (capture.py says how they were made; each file's header names the recorded
upstream chat traffic). The requests in them are the ones responses.js accepted, so building the same request from
LangChain messages proves it is a request the server takes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, Field

from langchain_hfserverless._wire.responses_api import (
    ResponsesStreamState,
    chat_result_from_response,
    to_responses_request,
)
from langchain_hfserverless._wire.sse import SSEDecoder
from langchain_hfserverless._wire.tools import tool_choice_to_wire
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessAuthenticationError,
    HFServerlessError,
    HFServerlessInvalidRequestError,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "responses_js"
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
HEADERS = {"x-inference-provider": "together", "x-request-id": "req-1"}


def answer(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def stream(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the request sent, the events received) of a captured SSE stream, decoded as the transport would."""
    text = (FIXTURES / f"{name}.sse").read_text()
    request = next(
        json.loads(line[len(": request: ") :]) for line in text.splitlines() if line.startswith(": request: ")
    )
    decoder = SSEDecoder()
    events = [e for e in map(decoder.feed, text.splitlines()) if isinstance(e, dict)]
    return request, events


def run(events: list[dict[str, Any]], **kw: Any) -> tuple[list[AIMessageChunk], AIMessageChunk]:
    """Drive a stream state over events as a driver would: the chunks, and their sum with the last chunk."""
    state = ResponsesStreamState(model=MODEL, **kw)
    chunks = [c.message for e in events if (c := state.chunk_from_event(e)) is not None]
    chunks.append(state.final_chunk(HEADERS).message)
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return chunks, total  # type: ignore[return-value]


class Weather(BaseModel):
    """Get the current weather"""

    location: str = Field(description="The city and state, e.g. San Francisco, CA")
    format: str = Field(json_schema_extra={"enum": ["celsius", "fahrenheit"]})


# --- requests: what responses.js accepted ---------------------------------------------------------------------


def test_text_request_matches_what_the_server_accepted() -> None:
    request, _ = stream("text_stream")
    messages = [SystemMessage("Be as terse as possible; no punctuation"), HumanMessage("What is 1 + 1?")]
    assert to_responses_request(messages, model=MODEL, stream=True) == request
    assert to_responses_request(messages, model=MODEL) == answer("text")["request"]


def test_tool_request_flattens_function_tools_and_tool_choice() -> None:
    request, _ = stream("tool_call_stream")
    built = to_responses_request(
        [HumanMessage("What is the weather like in Brooklyn, New York?")],
        model=MODEL,
        tools=[request["tools"][0]],  # a Responses-form dict passes through as given
        tool_choice=tool_choice_to_wire("get_current_weather", ["get_current_weather"]),
        stream=True,
    )
    assert built == request
    from_pydantic = to_responses_request([HumanMessage("hi")], model=MODEL, tools=[Weather])["tools"][0]
    assert from_pydantic["type"] == "function"
    assert from_pydantic["name"] == "Weather"
    assert from_pydantic["parameters"]["properties"]["format"]["enum"] == ["celsius", "fahrenheit"]
    assert "function" not in from_pydantic


def test_tool_turns_become_function_call_items() -> None:
    recorded = answer("tool_result")["request"]
    messages = [
        SystemMessage("Always use a tool to help you answer. Reply with 'It is ____.'."),
        HumanMessage("What's the current date in YYYY-MM-DD format?"),
        AIMessage("", tool_calls=[{"name": "get_date", "args": {}, "id": "call_1"}]),
        ToolMessage("2026-01-01", tool_call_id="call_1"),
    ]
    assert to_responses_request(messages, model=MODEL, tools=recorded["tools"]) == recorded


def test_image_and_mcp_requests() -> None:
    image_request, _ = stream("image_stream")
    message = HumanMessage(
        [
            {"type": "text", "text": "What's in this image? (Be sure to mention the outside shape)"},
            {"type": "image", "url": "https://example.com/logo.png"},
        ]
    )
    assert to_responses_request([message], model=MODEL, stream=True) == image_request
    mcp_request, _ = stream("mcp_stream")
    built = to_responses_request(
        [HumanMessage("What is the weather like in Brooklyn, New York?")],
        model=MODEL,
        tools=mcp_request["tools"],
        stream=True,
    )
    assert built == mcp_request
    b64 = HumanMessage([{"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"}])
    (item,) = to_responses_request([b64], model=MODEL)["input"]
    assert item["content"] == [{"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]


def test_structured_output_and_reasoning_effort() -> None:
    recorded = answer("structured_output")["request"]
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "ArticleSummary", "schema": recorded["text"]["format"]["schema"]},
    }
    messages = [HumanMessage(recorded["input"][0]["content"][0]["text"])]
    assert to_responses_request(messages, model=MODEL, response_format=response_format) == recorded
    reasoning_request, _ = stream("reasoning_stream")
    built = to_responses_request([HumanMessage("What is 1 + 1?")], model=MODEL, reasoning_effort="high", stream=True)
    assert built == reasoning_request
    assert to_responses_request([HumanMessage("x")], model=MODEL, response_format={"type": "json_object"})["text"] == {
        "format": {"type": "json_object"}
    }


def test_later_system_messages_and_unsupported_parts() -> None:
    body = to_responses_request(
        [SystemMessage("a"), SystemMessage("b"), HumanMessage("hi"), SystemMessage("now be brief")],
        model=MODEL,
        max_output_tokens=50,
        temperature=None,
    )
    assert body["instructions"] == "a\n\nb"
    assert body["input"][-1] == {
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": "now be brief"}],
    }
    assert body["max_output_tokens"] == 50
    assert "temperature" not in body and "stream" not in body
    with pytest.raises(ValueError, match="text and images only"):
        to_responses_request(
            [HumanMessage([{"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"}])], model=MODEL
        )


def test_mcp_approval_round_trip() -> None:
    """The approval request the server returned, replayed from the AI message, with the user's approval."""
    first = chat_result_from_response(answer("mcp_approval")["response"], HEADERS).generations[0].message
    approval_id = first.additional_kwargs["mcp"][1]["id"]
    approve = {"type": "mcp_approval_response", "approval_request_id": approval_id, "approve": True}
    body = to_responses_request([HumanMessage("weather?"), first, HumanMessage([approve])], model=MODEL)
    types = [item["type"] for item in body["input"]]
    assert types == ["message", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response"]
    assert body["input"][-1] == approve


# --- answers --------------------------------------------------------------------------------------------------


def test_text_answer() -> None:
    result = chat_result_from_response(answer("text")["response"], HEADERS)
    message = result.generations[0].message
    assert message.content == "2"
    assert message.usage_metadata == {
        "input_tokens": 51,
        "output_tokens": 2,
        "total_tokens": 53,
        "input_token_details": {"cache_read": 0},
        "output_token_details": {"reasoning": 0},
    }
    meta = message.response_metadata
    assert (meta["model_name"], meta["finish_reason"], meta["inference_provider"]) == (MODEL, "stop", "together")
    assert meta["model_provider"] == "huggingface"


def test_tool_call_answer() -> None:
    message = chat_result_from_response(answer("tool_call")["response"], HEADERS).generations[0].message
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [
        {
            "name": "get_current_weather",
            "args": {"location": "Brooklyn, NY", "format": "fahrenheit"},
            "id": "0",
            "type": "tool_call",
        }
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"


def test_mcp_items_in_additional_kwargs_and_v1_blocks() -> None:
    """The MCP call the server ran: items as sent, and with output_version="v1" as server tool blocks."""
    _, events = stream("mcp_stream")
    completed = next(e["response"] for e in events if e["type"] == "response.completed")
    message = chat_result_from_response(completed, HEADERS).generations[0].message
    assert message.content == "2"
    assert [i["type"] for i in message.additional_kwargs["mcp"]] == ["mcp_list_tools", "mcp_call"]
    assert message.tool_calls == []  # the server ran it: nothing for the caller to run
    v1 = chat_result_from_response(completed, HEADERS, output_version="v1").generations[0].message
    assert isinstance(v1.content, list)
    kinds = [b["type"] for b in v1.content if isinstance(b, dict)]
    assert kinds == ["non_standard", "server_tool_call", "server_tool_result", "text"]
    call, result = v1.content[1], v1.content[2]
    assert isinstance(call, dict) and isinstance(result, dict)
    assert call["name"] == "get_current_weather"
    assert call["args"] == {"location": "Brooklyn, NY", "format": "fahrenheit"}
    assert call["extras"] == {"server_label": "weather"}
    assert result == {
        "type": "server_tool_result",
        "tool_call_id": call["id"],
        "status": "success",
        "output": "Sunny in Brooklyn, NY, 22 degrees fahrenheit.",
    }


def test_reasoning_answer_v1() -> None:
    _, events = stream("reasoning_stream")
    completed = next(e["response"] for e in events if e["type"] == "response.completed")
    message = chat_result_from_response(completed, HEADERS, output_version="v1").generations[0].message
    assert message.content == [
        {"type": "reasoning", "reasoning": "The user asks 1 + 1. That is 2."},
        {"type": "text", "text": "2"},
    ]
    assert message.additional_kwargs["reasoning_content"] == "The user asks 1 + 1. That is 2."


def test_failed_answer_raises_the_relayed_status() -> None:
    """responses.js answers 200 with status "failed"; the upstream's 401 picks the error class."""
    with pytest.raises(HFServerlessAuthenticationError) as caught:
        chat_result_from_response(answer("error")["response"], HEADERS, provider="together")
    error = caught.value
    assert error.status_code == 401
    assert error.server_message == "Invalid username or password."
    assert MODEL in str(error) and "together" in str(error)


def test_failed_answer_without_a_status_is_an_api_error() -> None:
    failed = {"status": "failed", "output": [], "error": {"code": "server_error", "message": "MCP server is down"}}
    with pytest.raises(HFServerlessAPIError, match="MCP server is down"):
        chat_result_from_response(failed, {}, model=MODEL)
    with pytest.raises(ValueError, match="not a Responses object"):
        chat_result_from_response({"output": "nope"}, {})


# --- streams --------------------------------------------------------------------------------------------------


def test_text_stream() -> None:
    _, events = stream("text_stream")
    chunks, total = run(events)
    assert [c.content for c in chunks[:-1]] == ["2"]
    last = chunks[-1]
    assert last.chunk_position == "last"
    assert last.usage_metadata is not None and last.usage_metadata["total_tokens"] == 53
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert total.content == "2"
    assert total.response_metadata["finish_reason"] == "stop"
    assert total.response_metadata["inference_provider"] == "together"


def test_tool_call_stream_gives_indexed_chunks() -> None:
    _, events = stream("tool_call_stream")
    chunks, total = run(events)
    first = chunks[0].tool_call_chunks[0]
    assert (first["name"], first["id"], first["index"]) == ("get_current_weather", "0", 0)
    assert all(c.tool_call_chunks[0]["index"] == 0 for c in chunks[:-1])
    assert all(c.tool_call_chunks[0]["name"] is None for c in chunks[1:-1])  # said once
    assert total.tool_calls == [
        {
            "name": "get_current_weather",
            "args": {"location": "Brooklyn, NY", "format": "fahrenheit"},
            "id": "0",
            "type": "tool_call",
        }
    ]
    assert total.response_metadata["finish_reason"] == "tool_calls"


def test_reasoning_stream() -> None:
    _, events = stream("reasoning_stream")
    chunks, total = run(events)
    assert [c.additional_kwargs.get("reasoning_content") for c in chunks[:2]] == ["The user asks 1 + 1.", " That is 2."]
    assert total.content == "2"
    assert total.additional_kwargs["reasoning_content"] == "The user asks 1 + 1. That is 2."


def test_image_stream_text() -> None:
    _, events = stream("image_stream")
    completed = next(e["response"] for e in events if e["type"] == "response.completed")
    _, total = run(events)
    assert total.content == completed["output"][0]["content"][0]["text"]
    assert len(str(total.content)) > 20


def test_mcp_stream_surfaces_server_run_items_on_the_last_chunk() -> None:
    _, events = stream("mcp_stream")
    chunks, total = run(events)
    assert total.tool_call_chunks == []  # mcp_call argument deltas are the server's business
    assert total.content == "2"
    mcp = chunks[-1].additional_kwargs["mcp"]
    assert [i["type"] for i in mcp] == ["mcp_list_tools", "mcp_call"]
    assert mcp[1]["output"] == "Sunny in Brooklyn, NY, 22 degrees fahrenheit."


def test_mcp_stream_v1_gives_the_blocks_of_a_whole_answer_on_the_last_chunk() -> None:
    _, events = stream("mcp_stream")
    completed = next(e["response"] for e in events if e["type"] == "response.completed")
    whole = chat_result_from_response(completed, HEADERS, output_version="v1").generations[0].message
    chunks, _ = run(events, output_version="v1")
    assert [c.content for c in chunks[:-1]] == ["2"]  # text as it comes
    last = chunks[-1]
    assert isinstance(whole.content, list)
    assert last.content == [b for b in whole.content if isinstance(b, dict) and b["type"] != "text"]
    assert [b["type"] for b in last.content if isinstance(b, dict)] == [
        "non_standard",
        "server_tool_call",
        "server_tool_result",
    ]
    assert [i["type"] for i in last.additional_kwargs["mcp"]] == ["mcp_list_tools", "mcp_call"]
    plain, _ = run(stream("text_stream")[1], output_version="v1")
    assert plain[-1].content == ""  # no MCP item, no block


def test_failed_stream_raises_typed_error() -> None:
    _, events = stream("error_stream")
    state = ResponsesStreamState(model=MODEL, provider="auto")
    with pytest.raises(HFServerlessAuthenticationError, match="Invalid username or password"):
        for event in events:
            state.chunk_from_event(event)


def test_error_event_and_cut_stream() -> None:
    state = ResponsesStreamState(model=MODEL)
    event = {
        "type": "error",
        "code": "invalid_request_error",
        "message": "bad tool",
        "param": "tools",
        "sequence_number": 3,
    }
    with pytest.raises(HFServerlessError, match="bad tool"):
        state.chunk_from_event(event)
    _, events = stream("text_stream")
    cut = ResponsesStreamState(model=MODEL)
    for e in events[:-1]:  # no response.completed
        cut.chunk_from_event(e)
    with pytest.raises(HFServerlessAPIError, match=r"ended before 'response\.completed'"):
        cut.final_chunk({})


def test_invalid_request_error_event_class() -> None:
    event = {"type": "error", "error": {"type": "invalid_request_error", "message": "Unknown parameter"}}
    with pytest.raises(HFServerlessInvalidRequestError):
        ResponsesStreamState(model=MODEL).chunk_from_event(event)
