"""A whole chat-completions answer -> LangChain ``ChatResult``; usage and metadata shared with streaming."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_hfserverless._wire.headers import header
from langchain_hfserverless._wire.prebuilt import builds_alike, built
from langchain_hfserverless._wire.reasoning import split_think
from langchain_hfserverless._wire.tools import tool_calls_from_wire

MODEL_PROVIDER = "huggingface"


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def usage_from_wire(usage: Any) -> UsageMetadata | None:
    """OpenAI/TGI ``usage`` -> ``UsageMetadata`` (cached and reasoning token details when given)."""
    if not isinstance(usage, Mapping) or not usage:
        return None
    inp = _int(usage.get("prompt_tokens", usage.get("input_tokens")))
    out = _int(usage.get("completion_tokens", usage.get("output_tokens")))
    total = _int(usage.get("total_tokens")) or inp + out
    result = UsageMetadata(input_tokens=inp, output_tokens=out, total_tokens=total)
    prompt_details = usage.get("prompt_tokens_details") or {}
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, Mapping) else None
    if cached is None:
        cached = usage.get("cached_tokens")  # Together: beside prompt_tokens, not in prompt_tokens_details
    if cached is not None:
        result["input_token_details"] = InputTokenDetails(cache_read=_int(cached))
    completion_details = usage.get("completion_tokens_details") or {}
    if isinstance(completion_details, Mapping) and completion_details.get("reasoning_tokens") is not None:
        result["output_token_details"] = OutputTokenDetails(reasoning=_int(completion_details["reasoning_tokens"]))
    return result


def response_metadata(data: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """Everything about the answer that is not the message: ids, the serving provider, the real model name."""
    meta: dict[str, Any] = {"model_provider": MODEL_PROVIDER}
    if data.get("model"):
        meta["model_name"] = data["model"]
    if data.get("id"):
        meta["id"] = data["id"]
    if data.get("system_fingerprint"):
        meta["system_fingerprint"] = data["system_fingerprint"]
    if data.get("created"):
        meta["created"] = data["created"]
    provider = header(headers, "x-inference-provider")
    if provider:
        meta["inference_provider"] = provider
    request_id = header(headers, "x-request-id")
    if request_id:
        meta["request_id"] = request_id
    return meta


def reasoning_of(message: Mapping[str, Any]) -> str | None:
    """``reasoning_content`` (DeepSeek, vLLM) or ``reasoning`` (OpenRouter-style, some providers)."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _message_parts(message: Mapping[str, Any]) -> tuple[Any, dict[str, Any], list[Any], list[Any]]:
    """One ``choices[i].message`` -> content, additional_kwargs, tool calls and invalid tool calls."""
    if not isinstance(message, Mapping):
        raise ValueError(f"choice message is not a JSON object: {str(message)[:300]}")
    content = message.get("content")
    if content is None:
        content = ""
    reasoning = reasoning_of(message)
    if isinstance(content, str):
        content, inline = split_think(content)
        if inline is not None:
            reasoning = f"{reasoning}\n{inline}" if reasoning else inline
    additional: dict[str, Any] = {}
    if reasoning is not None:
        additional["reasoning_content"] = reasoning
    if message.get("refusal"):
        additional["refusal"] = message["refusal"]
    calls, invalid = tool_calls_from_wire(message.get("tool_calls"))
    return content, additional, calls, invalid


def message_from_wire(message: Mapping[str, Any]) -> AIMessage:
    """One ``choices[i].message`` -> AIMessage, reasoning moved out of the answer."""
    content, additional, calls, invalid = _message_parts(message)
    return AIMessage(content=content, additional_kwargs=additional, tool_calls=calls, invalid_tool_calls=invalid)


# An answer of text without tool calls skips validation when it changes nothing: see ``_wire/prebuilt.py``.


def _validated_generation(
    content: Any,
    additional: dict[str, Any],
    calls: list[Any],
    invalid: list[Any],
    meta: dict[str, Any],
    usage: UsageMetadata | None,
    finish_reason: Any,
) -> ChatGeneration:
    message = AIMessage(content=content, additional_kwargs=additional, tool_calls=calls, invalid_tool_calls=invalid)
    message.response_metadata = meta
    message.usage_metadata = usage
    return ChatGeneration(message=message, generation_info={"finish_reason": finish_reason})


def _built_generation(
    content: Any,
    additional: dict[str, Any],
    calls: list[Any],
    invalid: list[Any],
    meta: dict[str, Any],
    usage: UsageMetadata | None,
    finish_reason: Any,
) -> ChatGeneration:
    if calls or invalid or type(content) is not str:
        return _validated_generation(content, additional, calls, invalid, meta, usage, finish_reason)
    message = built(
        AIMessage,
        {
            "content": content,
            "additional_kwargs": additional,
            "response_metadata": meta,
            "type": "ai",
            "name": None,
            "id": None,
            "tool_calls": [],
            "invalid_tool_calls": [],
            "usage_metadata": usage,
        },
        {"content", "additional_kwargs", "tool_calls", "invalid_tool_calls", "response_metadata", "usage_metadata"},
        {},
    )
    values = {
        "text": message.text,
        "generation_info": {"finish_reason": finish_reason},
        "type": "ChatGeneration",
        "message": message,
    }
    return built(ChatGeneration, values, {"message", "generation_info", "text"}, None)


def _generation_samples() -> list[tuple[ChatGeneration, ChatGeneration]]:
    usage = UsageMetadata(
        input_tokens=1,
        output_tokens=2,
        total_tokens=3,
        input_token_details=InputTokenDetails(cache_read=1),
        output_token_details=OutputTokenDetails(reasoning=1),
    )
    samples: list[tuple[str, dict[str, Any], dict[str, Any], UsageMetadata | None]] = [
        ("a", {}, {"model_provider": MODEL_PROVIDER, "finish_reason": "stop"}, None),
        ("", {"reasoning_content": "r", "refusal": "no"}, {"model_provider": MODEL_PROVIDER}, usage),
        ("a b", {"reasoning_content": "r"}, {"finish_reason": "length", "logprobs": {"content": []}}, usage),
    ]
    pairs = []
    for content, additional, meta, usage_sample in samples:
        finish = meta.get("finish_reason")
        pairs.append(
            (
                _built_generation(content, dict(additional), [], [], dict(meta), usage_sample, finish),
                _validated_generation(content, dict(additional), [], [], dict(meta), usage_sample, finish),
            )
        )
    return pairs


_generation = (
    _built_generation if builds_alike((AIMessage, ChatGeneration), _generation_samples) else _validated_generation
)


def chat_result_from_wire(data: Mapping[str, Any], headers: Mapping[str, str]) -> ChatResult:
    """A non-streamed chat-completions body -> ChatResult (one generation per choice); ValueError if unreadable."""
    if not isinstance(data, Mapping):
        raise ValueError(f"answer is not a JSON object: {str(data)[:300]}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError(f"answer has no choices: {str(data)[:300]}")
    meta = response_metadata(data, headers)
    usage = usage_from_wire(data.get("usage"))
    generations = []
    for choice in choices:
        if not isinstance(choice, Mapping):
            raise ValueError(f"answer choice is not a JSON object: {str(choice)[:300]}")
        content, additional, calls, invalid = _message_parts(choice.get("message") or {})
        choice_meta = dict(meta)
        choice_meta["finish_reason"] = choice.get("finish_reason")
        if choice.get("logprobs") is not None:
            choice_meta["logprobs"] = choice["logprobs"]
        generations.append(
            _generation(content, additional, calls, invalid, choice_meta, usage, choice.get("finish_reason"))
        )
    llm_output = {"model_name": meta.get("model_name"), "token_usage": data.get("usage")}
    return ChatResult(generations=generations, llm_output=llm_output)
