"""Streamed chunks -> LangChain message chunks, for every streaming dialect of the router.

Most cases replay real recorded streams from ``../shared/hf-recordings`` (read in place); the few dialects no
recording shows are hand-made in the shape WIRE-FORMAT.md describes.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from langchain_core.load import dumpd
from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_hfserverless._wire.stream import ChatStreamState
from tests.unit.test_wire_sse import HUB_CASSETTES, decode_all, lines_of, recorded_post, tgi_snapshot

WITH_STREAM = f"{HUB_CASSETTES}/TestInferenceClient.test_chat_completion_with_stream[{{}},conversational].yaml"
CHATLAS = "chatlas/tests/_vcr/test_provider_huggingface"


def run(events: list[dict[str, Any]], headers: dict[str, str] | None = None) -> list[ChatGenerationChunk]:
    """Every chunk a stream yields: one per carrying event, then the final one."""
    state = ChatStreamState()
    chunks = [c for c in (state.chunk_from_event(e) for e in events) if c is not None]
    chunks.append(state.final_chunk(headers or {}))
    return chunks


def merged(chunks: list[ChatGenerationChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total.message, AIMessageChunk)
    return total.message


def recorded_events(cassette: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    _, headers, body = recorded_post(cassette)
    return decode_all(lines_of(body)), headers


def streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join(
        (choice.get("delta") or {}).get("content") or "" for event in events for choice in event.get("choices") or ()
    )


def _usage(prompt: int, completion: int, total: int | None = None) -> dict[str, Any]:
    return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": total or prompt + completion}


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "chatcmpl-7",
        "object": "chat.completion.chunk",
        "created": 1767213633,
        "model": "Qwen/Qwen3-32B",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    event.update(extra)
    return event


# ---------------------------------------- real streams

REAL = [
    # cassette, usage (prompt, completion, total) or None, finish_reason, model_name
    (WITH_STREAM.format("cerebras"), (46, 20, 66), "length", "llama-3.3-70b"),  # last content chunk, no [DONE]
    (WITH_STREAM.format("cohere"), (11, 19, 30), "length", "command-r7b-12-2024"),
    (WITH_STREAM.format("fireworks-ai"), (46, 20, 66), "length", "accounts/fireworks/models/llama-v3p3-70b-instruct"),
    (WITH_STREAM.format("together"), (26, 20, 46), "length", "meta-llama/Meta-Llama-3-8B-Instruct-Turbo"),
    (WITH_STREAM.format("hyperbolic"), (46, 21, 67), "length", "meta-llama/Llama-3.2-3B-Instruct"),  # cumulative
    (WITH_STREAM.format("novita"), (46, 20, 66), "length", "meta-llama/llama-3.1-8b-instruct"),  # cumulative
    (WITH_STREAM.format("nebius"), None, "length", "meta-llama/Meta-Llama-3.1-8B-Instruct-fast"),  # never
    (WITH_STREAM.format("centml"), None, "length", "meta-llama/Llama-3.3-70B-Instruct"),
    (WITH_STREAM.format("sambanova"), None, "length", "Meta-Llama-3.1-8B-Instruct"),
    (WITH_STREAM.format("hf-inference"), None, "length", "meta-llama/Llama-3.1-8B-Instruct"),
    (
        f"{HUB_CASSETTES}/InferenceClientVCRTest.test_chat_completion_with_stream.yaml",
        None,
        "length",
        "HuggingFaceH4/zephyr-7b-beta",
    ),  # legacy TGI 1.4
    (f"{CHATLAS}/test_huggingface_simple_streaming_request.yaml", (51, 2, 53), "stop", "llama3.1-8b"),
    (f"{CHATLAS}/test_huggingface_tools.yaml", (515, 7, 522), "stop", "llama3.1-8b"),
]


@pytest.mark.parametrize(("cassette", "usage", "finish", "model_name"), REAL, ids=lambda v: str(v)[-45:])
def test_real_stream(cassette: str, usage: tuple[int, int, int] | None, finish: str, model_name: str) -> None:
    events, headers = recorded_events(cassette)
    chunks = run(events, headers)
    message = merged(chunks)

    assert message.content == streamed_text(events)
    assert message.content
    assert message.tool_calls == []
    expected_usage: dict[str, Any] | None = _usage(*usage) if usage else None
    if expected_usage and "chatlas" in cassette:  # the 2025 router also says prompt_tokens_details.cached_tokens: 0
        expected_usage["input_token_details"] = {"cache_read": 0}
    assert message.usage_metadata == expected_usage
    meta = message.response_metadata
    assert meta["finish_reason"] == finish
    assert meta["model_name"] == model_name
    assert meta["model_provider"] == "huggingface"
    # usage and metadata ride on exactly one chunk: the last
    assert [c.message.usage_metadata is not None for c in chunks].count(True) == (1 if usage else 0)
    assert all(not c.message.response_metadata for c in chunks[:-1])
    assert chunks[-1].message.chunk_position == "last"
    assert chunks[-1].generation_info == {"finish_reason": finish}


def test_real_router_stream_names_the_serving_provider() -> None:
    events, headers = recorded_events(f"{CHATLAS}/test_huggingface_simple_streaming_request.yaml")
    message = merged(run(events, headers))
    assert message.response_metadata["inference_provider"] == "cerebras"
    assert message.response_metadata["id"] == "chatcmpl-e95808b4-883c-44af-ba50-8c9d7796c958"
    assert message.response_metadata["system_fingerprint"] == "fp_2df2c50ce520692a7dce"


def test_cumulative_usage_is_the_last_figure_not_the_sum() -> None:
    events, _ = recorded_events(WITH_STREAM.format("hyperbolic"))
    figures = [e["usage"]["completion_tokens"] for e in events]
    assert len(figures) == len(events) > 1 and figures == sorted(figures)  # really cumulative
    message = merged(run(events))
    assert message.usage_metadata == {"input_tokens": 46, "output_tokens": 21, "total_tokens": 67}


def test_cumulative_usage_novita_with_null_details_and_content_filter_results() -> None:
    events, _ = recorded_events(WITH_STREAM.format("novita"))
    assert all("content_filter_results" in e["choices"][0] for e in events)
    assert all(e["usage"] is not None for e in events)
    message = merged(run(events))
    assert message.usage_metadata == {"input_tokens": 46, "output_tokens": 20, "total_tokens": 66}
    assert "content_filter_results" not in message.response_metadata


def test_extra_keys_text_seed_token_id_are_ignored() -> None:
    events, _ = recorded_events(WITH_STREAM.format("together"))
    assert {"text", "seed"} <= set(events[0]["choices"][0]) and "token_id" in events[0]["choices"][0]["delta"]
    message = merged(run(events))
    # "text" duplicates "delta.content": the answer must not be doubled
    assert message.content == streamed_text(events)
    assert message.content.count("Deep learning") == 1


def test_time_info_is_ignored() -> None:
    events, _ = recorded_events(WITH_STREAM.format("cerebras"))
    assert "time_info" in events[-1]
    assert "time_info" not in merged(run(events)).response_metadata


def test_finish_reason_absent_from_key_set() -> None:
    events, _ = recorded_events(WITH_STREAM.format("cerebras"))
    assert all("finish_reason" not in e["choices"][0] for e in events[:-1])
    assert merged(run(events)).response_metadata["finish_reason"] == "length"


def test_legacy_tgi_chunks_role_in_every_delta() -> None:
    events, _ = recorded_events(f"{HUB_CASSETTES}/InferenceClientVCRTest.test_chat_completion_with_stream.yaml")
    assert all(e["object"] == "text_completion" and e["id"] == "" for e in events)
    assert all(e["choices"][0]["delta"].get("role") == "assistant" for e in events[:-1])
    message = merged(run(events))
    assert "id" not in message.response_metadata
    assert message.response_metadata["system_fingerprint"] == "1.4.3-sha-e6bb3ff"


def test_usage_only_in_final_chunk_with_empty_choices() -> None:
    events = tgi_snapshot("test_completion_prompts/test_chat_openai_usage.json")
    assert events[-1]["choices"] == []
    chunks = run(events)
    message = merged(chunks)
    assert message.content == "OK" + "".join(e["choices"][0]["delta"]["content"] for e in events[1:-1])
    assert message.usage_metadata == {"input_tokens": 39, "output_tokens": 3, "total_tokens": 42}
    assert message.response_metadata["finish_reason"] == "stop"
    assert [c.message.usage_metadata is not None for c in chunks].count(True) == 1


def test_tgi_3_streamed_tool_call_is_aggregated() -> None:
    events = tgi_snapshot("test_tools_llama/test_flash_llama_grammar_tools_choice_stream.json")
    names = [e["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] for e in events]
    assert names[0] == "get_current_weather" and not any(names[1:])  # name only in the first delta
    assert not any(e["choices"][0]["finish_reason"] for e in events)  # no finish_reason ever
    message = merged(run(events))
    assert message.content == ""
    assert message.tool_calls == [
        {
            "name": "get_current_weather",
            "args": {"location": "Brooklyn, NY", "format": "fahrenheit"},
            "id": "0",
            "type": "tool_call",
        }
    ]
    assert message.invalid_tool_calls == []
    assert message.response_metadata["finish_reason"] is None


def test_tgi_3_openai_client_streamed_tool_call() -> None:
    events = tgi_snapshot("test_tools_llama/test_flash_llama_grammar_tools_openai.json")
    message = merged(run(events))
    assert len(message.tool_calls) == 1
    assert message.tool_calls[0]["id"] == "0"
    assert message.tool_calls[0]["name"] == "get_current_weather"
    assert message.tool_calls[0]["args"] == {"location": "Brooklyn, NY", "format": "fahrenheit"}


def test_text_stream_with_null_tool_calls_key() -> None:
    events = tgi_snapshot("test_tools_llama/test_flash_llama_grammar_tools_insufficient_information_stream.json")
    message = merged(run(events))
    assert message.tool_calls == [] and message.tool_call_chunks == []
    assert message.content == streamed_text(events)
    assert message.response_metadata["finish_reason"] == "length"


# ---------------------------------------- hand-made dialects


def test_usage_in_last_content_chunk() -> None:
    events = [
        _chunk({"role": "assistant", "content": "Hel"}),
        _chunk({"content": "lo"}, "stop", usage={"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}),
    ]
    chunks = run(events)
    assert [c.message.content for c in chunks] == ["Hel", "lo", ""]
    assert chunks[1].message.usage_metadata is None  # carried by the final chunk only
    assert merged(chunks).usage_metadata == _usage(9, 2, 11)


def test_usage_cumulative_on_every_chunk_exact_numbers() -> None:
    events = [
        _chunk({"content": "a"}, usage={"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}),
        _chunk({"content": "b"}, usage={"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}),
        _chunk({"content": "c"}, "stop", usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}),
    ]
    assert merged(run(events)).usage_metadata == {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}


def test_usage_null_on_every_chunk_then_final_empty_choices() -> None:
    events = [
        _chunk({"content": "x"}, usage=None),
        _chunk({}, "stop", usage=None),
        {
            "id": "chatcmpl-7",
            "object": "chat.completion.chunk",
            "model": "Qwen/Qwen3-32B",
            "choices": [],
            "usage": {
                "prompt_tokens": 4,
                "completion_tokens": 1,
                "total_tokens": 5,
                "prompt_tokens_details": {"cached_tokens": 2},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        },
    ]
    assert merged(run(events)).usage_metadata == {
        "input_tokens": 4,
        "output_tokens": 1,
        "total_tokens": 5,
        "input_token_details": {"cache_read": 2},
        "output_token_details": {"reasoning": 0},
    }


def test_never_any_usage() -> None:
    chunks = run([_chunk({"content": "x"}), _chunk({}, "stop")])
    assert all(c.message.usage_metadata is None for c in chunks)
    assert merged(chunks).usage_metadata is None


def test_finish_reason_never_sent() -> None:
    message = merged(run([_chunk({"content": "a"}), _chunk({"content": "b"})]))
    assert message.content == "ab"
    assert message.response_metadata["finish_reason"] is None


def test_legacy_eos_token_finish_reason_is_reported_as_sent() -> None:
    event = {
        "id": "",
        "object": "text_completion",
        "model": "m",
        "system_fingerprint": "1.4.5-native",
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": "x"}, "logprobs": None, "finish_reason": "eos_token"}
        ],
    }
    assert merged(run([event])).response_metadata["finish_reason"] == "eos_token"


def test_metadata_and_content_filter_keys_do_not_leak() -> None:
    events = [
        _chunk({"content": "ok"}, metadata={"weight_version": "v1"}, prompt_filter_results=[]),
        _chunk({}, "stop", metadata={"weight_version": "v1"}),
    ]
    events[0]["choices"][0]["content_filter_results"] = {"hate": {"filtered": False}}
    message = merged(run(events))
    assert message.content == "ok"
    assert set(message.response_metadata) <= {
        "model_provider",
        "model_name",
        "id",
        "system_fingerprint",
        "created",
        "inference_provider",
        "request_id",
        "finish_reason",
        "logprobs",
    }


def test_role_only_and_empty_deltas_yield_no_chunk() -> None:
    state = ChatStreamState()
    assert state.chunk_from_event(_chunk({"role": "assistant"})) is None
    assert state.chunk_from_event(_chunk({"role": "assistant", "content": ""})) is None
    assert state.chunk_from_event(_chunk({})) is None
    assert state.chunk_from_event({"choices": [{"index": 0, "delta": None}]}) is None
    assert state.chunk_from_event({"object": "chat.completion.chunk"}) is None


def test_other_choice_indexes_are_not_mixed_in() -> None:
    event = _chunk({"content": "first"})
    event["choices"].append({"index": 1, "delta": {"content": "SECOND"}, "finish_reason": None})
    assert merged(run([event])).content == "first"


def test_openai_parallel_tool_calls_interleaved() -> None:
    def call(index: int, **fields: Any) -> dict[str, Any]:
        return {"index": index, **fields}

    events = [
        _chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    call(0, id="call_a", type="function", function={"name": "get_weather", "arguments": ""})
                ],
            }
        ),
        _chunk({"tool_calls": [call(0, function={"arguments": '{"city": '})]}),
        _chunk({"tool_calls": [call(1, id="call_b", type="function", function={"name": "get_time", "arguments": ""})]}),
        _chunk({"tool_calls": [call(0, function={"arguments": '"Zürich"}'})]}),
        _chunk({"tool_calls": [call(1, function={"arguments": '{"tz": "CET"}'})]}),
        _chunk({}, "tool_calls"),
        {
            "id": "chatcmpl-7",
            "choices": [],
            "usage": {"prompt_tokens": 80, "completion_tokens": 30, "total_tokens": 110},
        },
    ]
    chunks = run(events)
    message = merged(chunks)
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Zürich"}, "id": "call_a", "type": "tool_call"},
        {"name": "get_time", "args": {"tz": "CET"}, "id": "call_b", "type": "tool_call"},
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert message.usage_metadata == _usage(80, 30, 110)


def test_tool_call_id_and_name_repeated_on_every_delta_are_said_once() -> None:
    events = [
        _chunk({"tool_calls": [{"index": 0, "id": "0", "function": {"name": "f", "arguments": '{"a"'}}]}),
        _chunk({"tool_calls": [{"index": 0, "id": "0", "function": {"name": "f", "arguments": ": 1}"}}]}),
    ]
    message = merged(run(events))
    assert message.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "0", "type": "tool_call"}]


def test_tool_call_arguments_as_object_fragment() -> None:
    events = [
        _chunk({"tool_calls": [{"index": 0, "id": 0, "function": {"name": "f", "arguments": {"a": "é"}}}]}, "eos_token")
    ]
    message = merged(run(events))
    assert message.tool_calls == [{"name": "f", "args": {"a": "é"}, "id": "0", "type": "tool_call"}]


def test_tool_call_with_broken_arguments_is_invalid_not_an_exception() -> None:
    # (a merely truncated object such as '{"a": ' is completed by langchain-core's partial-JSON parser)
    events = [_chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": "not json"}}]})]
    message = merged(run(events))
    assert message.tool_calls == []
    assert message.invalid_tool_calls[0]["name"] == "f"
    assert message.invalid_tool_calls[0]["args"] == "not json"


def test_logprobs_are_collected_on_the_final_chunk() -> None:
    events = [_chunk({"content": "a"}), _chunk({"content": "b"}, "stop")]
    events[0]["choices"][0]["logprobs"] = {"content": [{"token": "a", "logprob": -0.1}]}
    events[1]["choices"][0]["logprobs"] = {"content": [{"token": "b", "logprob": -0.2}]}
    chunks = run(events)
    assert chunks[-1].message.response_metadata["logprobs"] == {
        "content": [{"token": "a", "logprob": -0.1}, {"token": "b", "logprob": -0.2}]
    }


def test_single_json_answer_to_a_stream_request_reads_like_a_stream() -> None:
    # A server that ignored stream: true answers one chat.completion body; its "message" is read like a delta.
    body = {
        "id": "x",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    message = merged(run([body]))
    assert message.content == "whole"
    assert message.usage_metadata == _usage(3, 1, 4)
    assert message.response_metadata["finish_reason"] == "stop"


def test_headers_give_inference_provider_and_request_id() -> None:
    message = merged(
        run([_chunk({"content": "x"}, "stop")], {"X-Inference-Provider": "novita", "x-request-id": "Root=1-x"})
    )
    assert message.response_metadata["inference_provider"] == "novita"
    assert message.response_metadata["request_id"] == "Root=1-x"


def test_first_id_and_model_win() -> None:
    events = [_chunk({"content": "a"}), {**_chunk({"content": "b"}), "id": "other", "model": "other-model"}]
    meta = merged(run(events)).response_metadata
    assert meta["id"] == "chatcmpl-7" and meta["model_name"] == "Qwen/Qwen3-32B"


def test_a_summary_key_missing_at_first_is_taken_from_a_later_chunk() -> None:
    # Once seen, a key is no longer read; one not sent yet is still looked for on every chunk, and its first value wins.
    events = [
        _chunk({"content": "a"}),
        {**_chunk({"content": "b"}), "system_fingerprint": "fp-1", "id": "other"},
        {**_chunk({"content": "c"}), "system_fingerprint": "fp-2"},
    ]
    meta = merged(run(events)).response_metadata
    assert meta["system_fingerprint"] == "fp-1" and meta["id"] == "chatcmpl-7"


def test_events_survive_a_json_round_trip() -> None:
    # What the transport yields is plain parsed JSON; the state must not depend on object identity.
    events, _ = recorded_events(WITH_STREAM.format("fireworks-ai"))
    assert merged(run(json.loads(json.dumps(events)))).content == merged(run(events)).content


def test_parallel_calls_streamed_at_one_index_stay_separate() -> None:
    # SGLang streams parallel tool calls all at index 0, told apart only by their ids.
    state = ChatStreamState()
    events = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f"}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"x": 1}'}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "b", "function": {"name": "g"}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"y": 2}'}}]}}]},
    ]
    message = None
    for event in events:
        chunk = state.chunk_from_event(event)
        assert chunk is not None
        message = chunk.message if message is None else message + chunk.message
    assert message is not None
    message = message + state.final_chunk({}).message
    assert [(c["id"], c["name"], c["args"]) for c in message.tool_calls] == [("a", "f", {"x": 1}), ("b", "g", {"y": 2})]


# ---------------------------------------- the fast chunk construction

VALIDATED = [
    ({"content": "tok "}, ChatGenerationChunk(message=AIMessageChunk(content="tok "))),
    (
        {"reasoning_content": "hm"},
        ChatGenerationChunk(message=AIMessageChunk(content="", additional_kwargs={"reasoning_content": "hm"})),
    ),
    (
        {"content": "a", "reasoning": "b"},
        ChatGenerationChunk(message=AIMessageChunk(content="a", additional_kwargs={"reasoning_content": "b"})),
    ),
]


@pytest.mark.parametrize(("delta", "expected"), VALIDATED, ids=["content", "reasoning", "both"])
def test_text_chunks_are_the_chunks_validation_builds(delta: dict[str, Any], expected: ChatGenerationChunk) -> None:
    # Text and reasoning chunks skip pydantic validation; what the user gets must not differ in any way.
    got = ChatStreamState().chunk_from_event(_chunk(delta))
    assert got is not None
    assert got == expected
    assert type(got.text) is type(expected.text) and got.text == expected.text
    assert got.model_fields_set == expected.model_fields_set
    assert got.message.model_fields_set == expected.message.model_fields_set
    assert got.message.model_dump() == expected.message.model_dump()
    assert got.model_dump(exclude_unset=True) == expected.model_dump(exclude_unset=True)
    assert dumpd(got) == dumpd(expected) and pickle.loads(pickle.dumps(got)) == expected
    assert got + got == expected + expected and (got + got).model_fields_set == (expected + expected).model_fields_set


def test_text_chunks_share_no_mutable_state() -> None:
    # Built without validation, each chunk still gets its own dicts, lists and fields-set.
    state = ChatStreamState()
    first, second = (state.chunk_from_event(_chunk({"content": t})) for t in ("a", "b"))
    assert first is not None and second is not None
    first.message.additional_kwargs["x"] = 1
    first.message.response_metadata["y"] = 2
    first.message.tool_call_chunks.append(tool_call_chunk(name="f", args=None, id=None, index=0))
    first.message.id = "run-1"  # what langchain-core does to every streamed chunk
    assert second.message.additional_kwargs == {} and second.message.response_metadata == {}
    assert second.message.tool_call_chunks == [] and second.message.id is None
    assert "id" not in second.message.model_fields_set
    third = state.chunk_from_event(_chunk({"content": "c"}))
    assert third is not None and third.message.model_fields_set == {"content"}
