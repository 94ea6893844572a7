"""TGI's own integration snapshots (parsed JSON answers, not HTTP) through the pure wire functions.

``text-generation-inference/integration-tests/models/__snapshots__`` holds what real TGI servers answered: whole
chat completions, lists of streamed chunks, and text-generation / completions answers. The chat ones go through
``chat_result_from_wire`` and ``ChatStreamState``; the others through ``_wire.text_generation``. Each result is
compared with what the snapshot says, parsed independently (``recordings.answer_of_body`` / ``answer_of_events``):
TGI's tool-call dialects (``id`` 0 or "0", arguments an object or a string, name only in the first delta,
finish_reason ``eos_token`` / ``stop`` / absent), content, usage; grammar and JSON-schema answers keep the JSON
document as the content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_hfserverless._wire.responses import chat_result_from_wire
from langchain_hfserverless._wire.stream import ChatStreamState
from langchain_hfserverless._wire.text_generation import TextStreamState, generation_from_wire
from tests.replay.recordings import (
    SHARED,
    TGI_SNAPSHOTS,
    RecordedAnswer,
    answer_of_body,
    answer_of_events,
    recordings_root,
    tgi_snapshot_paths,
)

pytestmark = pytest.mark.replay


def _choices(data: Any) -> list[Any]:
    events = data if isinstance(data, list) else [data]
    return [c for e in events if isinstance(e, dict) for c in e.get("choices") or ()]


def kind_of(data: Any) -> str:
    """What a snapshot holds, read from its shape (TGI 1.4 called chat answers ``text_completion`` too)."""
    if isinstance(data, list) and not data:
        return "empty"
    choices = _choices(data)
    if any("delta" in c for c in choices):
        return "chat-stream"
    if any("message" in c for c in choices):
        return "chat"
    if any("text" in c for c in choices):
        return "completion-stream" if isinstance(data, list) else "completion"
    events = data if isinstance(data, list) else [data]
    if all(isinstance(e, dict) and ("generated_text" in e or "token" in e) for e in events):
        return "generate-stream" if isinstance(data, list) and "token" in data[0] else "generate"
    return "unknown"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _snapshot_id(path: Path) -> str:
    return path.relative_to(recordings_root() / TGI_SNAPSHOTS).as_posix().removesuffix(".json")


def _params(*kinds: str) -> list[Any]:
    return [pytest.param(p, id=_snapshot_id(p)) for p in tgi_snapshot_paths() if kind_of(_load(p)) in kinds]


def _is_structured(path: Path) -> bool:
    """Snapshots of grammar / JSON-schema constrained answers: their content is a JSON document."""
    return any(word in path.parent.name for word in ("grammar", "json_schema"))


# ---------------------------------------------------------------------------------------------- checks


def check_message(message: AIMessage, expected: RecordedAnswer) -> None:
    assert message.content == expected.content
    assert (message.additional_kwargs.get("reasoning_content") or "") == expected.reasoning
    parsed = [c for c in expected.tool_calls if isinstance(c["args"], dict)]
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [(c["name"], c["args"]) for c in parsed]
    for got, want in zip(message.tool_calls, parsed, strict=True):
        assert isinstance(got["id"], str) and got["id"]
        if want["id"] not in (None, ""):
            assert got["id"] == str(want["id"])  # TGI 1.4's integer 0 and TGI 3's "0" both become "0"
    unparsed = [c for c in expected.tool_calls if not isinstance(c["args"], dict)]
    assert [c["name"] for c in message.invalid_tool_calls] == [c["name"] for c in unparsed]
    if expected.usage:
        assert message.usage_metadata is not None
        assert message.usage_metadata["input_tokens"] == expected.usage["prompt_tokens"]
        assert message.usage_metadata["output_tokens"] == expected.usage["completion_tokens"]
        assert message.usage_metadata["total_tokens"] == expected.usage["total_tokens"]
    else:
        assert message.usage_metadata is None
    assert message.response_metadata.get("finish_reason") == expected.finish_reason
    assert message.response_metadata.get("model_name") == expected.model


def stream_through_state(events: list[Any]) -> tuple[AIMessageChunk, list[AIMessageChunk]]:
    """Every event through one ChatStreamState, plus its final chunk; the sum and the chunks."""
    state = ChatStreamState()
    chunks = [c.message for c in map(state.chunk_from_event, events) if c is not None]
    chunks.append(state.final_chunk({}).message)
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total, chunks  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------- chat


@pytest.mark.parametrize("path", _params("chat"))
def test_whole_chat_snapshot(path: Path) -> None:
    data = _load(path)
    result = chat_result_from_wire(data, {})
    message = result.generations[0].message
    assert isinstance(message, AIMessage)
    check_message(message, answer_of_body(data))


@pytest.mark.parametrize("path", _params("chat-stream"))
def test_streamed_chat_snapshot(path: Path) -> None:
    data = _load(path)
    events = data if isinstance(data, list) else [data]  # some snapshots keep only the last chunk
    total, chunks = stream_through_state(events)
    check_message(total, answer_of_events(events))
    # Final figures ride on exactly one chunk, the last: never summed across chunks.
    assert [c.usage_metadata is not None for c in chunks[:-1]] == [False] * (len(chunks) - 1)
    assert all("finish_reason" not in c.response_metadata for c in chunks[:-1])


@pytest.mark.parametrize("path", [p for p in _params("chat", "chat-stream") if _is_structured(p.values[0])])
def test_structured_snapshot_content_is_the_json_document(path: Path) -> None:
    data = _load(path)
    if isinstance(data, list) or "delta" in str(data):
        events = data if isinstance(data, list) else [data]
        content = stream_through_state(events)[0].content
        expected = answer_of_events(events).content
    else:
        message = chat_result_from_wire(data, {}).generations[0].message
        content, expected = message.content, answer_of_body(data).content
    assert isinstance(content, str)
    assert content == expected
    assert json.loads(content) == json.loads(expected)


# ---------------------------------------------------------------------------------------------- hand-built
# TGI 1.4.3 dialects from older snapshots of TGI's own repository (test_tools_llama/test_flash_llama_grammar_tools
# and ..._stream, 1.4.3-native), which ``shared/`` does not hold. Hand-built in their shape, not copied.

TGI_143_WHOLE = {
    "object": "text_completion",
    "id": "",
    "created": 1710795556,
    "model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    "system_fingerprint": "1.4.3-native",
    "choices": [
        {
            "index": 0,
            "finish_reason": "eos_token",
            "logprobs": None,
            "message": {
                "role": "assistant",
                "content": None,
                "name": None,
                "tool_calls": [
                    {
                        "id": 0,
                        "type": "function",
                        # 1.4.3 put the arguments, as an object, under "parameters"
                        "function": {"description": None, "name": "tools", "parameters": {"location": "Paris"}},
                    }
                ],
            },
            "usage": None,
        }
    ],
    "usage": {"prompt_tokens": 316, "completion_tokens": 29, "total_tokens": 345},
}

TGI_143_STREAM_LAST = {
    "object": "text_completion",
    "id": "",
    "created": 1710795499,
    "model": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    "system_fingerprint": "1.4.3-native",
    "choices": [
        {
            "index": 0,
            "finish_reason": "eos_token",
            "logprobs": None,
            # 1.4.3 streamed `tool_calls` as one object, not a list; the end-of-sequence token leaked as text
            "delta": {
                "role": "assistant",
                "content": None,
                "tool_calls": {
                    "id": "",
                    "index": 0,
                    "type": "function",
                    "function": {"name": None, "arguments": "</s>"},
                },
            },
        }
    ],
}


def test_tgi_143_arguments_under_parameters() -> None:
    message = chat_result_from_wire(TGI_143_WHOLE, {}).generations[0].message
    assert isinstance(message, AIMessage)
    check_message(message, answer_of_body(TGI_143_WHOLE))
    assert message.tool_calls[0]["args"] == {"location": "Paris"}
    assert message.tool_calls[0]["id"] == "0"


def test_tgi_143_streamed_tool_call_object() -> None:
    total, _ = stream_through_state([TGI_143_STREAM_LAST])
    check_message(total, answer_of_events([TGI_143_STREAM_LAST]))
    assert [c["args"] for c in total.invalid_tool_calls] == ["</s>"]  # kept, never dropped
    assert total.response_metadata["finish_reason"] == "eos_token"


# ---------------------------------------------------------------------------------------------- text generation


def _first_choice(choices: list[Any]) -> Any:
    return next(c for c in choices if c.get("index", 0) == 0)


@pytest.mark.parametrize("path", _params("generate", "completion"))
def test_whole_text_generation_snapshot(path: Path) -> None:
    """``generated_text`` (+ details) and the completions shape; a batch answers prompt 0 first in our reading."""
    data = _load(path)
    text, info = generation_from_wire(data)
    if isinstance(data, dict) and "generated_text" in data:
        assert text == data["generated_text"]
        assert info.get("finish_reason") == (data.get("details") or {}).get("finish_reason")
    else:
        choice = _first_choice(data["choices"])
        assert text == choice["text"]
        assert info.get("finish_reason") == choice.get("finish_reason")
        assert info.get("usage", {}).get("completion_tokens") == data["usage"]["completion_tokens"]


@pytest.mark.parametrize("path", _params("completion-stream", "generate-stream"))
def test_streamed_text_generation_snapshot(path: Path) -> None:
    events = _load(path)
    state = TextStreamState(None)
    text = "".join(state.text_from_event(e) for e in events) + state.flush()
    zero = [c for c in _choices(events) if c.get("index", 0) == 0]
    assert text == "".join(c.get("text") or "" for c in zero)
    finish = [c["finish_reason"] for c in zero if c.get("finish_reason")]
    assert state.final_info().get("finish_reason") == (finish[-1] if finish else None)


# ---------------------------------------------------------------------------------------------- coverage


def test_every_snapshot_is_read() -> None:
    """No snapshot falls through the classification unread (only empty lists are left out, having no answer)."""
    kinds = {_snapshot_id(p): kind_of(_load(p)) for p in tgi_snapshot_paths()}
    assert [name for name, kind in kinds.items() if kind == "unknown"] == []
    if recordings_root() == SHARED:  # another folder (HFSERVERLESS_RECORDINGS) may hold no snapshots at all
        assert any(kind == "chat-stream" for kind in kinds.values()), "no streamed TGI chat snapshot found"
