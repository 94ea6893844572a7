"""Recorded chat-completions answers from ``../shared/hf-recordings``, as the upstream of responses.js sends them.

responses.js always asks its upstream to stream, so every answer is served as SSE; a recorded non-streamed answer is
re-cut into the chunks of the same message (:func:`as_sse`) — same text, same usage, same model. Both routes under
test get the identical bytes.
"""

from __future__ import annotations

import json
from typing import Any

from tests.replay.recordings import SHARED, TGI_SNAPSHOTS, load_cassette

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
CHATLAS = "chatlas/tests/_vcr/test_provider_huggingface"
SSE = {"content-type": "text/event-stream"}


def chatlas(name: str, index: int) -> bytes:
    """One recorded router answer (chatlas' router /v1 cassettes, 2025-12-31), as SSE."""
    interaction = load_cassette(SHARED / CHATLAS / name)[index]
    if interaction.is_event_stream:
        return interaction.response_body
    return as_sse(interaction.response_json())


def as_sse(completion: dict[str, Any]) -> bytes:
    """A recorded non-streamed chat completion as the stream of the same message: role, content, finish and usage."""
    choice = completion["choices"][0]
    base = {k: completion[k] for k in ("id", "created", "model") if k in completion}
    base["object"] = "chat.completion.chunk"
    message = choice["message"]
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": message.get("content") or ""}}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason")}]},
    ]
    if completion.get("usage"):
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"


def tgi_stream(name: str) -> bytes:
    """TGI's parsed stream chunks of an integration snapshot, as SSE (TGI sends no usage)."""
    chunks = json.loads((SHARED / TGI_SNAPSHOTS / name).read_text())
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"


def unauthorized() -> bytes:
    """The router's recorded 401 body (huggingface_hub's unprocessable-entity cassette, interaction 1)."""
    path = SHARED / "huggingface_hub/tests/cassettes/TestInferenceClient.test_chat_completion_unprocessable_entity.yaml"
    interaction = load_cassette(path)[1]
    assert interaction.status == 401
    return interaction.response_body


def synthetic_reasoning() -> bytes:
    """SYNTHETIC: no recording streams reasoning. reasoning_content deltas, then content, then usage."""
    base = {"id": "chatcmpl-syn", "object": "chat.completion.chunk", "created": 1767213635, "model": MODEL}
    deltas = [
        {"role": "assistant", "reasoning_content": "The user asks 1 + 1."},
        {"reasoning_content": " That is 2."},
        {"content": "2"},
    ]
    chunks: list[dict[str, Any]] = [{**base, "choices": [{"index": 0, "delta": d}]} for d in deltas]
    chunks.append(
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 12, "total_tokens": 32},
        }
    )
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"
