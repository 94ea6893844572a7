"""LangChain messages -> chat-completions message dicts (the OpenAI form the router and TGI read)."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_hfserverless._wire.messages import message_to_wire, to_wire_content, to_wire_messages

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def _image_part(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


# ---------------------------------------- roles


def test_every_role() -> None:
    wire = to_wire_messages(
        [
            SystemMessage("Be brief."),
            HumanMessage("Hi"),
            AIMessage("Hello!"),
            ChatMessage(content="Think twice.", role="developer"),
        ]
    )
    assert wire == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "developer", "content": "Think twice."},
    ]


def test_name_is_sent_for_any_role() -> None:
    assert message_to_wire(HumanMessage("hi", name="alice")) == {"role": "user", "content": "hi", "name": "alice"}
    assert message_to_wire(SystemMessage("s", name="policy"))["name"] == "policy"
    assert message_to_wire(AIMessage("a", name="bot"))["name"] == "bot"
    assert "name" not in message_to_wire(HumanMessage("hi"))


def test_ai_message_keys_are_exactly_role_and_content() -> None:
    # reasoning, response metadata, usage and ids never travel back to the server
    message = AIMessage(
        "answer",
        additional_kwargs={"reasoning_content": "secret thoughts"},
        response_metadata={"model_name": "m", "finish_reason": "stop"},
        usage_metadata={"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
        id="run-1",
    )
    assert message_to_wire(message) == {"role": "assistant", "content": "answer"}


@pytest.mark.parametrize("message", [FunctionMessage(content="x", name="f"), RemoveMessage(id="m1")])
def test_unsupported_message_type_is_a_clear_error(message: object) -> None:
    with pytest.raises(TypeError, match=r"Unsupported message type .*: use System, Human, AI, Tool or ChatMessage"):
        to_wire_messages([message])  # type: ignore[list-item]


# ---------------------------------------- content parts


def test_string_content_stays_a_string() -> None:
    assert to_wire_content("plain") == "plain"


def test_human_text_and_image_url_parts_pass_through() -> None:
    content = [{"type": "text", "text": "What is this?"}, _image_part("https://example.com/cat.png")]
    assert message_to_wire(HumanMessage(content=content)) == {"role": "user", "content": content}


def test_bare_strings_in_a_list_become_text_parts() -> None:
    assert to_wire_content(["a", "b"]) == [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]


def test_v1_text_block_loses_keys_providers_reject() -> None:
    block = {"type": "text", "text": "hi", "id": "lc_1", "annotations": []}
    assert to_wire_content([block]) == [{"type": "text", "text": "hi"}]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "source_type": "url", "url": "https://example.com/cat.png"},  # v0
        {"type": "image", "url": "https://example.com/cat.png"},  # v1
    ],
    ids=["v0-url", "v1-url"],
)
def test_standard_image_block_by_url(block: dict) -> None:
    assert to_wire_content([block]) == [_image_part("https://example.com/cat.png")]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "source_type": "base64", "data": PNG_B64, "mime_type": "image/png"},  # v0
        {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},  # v1
    ],
    ids=["v0-base64", "v1-base64"],
)
def test_standard_image_block_base64_becomes_data_url(block: dict) -> None:
    wire = message_to_wire(HumanMessage(content=[{"type": "text", "text": "describe"}, block]))
    assert wire["content"] == [
        {"type": "text", "text": "describe"},
        _image_part(f"data:image/png;base64,{PNG_B64}"),
    ]


def test_jpeg_mime_type_is_kept() -> None:
    block = {"type": "image", "base64": "AAAA", "mime_type": "image/jpeg"}
    assert to_wire_content([block]) == [_image_part("data:image/jpeg;base64,AAAA")]


def test_base64_image_without_mime_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="mime_type"):
        to_wire_content([{"type": "image", "base64": "AAAA"}])


def test_unsupported_part_type_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="Unsupported content part int"):
        to_wire_content([5])  # type: ignore[list-item]


def test_system_message_with_list_content() -> None:
    wire = message_to_wire(SystemMessage(content=[{"type": "text", "text": "rules"}]))
    assert wire == {"role": "system", "content": [{"type": "text", "text": "rules"}]}


# ---------------------------------------- AI tool calls


def test_ai_tool_calls_in_openai_form_with_string_arguments_and_null_content() -> None:
    message = AIMessage(
        content="",
        tool_calls=[
            {"name": "get_weather", "args": {"city": "Paris", "days": 3}, "id": "call_1"},
            {"name": "get_time", "args": {}, "id": "call_2"},
        ],
    )
    wire = message_to_wire(message)
    assert wire["role"] == "assistant"
    assert wire["content"] is None
    assert wire["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris","days":3}'},
        },
        {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ]
    for call in wire["tool_calls"]:
        assert isinstance(call["function"]["arguments"], str)
    assert json.loads(wire["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris", "days": 3}


def test_ai_tool_call_keeps_text_beside_it() -> None:
    message = AIMessage(content="Let me check.", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c"}])
    wire = message_to_wire(message)
    assert wire["content"] == "Let me check."
    assert wire["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"x":1}'}


def test_ai_tool_call_unicode_arguments_round_trip() -> None:
    message = AIMessage(content="", tool_calls=[{"name": "f", "args": {"city": "Zürich", "jp": "東京"}, "id": "c"}])
    arguments = message_to_wire(message)["tool_calls"][0]["function"]["arguments"]
    assert json.loads(arguments) == {"city": "Zürich", "jp": "東京"}


def test_ai_tool_call_with_tgi_id_zero() -> None:
    message = AIMessage(content="", tool_calls=[{"name": "f", "args": {}, "id": "0"}])
    assert message_to_wire(message)["tool_calls"][0]["id"] == "0"


def test_ai_list_content_drops_tool_use_and_reasoning_blocks() -> None:
    message = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "hmm"},
            {"type": "text", "text": "Calling."},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
        ],
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "t1"}],
    )
    wire = message_to_wire(message)
    assert wire["content"] == [{"type": "text", "text": "Calling."}]
    assert [c["id"] for c in wire["tool_calls"]] == ["t1"]


def test_ai_invalid_tool_calls_are_sent_back_as_given() -> None:
    message = AIMessage(
        content="",
        invalid_tool_calls=[{"name": "f", "args": "{bad", "id": "c9", "error": "x", "type": "invalid_tool_call"}],
    )
    assert message_to_wire(message)["tool_calls"] == [
        {"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{bad"}}
    ]


def test_ai_raw_tool_calls_from_additional_kwargs_when_none_parsed() -> None:
    raw = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    wire = message_to_wire(AIMessage(content="", additional_kwargs={"tool_calls": raw}))
    assert wire == {"role": "assistant", "content": None, "tool_calls": raw}


# ---------------------------------------- tool results


def test_tool_message_with_string_content() -> None:
    wire = message_to_wire(ToolMessage(content="22°C", tool_call_id="call_1"))
    assert wire == {"role": "tool", "content": "22°C", "tool_call_id": "call_1"}


def test_tool_message_with_text_parts_becomes_one_string() -> None:
    message = ToolMessage(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}], tool_call_id="c")
    assert message_to_wire(message) == {"role": "tool", "content": "ab", "tool_call_id": "c"}


def test_tool_message_with_bare_strings() -> None:
    assert message_to_wire(ToolMessage(content=["x", "y"], tool_call_id="c"))["content"] == "xy"


def test_tool_message_with_an_image_keeps_parts() -> None:
    message = ToolMessage(content=[{"type": "image", "url": "https://example.com/p.png"}], tool_call_id="c")
    assert message_to_wire(message)["content"] == [_image_part("https://example.com/p.png")]


def test_tool_message_keeps_integer_like_tgi_id_as_string() -> None:
    assert message_to_wire(ToolMessage(content="ok", tool_call_id="0"))["tool_call_id"] == "0"


def test_whole_tool_turn() -> None:
    wire = to_wire_messages(
        [
            HumanMessage("Weather in Paris?"),
            AIMessage("", tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "call_9"}]),
            ToolMessage("sunny", tool_call_id="call_9"),
        ]
    )
    assert [m["role"] for m in wire] == ["user", "assistant", "tool"]
    assert wire[1]["tool_calls"][0]["id"] == wire[2]["tool_call_id"] == "call_9"
    json.dumps(wire)  # the whole payload is JSON-serialisable
