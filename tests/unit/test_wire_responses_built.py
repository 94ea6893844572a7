"""Whole answers of text are built without pydantic validation (``_wire/responses.py``): what the user gets must
not differ in any way from what validation builds."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from langchain_core.load import dumpd
from langchain_core.messages import AIMessage
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.outputs import ChatGeneration

from langchain_hfserverless._wire.responses import chat_result_from_wire

HEADERS = {"x-inference-provider": "together", "x-request-id": "req-1"}
USAGE = {
    "prompt_tokens": 5,
    "completion_tokens": 7,
    "total_tokens": 12,
    "prompt_tokens_details": {"cached_tokens": 2},
    "completion_tokens_details": {"reasoning_tokens": 3},
}
META = {
    "model_provider": "huggingface",
    "model_name": "m",
    "id": "c-1",
    "created": 1,
    "inference_provider": "together",
    "request_id": "req-1",
}


def _answer(message: dict[str, Any], finish: str | None = "stop", usage: Any = USAGE, **choice: Any) -> dict[str, Any]:
    return {
        "id": "c-1",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, **choice}],
        "usage": usage,
    }


def _validated(content: str, additional: dict[str, Any], meta: dict[str, Any], usage: Any, finish: Any) -> Any:
    message = AIMessage(content=content, additional_kwargs=additional, tool_calls=[], invalid_tool_calls=[])
    message.response_metadata = meta
    message.usage_metadata = usage
    return ChatGeneration(message=message, generation_info={"finish_reason": finish})


FULL_USAGE = UsageMetadata(
    input_tokens=5,
    output_tokens=7,
    total_tokens=12,
    input_token_details=InputTokenDetails(cache_read=2),
    output_token_details=OutputTokenDetails(reasoning=3),
)
CASES = [
    (_answer({"content": "Hello"}), _validated("Hello", {}, {**META, "finish_reason": "stop"}, FULL_USAGE, "stop")),
    (
        _answer({"content": None, "reasoning_content": "hmm"}, finish=None, usage=None),
        _validated("", {"reasoning_content": "hmm"}, {**META, "finish_reason": None}, None, None),
    ),
    (
        _answer({"content": "<think>a</think>b", "refusal": "no"}, finish="length", logprobs={"content": []}),
        _validated(
            "b",
            {"reasoning_content": "a", "refusal": "no"},
            {**META, "finish_reason": "length", "logprobs": {"content": []}},
            FULL_USAGE,
            "length",
        ),
    ),
]


@pytest.mark.parametrize(("answer", "expected"), CASES, ids=["text", "reasoning-only", "think-refusal-logprobs"])
def test_text_answers_are_the_generations_validation_builds(answer: dict[str, Any], expected: Any) -> None:
    got = chat_result_from_wire(answer, HEADERS).generations[0]
    assert got == expected
    assert type(got.text) is type(expected.text) and got.text == expected.text
    assert got.model_fields_set == expected.model_fields_set
    assert got.message.model_fields_set == expected.message.model_fields_set
    assert got.message.model_dump() == expected.message.model_dump()
    assert got.model_dump(exclude_unset=True) == expected.model_dump(exclude_unset=True)
    assert dumpd(got) == dumpd(expected) and pickle.loads(pickle.dumps(got)) == expected
    assert got.message.model_copy(update={"id": "run-1"}) == expected.message.model_copy(update={"id": "run-1"})


def test_text_answers_share_no_mutable_state() -> None:
    answer = _answer({"content": "a"})
    answer["choices"].append({"index": 1, "message": {"content": "b"}, "finish_reason": "stop"})
    first, second = (g.message for g in chat_result_from_wire(answer, HEADERS).generations)
    first.additional_kwargs["x"] = 1
    first.response_metadata["y"] = 2
    first.tool_calls.append({"name": "f", "args": {}, "id": "1", "type": "tool_call"})
    first.id = "run-1"  # what langchain-core does to every answer
    assert second.additional_kwargs == {} and "y" not in second.response_metadata
    assert second.tool_calls == [] and second.id is None and "id" not in second.model_fields_set
    again = chat_result_from_wire(_answer({"content": "a"}), HEADERS).generations[0].message
    assert again.additional_kwargs == {} and again.tool_calls == [] and again.id is None
