"""Fuzzing the wire layer: whatever a server sends, and whatever a user passes, only the package's typed errors
come out (or the documented ``ValueError``/``TypeError`` for bad user input, and ``ValueError`` — which the chat
model retells as ``HFServerlessAPIError`` — for an answer that cannot be read).

Server data is fuzzed both as arbitrary JSON and as *near-miss* shapes (real keys, any values), which reach much
deeper into the mapping code than random JSON does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ValidationError

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless._transport import Reply, Route, RouterTransport
from langchain_hfserverless._wire.errors import error_from_event, error_from_response, retry_after_seconds
from langchain_hfserverless._wire.messages import to_wire_messages
from langchain_hfserverless._wire.reasoning import ThinkSplitter, split_think
from langchain_hfserverless._wire.responses import chat_result_from_wire, usage_from_wire
from langchain_hfserverless._wire.sse import DONE, SSEDecodeError, SSEDecoder, is_error_event
from langchain_hfserverless._wire.stream import ChatStreamState
from langchain_hfserverless._wire.tools import parse_arguments, tool_calls_from_wire
from langchain_hfserverless.errors import HFServerlessError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------------------------ strategies

# JSON as orjson can produce it: 64-bit integers (it reads bigger ones as floats), finite floats.
ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    ints,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)


def near(keys: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A dict with some of the real keys (each with its plausible value or any JSON), or any JSON at all."""
    shaped = st.fixed_dictionaries({}, optional={k: st.one_of(v, json_values) for k, v in keys.items()})
    return st.one_of(shaped, shaped, shaped, json_values)


texts = st.text(max_size=40)
think_texts = st.one_of(
    texts, st.builds(lambda a, b: f"<think>{a}</think>{b}", texts, texts), st.builds(lambda a: f"  <think>{a}", texts)
)
wire_functions = near({"name": texts, "arguments": st.one_of(texts, json_values, st.just('{"a": 1}'))})
wire_tool_calls = st.lists(
    near(
        {
            "id": st.one_of(texts, ints),
            "index": st.integers(-2, 5),
            "type": st.just("function"),
            "function": wire_functions,
        }
    ),
    max_size=3,
)
wire_usage = near(
    {k: st.integers(-5, 10**6) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
    | {
        "prompt_tokens_details": near({"cached_tokens": st.integers(0, 100)}),
        "completion_tokens_details": near({"reasoning_tokens": st.integers(0, 100)}),
    }
)
wire_message = near(
    {
        "role": st.just("assistant"),
        "content": st.one_of(think_texts, st.none()),
        "reasoning_content": texts,
        "reasoning": texts,
        "tool_calls": wire_tool_calls,
        "refusal": texts,
    }
)
wire_choice = near(
    {
        "index": st.integers(0, 2),
        "message": wire_message,
        "delta": wire_message,
        "finish_reason": st.sampled_from(["stop", "length", "tool_calls", "eos_token", None]),
        "logprobs": near({"content": st.lists(json_values, max_size=2)}),
    }
)
wire_body = near(
    {
        "id": texts,
        "model": texts,
        "created": st.integers(0, 2**31),
        "system_fingerprint": texts,
        "object": texts,
        "choices": st.lists(wire_choice, max_size=3),
        "usage": wire_usage,
        "error": json_values,
        "error_type": texts,
    }
)
headers = st.dictionaries(
    st.sampled_from(["X-Inference-Provider", "x-request-id", "content-type", "Retry-After", "retry-after", "x-other"]),
    texts,
    max_size=4,
)

# ------------------------------------------------------------------------------------------------ SSE


sse_lines = st.lists(
    st.one_of(
        st.text(max_size=60).map(lambda s: s.replace("\n", "")),
        json_values.map(lambda v: "data: " + orjson.dumps(v).decode()),
        wire_body.map(lambda v: "data:" + orjson.dumps(v).decode()),
        st.text(max_size=30).map(lambda s: "data: " + s.replace("\n", "")),
        st.sampled_from(
            [
                "",
                "\r",
                "data: [DONE]",
                "data:[DONE]",
                "event: error",
                ": keep-alive",
                "id: 3",
                "retry: 10",
                "{",
                "data: {",
                '{"a": 1}',
            ]
        ),
    ),
    max_size=12,
)


@FUZZ
@given(sse_lines)
def test_sse_decoder_yields_payloads_or_its_own_error(lines: list[str]) -> None:
    decoder = SSEDecoder()
    for line in [*lines, None]:
        try:
            payload = decoder.feed(line) if line is not None else decoder.close()
        except SSEDecodeError:
            continue
        assert payload is None or payload is DONE or isinstance(payload, (dict, list, str, int, float, bool))
        is_error_event(payload)  # total on anything the decoder returns


@FUZZ
@given(sse_lines)
def test_transport_decode_raises_only_typed_errors(lines: list[str]) -> None:
    transport = RouterTransport(base_url="http://127.0.0.1:1")
    route = Route("http://127.0.0.1:1/v1/chat/completions", "m", "custom", {})
    decoder = SSEDecoder()
    for line in [*lines, None]:
        try:
            transport._decode(decoder, line, route)
        except HFServerlessError:
            decoder = SSEDecoder()


# ------------------------------------------------------------------------------------------------ answers


@FUZZ
@given(wire_body, headers)
def test_chat_result_from_wire_reads_or_says_unreadable(data: Any, answer_headers: dict[str, str]) -> None:
    try:
        result = chat_result_from_wire(data, answer_headers)
    except ValueError:  # documented: "the answer cannot be read"; the model raises HFServerlessAPIError for it
        return
    assert isinstance(result, ChatResult) and result.generations


@FUZZ
@given(st.lists(st.one_of(wire_body, json_values), max_size=6), headers)
def test_stream_state_reads_any_event_or_raises_typed(events: list[Any], answer_headers: dict[str, str]) -> None:
    state = ChatStreamState()
    for event in events:
        try:
            chunk = state.chunk_from_event(event)
        except HFServerlessError:
            continue
        assert chunk is None or isinstance(chunk, ChatGenerationChunk)
    final = state.final_chunk(answer_headers)
    assert final.message.chunk_position == "last"


def _model_with(reply: Reply | None = None, events: list[Any] | None = None) -> ChatHFServerless:
    """A chat model whose transport answers with ``reply`` / streams ``events`` (no HTTP)."""
    llm = ChatHFServerless(base_url="http://127.0.0.1:1", model="m", max_retries=0)
    transport = llm._transport

    def post(route: Route, json: Any = None) -> Reply:
        assert reply is not None
        return reply

    def stream(route: Route, json: Any, meta: Any = None) -> Iterator[Any]:
        yield from events or []

    transport.post = post  # type: ignore[method-assign]
    transport.stream = stream  # type: ignore[method-assign]
    return llm


@FUZZ
@given(st.one_of(wire_body, json_values), headers)
def test_invoke_on_any_answer_gives_a_message_or_a_typed_error(data: Any, answer_headers: dict[str, str]) -> None:
    llm = _model_with(reply=Reply(200, answer_headers, orjson.dumps(data)))
    try:
        message = llm.invoke("hi")
    except HFServerlessError:
        return
    assert isinstance(message, AIMessage)


@FUZZ
@given(st.lists(st.one_of(wire_body, json_values), max_size=6))
def test_stream_on_any_events_gives_chunks_or_a_typed_error(events: list[Any]) -> None:
    # What the transport hands on: it raises error events itself and never yields None or [DONE].
    events = [e for e in events if e is not None and not is_error_event(e)]
    llm = _model_with(events=events)
    try:
        chunks = list(llm.stream("hi"))
    except HFServerlessError:
        return
    assert chunks and chunks[-1].chunk_position == "last"


@FUZZ
@given(
    st.integers(100, 599),
    headers,
    st.one_of(st.binary(max_size=60), json_values.map(orjson.dumps), wire_body.map(orjson.dumps)),
)
def test_error_mapping_is_total(status: int, answer_headers: dict[str, str], body: bytes) -> None:
    error = error_from_response(status, answer_headers, body, model="m", provider="p")
    assert isinstance(error, HFServerlessError) and error.status_code == status
    retry_after = retry_after_seconds(answer_headers, body)
    assert retry_after is None or retry_after >= 0


retry_after_values = st.one_of(
    texts,
    st.floats().map(str),
    st.integers().map(str),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    st.builds(lambda a, b: f"{a}, {b}", texts, texts),
)


@FUZZ
@given(retry_after_values, st.one_of(st.none(), json_values.map(orjson.dumps)))
def test_retry_after_is_a_wait_or_none(value: str, body: bytes | None) -> None:
    seconds = retry_after_seconds({"Retry-After": value}, body)
    assert seconds is None or seconds >= 0


@FUZZ
@given(st.dictionaries(st.sampled_from(["error", "error_type", "message", "detail"]), json_values, min_size=1))
def test_error_events_are_total(event: dict[str, Any]) -> None:
    assert isinstance(error_from_event(event, model="m", provider=None), HFServerlessError)


@FUZZ
@given(json_values)
def test_usage_from_wire_is_total(usage: Any) -> None:
    result = usage_from_wire(usage)
    assert result is None or result["total_tokens"] >= 0 or result["total_tokens"] < 0  # an int either way


# ------------------------------------------------------------------------------------------------ tool calls


@FUZZ
@given(
    st.one_of(
        json_values,
        json_values.map(lambda v: orjson.dumps(v).decode()),
        json_values.map(lambda v: orjson.dumps(orjson.dumps(v).decode()).decode()),
    )
)
def test_parse_arguments_gives_a_dict_or_value_error(raw: Any) -> None:
    try:
        args = parse_arguments(raw)
    except ValueError:
        return
    assert isinstance(args, dict)


@FUZZ
@given(st.one_of(wire_tool_calls, json_values))
def test_tool_calls_from_wire_sorts_every_call(raw: Any) -> None:
    try:
        calls, invalid = tool_calls_from_wire(raw)
    except ValueError:  # tool_calls that is not a list: the answer is unreadable
        assert raw and not isinstance(raw, (list, dict))
        return
    # Every entry comes back, as a call or as an invalid call; none is dropped.
    count = len(raw) if isinstance(raw, list) else 1 if isinstance(raw, dict) else 0
    assert len(calls) + len(invalid) == count


# ------------------------------------------------------------------------------------------------ reasoning


@FUZZ
@given(think_texts, st.lists(st.integers(0, 60), max_size=6))
def test_streamed_think_split_matches_whole_split(text: str, cuts: list[int]) -> None:
    points = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    splitter = ThinkSplitter()
    answer, reasoning = "", ""
    for piece in pieces:
        a, r = splitter.feed(piece)
        answer, reasoning = answer + a, reasoning + r
    a, r = splitter.flush()
    answer, reasoning = answer + a, reasoning + r
    whole_answer, whole_reasoning = split_think(text)
    assert (answer, reasoning) == (whole_answer, whole_reasoning or "")


# ------------------------------------------------------------------------------------------------ messages

data_blocks = st.one_of(
    st.fixed_dictionaries({"type": st.just("image"), "url": texts}),
    st.fixed_dictionaries({"type": st.just("image"), "base64": texts, "mime_type": texts}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["image", "file", "audio"]), "base64": texts},
        optional={"mime_type": texts, "filename": texts},
    ),
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": near({"url": texts})}),
    st.fixed_dictionaries({"type": st.just("text"), "text": texts}, optional={"id": texts}),
    st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)
contents = st.one_of(texts, st.lists(st.one_of(texts, data_blocks), max_size=3))
tool_calls = st.lists(
    st.fixed_dictionaries(
        {"name": texts, "args": st.dictionaries(texts, json_values, max_size=3), "id": st.one_of(st.none(), texts)}
    ),
    max_size=2,
)


@st.composite
def messages(draw: st.DrawFn) -> BaseMessage:
    kind = draw(st.sampled_from(["system", "human", "ai", "tool", "chat"]))
    content = draw(contents)
    name = draw(st.one_of(st.none(), texts))
    try:
        if kind == "system":
            return SystemMessage(content=content, name=name)
        if kind == "human":
            return HumanMessage(content=content, name=name)
        if kind == "ai":
            return AIMessage(content=content, name=name, tool_calls=draw(tool_calls))
        if kind == "tool":
            return ToolMessage(content=content, tool_call_id=draw(texts), name=name)
        return ChatMessage(content=content, role=draw(texts), name=name)
    except (ValidationError, ValueError, TypeError):
        assume(False)
        raise


@pytest.mark.filterwarnings("ignore:OpenAI may require a filename")
@FUZZ
@given(st.lists(messages(), max_size=4))
def test_message_conversion_gives_json_or_says_what_is_wrong(history: list[BaseMessage]) -> None:
    try:
        wire = to_wire_messages(history)
    except (ValueError, TypeError) as exc:
        assert str(exc)  # says what is wrong
        return
    assert len(wire) == len(history)
    assert all(isinstance(m, dict) and isinstance(m["role"], str) for m in wire)
    orjson.dumps(wire)  # what goes on the wire always serializes


# ------------------------------------------------------------------------------------------------ found by fuzzing


@pytest.mark.parametrize(
    "event",
    [
        [],
        "text",
        42,
        None,
        {"choices": "x"},
        {"choices": [1]},
        {"choices": [{"delta": True}]},
        {"choices": [{"delta": {"tool_calls": [7]}}]},
    ],
)
def test_unreadable_stream_events_are_typed_errors(event: Any) -> None:
    with pytest.raises(HFServerlessError, match="Unreadable stream event"):
        ChatStreamState().chunk_from_event(event)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "text",
        {"choices": [None]},
        {"choices": [{"message": "hi"}]},
        {"choices": [{"message": {"tool_calls": 1}}]},
    ],
)
def test_unreadable_answers_are_value_errors(data: Any) -> None:
    with pytest.raises(ValueError, match=r"not a JSON object|not a list|no choices"):
        chat_result_from_wire(data, {})


def test_unreadable_tool_call_entries_are_kept_as_invalid_calls() -> None:
    calls, invalid = tool_calls_from_wire(
        [
            None,
            {"function": "f"},
            {"function": {"name": 3, "arguments": "{}"}},
            {"id": "a", "function": {"name": "ok", "arguments": "{}"}},
        ]
    )
    assert [c["name"] for c in calls] == ["ok"]
    assert len(invalid) == 3 and all("not a tool-call object" in (i["error"] or "") for i in invalid)


def test_base64_blocks_without_mime_type_say_what_to_add() -> None:
    for kind in ("file", "audio", "image"):
        with pytest.raises(ValueError, match="needs a mime_type"):
            to_wire_messages([HumanMessage(content=[{"type": kind, "base64": "AAAA"}])])
