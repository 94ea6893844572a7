"""Small router answers shared by the test files of several modules (a non-streamed chat completion and its
streamed twin), so each file needs no copy of its own."""

from __future__ import annotations

from typing import Any

from tests.loopback import sse

CHAT_ANSWER: dict[str, Any] = {
    "id": "chatcmpl-1",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
CHAT_STREAM = sse({"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]})
