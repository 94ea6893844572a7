"""ChatHFServerless against llama.cpp's llama-server: invoke, stream, usage, seed, tools, JSON, structured output,
and an agent loop. The model is random: every assertion is on structure, never on the text."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from langchain_hfserverless import ChatHFServerless
from tests.real_servers.conftest import API_KEY, CHAT_MODEL

pytestmark = pytest.mark.real_server

SEED = 7


def _chat(url: str, **kwargs: Any) -> ChatHFServerless:
    kwargs.setdefault("max_tokens", 24)
    kwargs.setdefault("seed", SEED)
    return ChatHFServerless(base_url=url, api_key=API_KEY, model=CHAT_MODEL, timeout=120, max_retries=0, **kwargs)


# Arguments the engine's grammar keeps short (an enum): a random model still ends its call within max_tokens.
@tool
def get_weather(city: Literal["Paris", "Lyon"]) -> str:
    """The current weather in a city."""
    return f"Sunny in {city}"


@tool(return_direct=True)
def finish(answer: Literal["yes", "no"]) -> str:
    """Give the final answer to the user."""
    return "done"


class Verdict(BaseModel):
    """A yes/no verdict."""

    ok: bool
    level: Literal["low", "high"]


VERDICT_SCHEMA = {
    "title": "Verdict",
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "level": {"enum": ["low", "high"]}},
    "required": ["ok", "level"],
    "additionalProperties": False,
}


def _assert_usage(message: AIMessage) -> None:
    usage = message.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


# ---------------------------------------- plain chat


def test_invoke_answers_with_text_finish_reason_model_and_usage(chat_url: str) -> None:
    message = _chat(chat_url).invoke("Say something.")

    assert isinstance(message, AIMessage)
    assert isinstance(message.content, str) and message.content
    assert message.response_metadata["finish_reason"] in ("stop", "length")
    assert message.response_metadata["model_name"]
    assert message.id
    _assert_usage(message)


async def test_ainvoke_answers_like_invoke(chat_url: str) -> None:
    message = await _chat(chat_url).ainvoke([HumanMessage("Say something.")])

    assert isinstance(message.content, str) and message.content
    _assert_usage(message)


def test_max_tokens_is_honoured(chat_url: str) -> None:
    message = _chat(chat_url, max_tokens=3, seed=1).invoke("Write a long story.")

    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] <= 3


def _usage_chunks(chunks: list[AIMessageChunk]) -> list[int]:
    return [i for i, chunk in enumerate(chunks) if chunk.usage_metadata]


def test_stream_yields_text_chunks_then_one_final_chunk_with_usage(chat_url: str) -> None:
    chunks = list(_chat(chat_url).stream("Say something."))

    assert len(chunks) >= 3
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert _usage_chunks(chunks) == [len(chunks) - 1]  # usage once, at the end
    merged = sum(chunks[1:], chunks[0])
    assert isinstance(merged.content, str) and merged.content
    assert merged.response_metadata["finish_reason"] in ("stop", "length")
    _assert_usage(merged)


async def test_astream_yields_text_chunks_then_one_final_chunk_with_usage(chat_url: str) -> None:
    chunks = [chunk async for chunk in _chat(chat_url).astream("Say something.")]

    assert len(chunks) >= 3
    assert _usage_chunks(chunks) == [len(chunks) - 1]
    _assert_usage(sum(chunks[1:], chunks[0]))


def test_stream_and_invoke_agree_under_one_seed(chat_url: str) -> None:
    chat = _chat(chat_url, temperature=1.0, seed=123)

    streamed = "".join(str(chunk.content) for chunk in chat.stream("Tell me a thing."))
    assert streamed == chat.invoke("Tell me a thing.").content


def test_seed_makes_an_answer_repeatable(chat_url: str) -> None:
    chat = _chat(chat_url, temperature=1.0, seed=99)

    first, second = chat.invoke("Tell me a thing."), chat.invoke("Tell me a thing.")
    assert first.content == second.content
    assert first.usage_metadata == second.usage_metadata


def test_unknown_model_name_is_answered_by_the_loaded_model(chat_url: str) -> None:
    chat = ChatHFServerless(base_url=chat_url, api_key=API_KEY, model="org/not-loaded", max_tokens=4, max_retries=0)

    assert isinstance(chat.invoke("hi").content, str)


# ---------------------------------------- tools


@pytest.mark.parametrize("choice", ["auto", "required"])
def test_bound_tool_is_called(chat_url: str, choice: str) -> None:
    message = _chat(chat_url, max_tokens=200).bind_tools([get_weather], tool_choice=choice).invoke("Weather?")

    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert len(message.tool_calls) >= 1
    call = message.tool_calls[0]
    assert call["name"] == "get_weather"
    assert (
        isinstance(call["args"], dict)
        and call["args"] == {"city": call["args"]["city"]}
        and call["args"]["city"] in ("Paris", "Lyon")
    )
    assert call["id"]
    assert not message.invalid_tool_calls


async def test_async_tool_call(chat_url: str) -> None:
    message = await _chat(chat_url, max_tokens=200).bind_tools([get_weather], tool_choice="required").ainvoke("?")

    assert [call["name"] for call in message.tool_calls][:1] == ["get_weather"]


def test_streamed_tool_call_fragments_merge_into_a_tool_call(chat_url: str) -> None:
    chat = _chat(chat_url, max_tokens=200).bind_tools([get_weather], tool_choice="required")
    chunks = list(chat.stream("Weather?"))

    fragments = [fragment for chunk in chunks for fragment in chunk.tool_call_chunks]
    assert len(fragments) >= 2  # the arguments arrive in pieces
    assert {fragment["index"] for fragment in fragments} == {0}
    assert fragments[0]["name"] == "get_weather" and fragments[0]["id"]
    merged = sum(chunks[1:], chunks[0])
    assert isinstance(merged, AIMessageChunk)
    assert [call["name"] for call in merged.tool_calls] == ["get_weather"]
    assert merged.tool_calls[0]["args"]["city"] in ("Paris", "Lyon")
    assert merged.response_metadata["finish_reason"] == "tool_calls"


def test_tool_round_trip(chat_url: str) -> None:
    """AIMessage with tool_calls -> ToolMessage -> the server reads both and answers."""
    chat = _chat(chat_url, max_tokens=200)
    question = HumanMessage("What is the weather in Paris?")
    call = chat.bind_tools([get_weather], tool_choice="required").invoke([question])
    assert call.tool_calls
    results = [ToolMessage(get_weather.invoke(c["args"]), tool_call_id=c["id"]) for c in call.tool_calls]
    history: list[BaseMessage] = [question, call, *results]

    answer = _chat(chat_url, max_tokens=16).invoke(history)

    assert isinstance(answer, AIMessage)
    assert isinstance(answer.content, str)
    assert answer.usage_metadata is not None
    # The history (tool call and its result) reached the model: the prompt is longer than the question alone.
    alone = _chat(chat_url, max_tokens=1).invoke([question])
    assert answer.usage_metadata["input_tokens"] > alone.usage_metadata["input_tokens"]  # type: ignore[index]


def test_agent_loop_with_create_agent(chat_url: str) -> None:
    """create_agent drives a real engine: a tool call, the tool runs, its result ends the loop (return_direct)."""
    agent = create_agent(_chat(chat_url, max_tokens=200), tools=[finish])

    state = agent.invoke({"messages": [HumanMessage("Finish now.")]}, {"recursion_limit": 6})

    messages = state["messages"]
    assert [type(m).__name__ for m in messages] == ["HumanMessage", "AIMessage", "ToolMessage"]
    assert messages[1].tool_calls[0]["name"] == "finish"
    assert messages[2].content == "done"
    assert messages[2].tool_call_id == messages[1].tool_calls[0]["id"]


# ---------------------------------------- JSON and structured output


def test_response_format_json_object(chat_url: str) -> None:
    chat = _chat(chat_url, max_tokens=200).bind(response_format={"type": "json_object"})
    message = chat.invoke("Answer in JSON.")

    if message.response_metadata["finish_reason"] == "stop":
        assert isinstance(json.loads(str(message.content)), dict)
    else:  # the random model filled max_tokens inside a string; what it wrote is still a JSON object's start
        assert str(message.content).lstrip().startswith("{")


def test_response_format_json_schema_is_followed(chat_url: str) -> None:
    schema = {"name": "Verdict", "schema": VERDICT_SCHEMA, "strict": True}
    message = (
        _chat(chat_url, max_tokens=200).bind(response_format={"type": "json_schema", "json_schema": schema}).invoke("?")
    )

    value = json.loads(str(message.content))
    assert isinstance(value["ok"], bool) and value["level"] in ("low", "high")
    assert set(value) == {"ok", "level"}


def test_structured_output_json_schema_parses_into_the_model(chat_url: str) -> None:
    result = _chat(chat_url, max_tokens=200).with_structured_output(Verdict, method="json_schema").invoke("?")

    assert isinstance(result, Verdict)


async def test_structured_output_json_schema_async_dict_schema(chat_url: str) -> None:
    result = await _chat(chat_url, max_tokens=200).with_structured_output(VERDICT_SCHEMA).ainvoke("?")

    assert isinstance(result, dict) and isinstance(result["ok"], bool)


def test_structured_output_function_calling(chat_url: str) -> None:
    runnable = _chat(chat_url, max_tokens=200).with_structured_output(
        Verdict, method="function_calling", include_raw=True
    )
    result = runnable.invoke("?")

    raw = result["raw"]
    assert isinstance(raw, AIMessage)
    assert [call["name"] for call in raw.tool_calls][:1] == ["Verdict"]
    # The engine constrains tool arguments to the schema: they parse.
    assert result["parsing_error"] is None
    assert isinstance(result["parsed"], Verdict)


def test_structured_output_json_mode(chat_url: str) -> None:
    runnable = _chat(chat_url, max_tokens=200).with_structured_output(Verdict, method="json_mode", include_raw=True)
    result = runnable.invoke("Answer with a JSON object with keys ok (boolean) and level (low or high).")

    raw = result["raw"]
    assert isinstance(raw, AIMessage) and not raw.tool_calls
    # json_object constrains syntax, not keys: the random model's object may or may not be a Verdict.
    if result["parsing_error"] is None:
        assert isinstance(result["parsed"], Verdict)
    else:
        assert result["parsed"] is None
        assert str(raw.content).lstrip().startswith("{")
