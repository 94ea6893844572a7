"""A whole chat-completions answer -> ChatResult: content, tool calls, usage, and response metadata."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from langchain_core.load import dumpd
from langchain_core.messages import AIMessage
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.outputs import ChatGeneration

from langchain_hfserverless._wire.responses import (
    MODEL_PROVIDER,
    chat_result_from_wire,
    response_metadata,
    usage_from_wire,
)
from tests.unit.test_wire_sse import HUB_CASSETTES, recorded_post, tgi_snapshot

REQUESTED = "meta-llama/Llama-3.3-70B-Instruct"


def _answer(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1767213633,
        "model": "llama3.1-8b",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
    }
    body.update(extra)
    return body


# ---------------------------------------- content


@pytest.mark.parametrize("content", [None, ""])
def test_null_or_empty_content_beside_tool_calls(content: str | None) -> None:
    data = _answer(
        {
            "content": content,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        }
    )
    data["choices"][0]["finish_reason"] = "tool_calls"
    message = chat_result_from_wire(data, {}).generations[0].message
    assert message.content == ""
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"


def test_null_reasoning_keys_and_empty_tool_calls_list() -> None:
    data = _answer({"content": "hi", "reasoning": None, "reasoning_content": None, "tool_calls": [], "refusal": None})
    message = chat_result_from_wire(data, {}).generations[0].message
    assert message.content == "hi"
    assert message.additional_kwargs == {}
    assert message.tool_calls == [] and message.invalid_tool_calls == []


def test_refusal_is_kept() -> None:
    message = chat_result_from_wire(_answer({"content": "", "refusal": "I can't help with that."}), {})
    assert message.generations[0].message.additional_kwargs["refusal"] == "I can't help with that."


def test_invalid_tool_call_does_not_raise() -> None:
    data = _answer({"content": None, "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}]})
    message = chat_result_from_wire(data, {}).generations[0].message
    assert message.tool_calls == []
    assert message.invalid_tool_calls[0]["args"] == "{oops"


def test_several_choices_become_several_generations() -> None:
    data = _answer({"content": "a"})
    data["choices"].append({"index": 1, "message": {"role": "assistant", "content": "b"}, "finish_reason": "length"})
    generations = chat_result_from_wire(data, {}).generations
    assert [g.message.content for g in generations] == ["a", "b"]
    assert [g.generation_info for g in generations] == [{"finish_reason": "stop"}, {"finish_reason": "length"}]


@pytest.mark.parametrize("data", [{"choices": []}, {"error": "x"}, {"choices": None}, {}])
def test_answer_without_choices_is_a_clear_error(data: dict) -> None:
    with pytest.raises(ValueError, match="no choices"):
        chat_result_from_wire(data, {})


# ---------------------------------------- metadata


def test_response_metadata() -> None:
    data = _answer(
        {"content": "2"},
        system_fingerprint="fp_2df2",
        usage={"prompt_tokens": 51, "completion_tokens": 2, "total_tokens": 53},
    )
    data["choices"][0]["logprobs"] = {"content": [{"token": "2", "logprob": -0.01, "top_logprobs": []}]}
    headers = {"X-Inference-Provider": "cerebras", "X-Request-Id": "Root=1-abc", "x-compute-time": "0.01"}
    result = chat_result_from_wire(data, headers)
    message = result.generations[0].message
    assert message.response_metadata == {
        "model_provider": "huggingface",
        "model_name": "llama3.1-8b",
        "id": "chatcmpl-1",
        "system_fingerprint": "fp_2df2",
        "created": 1767213633,
        "inference_provider": "cerebras",
        "request_id": "Root=1-abc",
        "finish_reason": "stop",
        "logprobs": {"content": [{"token": "2", "logprob": -0.01, "top_logprobs": []}]},
    }
    # The response id stays in metadata: a provider that repeats ids must not make LangGraph merge two turns.
    assert message.id is None
    assert result.llm_output == {"model_name": "llama3.1-8b", "token_usage": data["usage"]}


def test_model_name_is_what_answered_not_what_was_asked() -> None:
    # The request asked for REQUESTED; cerebras answers with its own native name.
    meta = response_metadata({"model": "llama-3.3-70b"}, {})
    assert meta["model_name"] == "llama-3.3-70b" != REQUESTED


def test_empty_tgi_id_is_not_reported() -> None:
    message = chat_result_from_wire(_answer({"content": "x"}, id=""), {}).generations[0].message
    assert "id" not in message.response_metadata
    assert message.id is None


def test_no_provider_header_no_inference_provider_key() -> None:
    meta = chat_result_from_wire(_answer({"content": "x"}), {}).generations[0].message.response_metadata
    assert "inference_provider" not in meta
    assert meta["model_provider"] == MODEL_PROVIDER == "huggingface"


# ---------------------------------------- usage


def test_usage_with_cached_and_reasoning_details() -> None:
    usage = usage_from_wire(
        {
            "prompt_tokens": 51,
            "completion_tokens": 120,
            "total_tokens": 171,
            "prompt_tokens_details": {"cached_tokens": 32},
            "completion_tokens_details": {"reasoning_tokens": 100},
        }
    )
    assert usage == {
        "input_tokens": 51,
        "output_tokens": 120,
        "total_tokens": 171,
        "input_token_details": {"cache_read": 32},
        "output_token_details": {"reasoning": 100},
    }


def test_usage_with_null_details() -> None:
    usage = usage_from_wire(
        {
            "prompt_tokens": 46,
            "completion_tokens": 20,
            "total_tokens": 66,
            "prompt_tokens_details": None,
            "completion_tokens_details": None,
        }
    )
    assert usage == {"input_tokens": 46, "output_tokens": 20, "total_tokens": 66}


def test_usage_total_is_computed_when_absent() -> None:
    assert usage_from_wire({"prompt_tokens": 3, "completion_tokens": 4}) == {
        "input_tokens": 3,
        "output_tokens": 4,
        "total_tokens": 7,
    }


def test_usage_in_input_output_naming() -> None:
    assert usage_from_wire({"input_tokens": 3, "output_tokens": 4, "total_tokens": 7})["total_tokens"] == 7


@pytest.mark.parametrize("usage", [None, {}, "n/a", []])
def test_no_usage(usage: Any) -> None:
    assert usage_from_wire(usage) is None


def test_usage_on_message() -> None:
    data = _answer({"content": "x"}, usage={"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6})
    assert chat_result_from_wire(data, {}).generations[0].message.usage_metadata == {
        "input_tokens": 5,
        "output_tokens": 1,
        "total_tokens": 6,
    }


# ---------------------------------------- real answers

NO_STREAM = f"{HUB_CASSETTES}/TestInferenceClient.test_chat_completion_no_stream[{{}},conversational].yaml"


@pytest.mark.parametrize(
    ("provider", "model_name", "usage", "finish"),
    [
        ("cerebras", "llama-3.3-70b", (46, 637, 683), "stop"),
        ("centml", "meta-llama/Llama-3.3-70B-Instruct", (46, 549, 595), "stop"),
        ("cohere", "command-r7b-12-2024", (11, 476, 487), "stop"),
        ("fireworks-ai", "accounts/fireworks/models/llama-v3p3-70b-instruct", (46, 586, 632), "stop"),
        ("hf-inference", "meta-llama/Llama-3.1-8B-Instruct", (46, 579, 625), "stop"),
        ("hyperbolic", "meta-llama/Llama-3.2-3B-Instruct", (46, 477, 523), "stop"),
        ("nebius", "meta-llama/Meta-Llama-3.1-8B-Instruct-fast", (26, 462, 488), "stop"),
        ("novita", "meta-llama/llama-3.1-8b-instruct", (46, 584, 630), "stop"),
        ("sambanova", "Meta-Llama-3.1-8B-Instruct", (46, 409, 455), "stop"),
        ("together", "meta-llama/Meta-Llama-3-8B-Instruct-Turbo", (26, 597, 623), "stop"),
    ],
)
def test_real_answers_of_every_provider(
    provider: str, model_name: str, usage: tuple[int, int, int], finish: str
) -> None:
    status, headers, body = recorded_post(NO_STREAM.format(provider))
    assert status == 200
    data = json.loads(body)
    result = chat_result_from_wire(data, {**headers, "x-inference-provider": provider})
    message = result.generations[0].message
    assert message.content == data["choices"][0]["message"]["content"]
    assert message.content.strip()
    assert message.tool_calls == []
    assert message.additional_kwargs == {}
    assert message.usage_metadata == dict(zip(("input_tokens", "output_tokens", "total_tokens"), usage, strict=True))
    meta = message.response_metadata
    assert meta["model_name"] == model_name
    assert meta["finish_reason"] == finish
    assert meta["inference_provider"] == provider
    assert meta["model_provider"] == "huggingface"


def test_real_tgi_14_tool_answer() -> None:
    _, headers, body = recorded_post(f"{HUB_CASSETTES}/InferenceClientVCRTest.test_chat_completion_with_tool.yaml")
    data = json.loads(body)
    message = chat_result_from_wire(data, headers).generations[0].message
    assert message.content == ""  # no content key at all
    assert message.tool_calls[0]["id"] == "0"
    assert message.tool_calls[0]["args"]["num_days"] == 3
    assert message.response_metadata["finish_reason"] == "eos_token"
    assert message.response_metadata["request_id"] == headers["x-request-id"]
    assert message.response_metadata["model_name"] == "hsramall/hsramall-70b-chat-placeholder"


@pytest.mark.parametrize(
    ("snapshot", "prompt_tokens"),
    [
        ("test_tools_llama/test_flash_llama_grammar_tools_nostream.json", 501),
        ("test_tools_llama/test_flash_llama_grammar_tools_auto_nostream.json", 501),
        ("test_tools_llama/test_flash_llama_grammar_tools_choice_nostream.json", 286),
    ],
    ids=["tools", "auto", "choice"],
)
def test_real_tgi_3_tool_answers(snapshot: str, prompt_tokens: int) -> None:
    data = tgi_snapshot(snapshot)
    message = chat_result_from_wire(data, {}).generations[0].message
    assert message.content == ""
    assert message.tool_calls == [
        {
            "name": "get_current_weather",
            "args": {"location": "Brooklyn, NY", "format": "fahrenheit"},
            "id": "0",
            "type": "tool_call",
        }
    ]
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.usage_metadata == {
        "input_tokens": prompt_tokens,
        "output_tokens": 29,
        "total_tokens": prompt_tokens + 29,
    }


# ---------------------------------------------------------------------------------------------- built, not validated
# Whole answers of text are built without pydantic validation: what the user gets must not differ in any way from
# what validation builds.

BUILT_HEADERS = {"x-inference-provider": "together", "x-request-id": "req-1"}
BUILT_USAGE = {
    "prompt_tokens": 5,
    "completion_tokens": 7,
    "total_tokens": 12,
    "prompt_tokens_details": {"cached_tokens": 2},
    "completion_tokens_details": {"reasoning_tokens": 3},
}
BUILT_META = {
    "model_provider": "huggingface",
    "model_name": "m",
    "id": "c-1",
    "created": 1,
    "inference_provider": "together",
    "request_id": "req-1",
}


def _text_answer(
    message: dict[str, Any], finish: str | None = "stop", usage: Any = BUILT_USAGE, **choice: Any
) -> dict[str, Any]:
    return {
        "id": "c-1",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, **choice}],
        "usage": usage,
    }


def _validated_text_result(
    content: str, additional: dict[str, Any], meta: dict[str, Any], usage: Any, finish: Any
) -> Any:
    message = AIMessage(content=content, additional_kwargs=additional, tool_calls=[], invalid_tool_calls=[])
    message.response_metadata = meta
    message.usage_metadata = usage
    return ChatGeneration(message=message, generation_info={"finish_reason": finish})


BUILT_FULL_USAGE = UsageMetadata(
    input_tokens=5,
    output_tokens=7,
    total_tokens=12,
    input_token_details=InputTokenDetails(cache_read=2),
    output_token_details=OutputTokenDetails(reasoning=3),
)
BUILT_CASES = [
    (
        _text_answer({"content": "Hello"}),
        _validated_text_result("Hello", {}, {**BUILT_META, "finish_reason": "stop"}, BUILT_FULL_USAGE, "stop"),
    ),
    (
        _text_answer({"content": None, "reasoning_content": "hmm"}, finish=None, usage=None),
        _validated_text_result("", {"reasoning_content": "hmm"}, {**BUILT_META, "finish_reason": None}, None, None),
    ),
    (
        _text_answer({"content": "<think>a</think>b", "refusal": "no"}, finish="length", logprobs={"content": []}),
        _validated_text_result(
            "b",
            {"reasoning_content": "a", "refusal": "no"},
            {**BUILT_META, "finish_reason": "length", "logprobs": {"content": []}},
            BUILT_FULL_USAGE,
            "length",
        ),
    ),
]


@pytest.mark.parametrize(("answer", "expected"), BUILT_CASES, ids=["text", "reasoning-only", "think-refusal-logprobs"])
def test_text_answers_are_the_generations_validation_builds(answer: dict[str, Any], expected: Any) -> None:
    got = chat_result_from_wire(answer, BUILT_HEADERS).generations[0]
    assert got == expected
    assert type(got.text) is type(expected.text) and got.text == expected.text
    assert got.model_fields_set == expected.model_fields_set
    assert got.message.model_fields_set == expected.message.model_fields_set
    assert got.message.model_dump() == expected.message.model_dump()
    assert got.model_dump(exclude_unset=True) == expected.model_dump(exclude_unset=True)
    assert dumpd(got) == dumpd(expected) and pickle.loads(pickle.dumps(got)) == expected
    assert got.message.model_copy(update={"id": "run-1"}) == expected.message.model_copy(update={"id": "run-1"})


def test_text_answers_share_no_mutable_state() -> None:
    answer = _text_answer({"content": "a"})
    answer["choices"].append({"index": 1, "message": {"content": "b"}, "finish_reason": "stop"})
    first, second = (g.message for g in chat_result_from_wire(answer, BUILT_HEADERS).generations)
    first.additional_kwargs["x"] = 1
    first.response_metadata["y"] = 2
    first.tool_calls.append({"name": "f", "args": {}, "id": "1", "type": "tool_call"})
    first.id = "run-1"  # what langchain-core does to every answer
    assert second.additional_kwargs == {} and "y" not in second.response_metadata
    assert second.tool_calls == [] and second.id is None and "id" not in second.model_fields_set
    again = chat_result_from_wire(_text_answer({"content": "a"}), BUILT_HEADERS).generations[0].message
    assert again.additional_kwargs == {} and again.tool_calls == [] and again.id is None
