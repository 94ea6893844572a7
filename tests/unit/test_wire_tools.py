"""Tools and tool_choice to the wire; tool calls back from every dialect (OpenAI, TGI 1.4, TGI 3.x)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.tools import tool
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_hfserverless._wire.tools import (
    parse_arguments,
    tool_calls_from_wire,
    tool_choice_to_wire,
    tools_to_wire,
)
from tests.unit.test_wire_sse import HUB_CASSETTES, recorded_posts, tgi_snapshot

# ---------------------------------------- tools


@tool
def get_weather(city: str, days: int = 1) -> str:
    """Weather forecast for a city."""
    return f"{city}: sunny for {days} days"


def multiply(a: int, b: int) -> int:
    """Multiply two integers.

    Args:
        a: first factor
        b: second factor
    """
    return a * b


class Lookup(BaseModel):
    """Look a word up in the dictionary."""

    word: str = Field(description="the word")


class Translate(TypedDict):
    """Translate a text."""

    text: str
    target: str


OPENAI_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web.",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    },
}


def test_tools_to_wire_every_kind() -> None:
    wire = tools_to_wire([get_weather, multiply, Lookup, Translate, OPENAI_TOOL])
    assert [t["type"] for t in wire] == ["function"] * 5
    names = [t["function"]["name"] for t in wire]
    assert names == ["get_weather", "multiply", "Lookup", "Translate", "search"]
    by_name = {t["function"]["name"]: t["function"] for t in wire}
    assert by_name["get_weather"]["description"] == "Weather forecast for a city."
    assert by_name["get_weather"]["parameters"]["required"] == ["city"]
    assert set(by_name["multiply"]["parameters"]["properties"]) == {"a", "b"}
    assert by_name["multiply"]["parameters"]["properties"]["a"]["description"] == "first factor"
    assert by_name["Lookup"]["parameters"]["properties"]["word"]["description"] == "the word"
    assert set(by_name["Translate"]["parameters"]["required"]) == {"text", "target"}
    assert wire[4] == OPENAI_TOOL
    json.dumps(wire)


def test_tools_to_wire_strict() -> None:
    [wire] = tools_to_wire([Lookup], strict=True)
    assert wire["function"]["strict"] is True
    assert wire["function"]["parameters"]["additionalProperties"] is False


def test_tools_to_wire_without_strict_sends_no_strict_key() -> None:
    [wire] = tools_to_wire([Lookup])
    assert "strict" not in wire["function"]


# ---------------------------------------- tool_choice


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        (None, None),
        (False, "none"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_mapping(choice: Any, expected: Any) -> None:
    assert tool_choice_to_wire(choice, ["get_weather", "multiply"]) == expected


def test_tool_choice_dict_passes_through_untouched() -> None:
    choice = {"type": "function", "function": {"name": "multiply"}}
    assert tool_choice_to_wire(choice, ["multiply"]) is choice


def test_tool_choice_true_with_one_tool_names_it() -> None:
    assert tool_choice_to_wire(True, ["only"]) == {"type": "function", "function": {"name": "only"}}


@pytest.mark.parametrize("names", [[], ["a", "b"]])
def test_tool_choice_true_needs_exactly_one_tool(names: list[str]) -> None:
    with pytest.raises(ValueError, match="needs exactly one tool"):
        tool_choice_to_wire(True, names)


def test_tool_choice_unknown_name_is_an_error_naming_the_tools() -> None:
    with pytest.raises(ValueError, match=r"'nope' is not one of the bound tools \['a', 'b'\]"):
        tool_choice_to_wire("nope", ["a", "b"])


@pytest.mark.parametrize("choice", [3, 1.5, ["a"]])
def test_tool_choice_unsupported_type_is_an_error(choice: Any) -> None:
    with pytest.raises(ValueError, match="Unsupported tool_choice"):
        tool_choice_to_wire(choice, ["a"])


# ---------------------------------------- arguments


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"location": "Paris"}', {"location": "Paris"}),  # OpenAI: a JSON string
        ({"location": "Paris"}, {"location": "Paris"}),  # TGI 1.4: an object
        (json.dumps(json.dumps({"a": 1})), {"a": 1}),  # double-encoded string
        ("", {}),
        (None, {}),
        ("null", {}),
        ("{}", {}),
        ('{"city": "Zürich", "jp": "東京", "emoji": "🌧"}', {"city": "Zürich", "jp": "東京", "emoji": "🌧"}),
        ('{"city": "Z\\u00fcrich"}', {"city": "Zürich"}),
        ('{"nested": {"list": [1, 2.5, null, true]}}', {"nested": {"list": [1, 2.5, None, True]}}),
    ],
)
def test_parse_arguments(raw: Any, expected: dict) -> None:
    assert parse_arguments(raw) == expected


@pytest.mark.parametrize("raw", ["{bad", '{"a": 1', "[1, 2]", '"just a string"', "42", 42, [1]])
def test_parse_arguments_rejects(raw: Any) -> None:
    with pytest.raises(ValueError):
        parse_arguments(raw)


# ---------------------------------------- tool calls back


def test_openai_tool_calls() -> None:
    raw = [
        {
            "id": "call_abc",
            "type": "function",
            "index": 0,
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        },
        {
            "id": "call_def",
            "type": "function",
            "index": 1,
            "function": {"name": "multiply", "arguments": '{"a": 2, "b": 3}'},
        },
    ]
    calls, invalid = tool_calls_from_wire(raw)
    assert invalid == []
    assert calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_abc", "type": "tool_call"},
        {"name": "multiply", "args": {"a": 2, "b": 3}, "id": "call_def", "type": "tool_call"},
    ]


def test_tgi_14_integer_id_and_object_arguments_from_real_answer() -> None:
    answers = recorded_posts(f"{HUB_CASSETTES}/InferenceClientVCRTest.test_chat_completion_with_tool.yaml")
    seen = []
    for _, _, body in answers:
        raw = json.loads(body)["choices"][0]["message"]["tool_calls"]
        assert raw[0]["id"] == 0 and isinstance(raw[0]["function"]["arguments"], dict)
        calls, invalid = tool_calls_from_wire(raw)
        assert invalid == []
        seen.extend(calls)
    assert seen[0] == {
        "name": "get_n_day_weather_forecast",
        "args": {"format": "fahrenheit", "location": "San Francisco, CA", "num_days": 3},
        "id": "0",
        "type": "tool_call",
    }
    assert seen[1]["name"] == "get_current_weather"
    assert seen[1]["args"] == {"format": "fahrenheit", "location": "San Francisco, CA"}


def test_tgi_3_string_id_from_real_answer() -> None:
    raw = tgi_snapshot("test_tools_llama/test_flash_llama_grammar_tools_nostream.json")["choices"][0]["message"]
    assert raw["content"] is None
    calls, invalid = tool_calls_from_wire(raw["tool_calls"])
    assert invalid == []
    assert calls == [
        {
            "name": "get_current_weather",
            "args": {"location": "Brooklyn, NY", "format": "fahrenheit"},
            "id": "0",
            "type": "tool_call",
        }
    ]


def test_integer_id_zero_is_kept_not_replaced() -> None:
    calls, _ = tool_calls_from_wire([{"id": 0, "function": {"name": "f", "arguments": {}}}])
    assert calls[0]["id"] == "0"


@pytest.mark.parametrize("missing", [None, ""])
def test_missing_id_gets_a_fresh_one(missing: Any) -> None:
    raw = [
        {"id": missing, "function": {"name": "f", "arguments": "{}"}},
        {"id": missing, "function": {"name": "g", "arguments": "{}"}},
    ]
    calls, _ = tool_calls_from_wire(raw)
    ids = [c["id"] for c in calls]
    assert all(i and i.startswith("call_") for i in ids)
    assert ids[0] != ids[1]


def test_double_encoded_and_empty_arguments() -> None:
    raw = [
        {"id": "a", "function": {"name": "f", "arguments": json.dumps('{"x": 1}')}},
        {"id": "b", "function": {"name": "g", "arguments": ""}},
        {"id": "c", "function": {"name": "h"}},
    ]
    calls, invalid = tool_calls_from_wire(raw)
    assert invalid == []
    assert [c["args"] for c in calls] == [{"x": 1}, {}, {}]


@pytest.mark.parametrize(
    ("arguments", "text", "error"),
    [
        ("{bad", "{bad", "not valid JSON"),
        ('{"a": 1', '{"a": 1', "not valid JSON"),
        ("[1]", "[1]", "must be a JSON object"),
        ([1, 2], "[1,2]", "must be a JSON object"),
        (42, "42", "must be a JSON object"),
    ],
)
def test_unreadable_arguments_become_invalid_tool_calls(arguments: Any, text: str, error: str) -> None:
    raw = [
        {"id": "ok", "function": {"name": "good", "arguments": "{}"}},
        {"id": "bad", "function": {"name": "broken", "arguments": arguments}},
    ]
    calls, invalid = tool_calls_from_wire(raw)
    assert [c["id"] for c in calls] == ["ok"]
    assert len(invalid) == 1
    assert invalid[0]["name"] == "broken"
    assert invalid[0]["id"] == "bad"
    assert invalid[0]["args"] == text
    assert error in (invalid[0]["error"] or "")


def test_call_without_name_is_invalid() -> None:
    calls, invalid = tool_calls_from_wire([{"id": "x", "function": {"arguments": '{"a": 1}'}}])
    assert calls == []
    assert invalid[0]["error"] == "no function name"
    assert json.loads(invalid[0]["args"] or "") == {"a": 1}


def test_unicode_arguments() -> None:
    raw = [{"id": "u", "function": {"name": "f", "arguments": '{"q": "naïve café · 東京 🌧"}'}}]
    calls, _ = tool_calls_from_wire(raw)
    assert calls[0]["args"] == {"q": "naïve café · 東京 🌧"}


@pytest.mark.parametrize("empty", [None, []])
def test_no_tool_calls(empty: Any) -> None:
    assert tool_calls_from_wire(empty) == ([], [])
