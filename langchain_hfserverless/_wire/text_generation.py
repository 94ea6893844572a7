"""Text generation (``{"inputs", "parameters", "stream"}``) answers and streams -> text and generation info.

Pure: dicts in, strings and dicts out. Reads TGI / hf-inference answers (``[{"generated_text", "details"}]`` or a
bare object), TGI stream events (``{"index", "token", "generated_text", "details"}``) and the OpenAI completions
shape some providers map text-generation to (``{"choices": [{"text"}], "usage"}``, read by ``completions``).
Stop sequences are cut client-side too, because TGI leaves the stop string in the text it returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_hfserverless._wire.completions import completion_delta, info_of, merge_logprobs, with_logprobs_and_usage

PARAMETER_FIELDS = (
    "max_new_tokens",
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "seed",
    "return_full_text",
    "do_sample",
    "watermark",
    "details",
    "grammar",
)
"""Model fields that are text-generation ``parameters`` keys, sent only when set."""

# Text-generation parameters and their chat-completions equivalent (for fallback_to_chat).
_CHAT_EQUIVALENT = {
    "max_new_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
}
# Not OpenAI keys, but the chat servers of the router (TGI, vLLM, most providers) read them as body keys.
_CHAT_PASSTHROUGH = frozenset({"top_k", "repetition_penalty"})

_CHAT_ONLY_MARKERS = (
    "not supported for task",
    "doesn't support task",
    "does not support task",
    "not supported for provider",
    "non-conversational",
)


_SUPPORTED_TASK = re.compile(r"supported tasks?:\s*'?([a-z0-9-]+)")
_CHAT_TASKS = frozenset({"conversational", "image-text-to-text"})


class UnreadableAnswer(ValueError):
    """The answer has none of the text-generation shapes this module knows."""


def stop_list(stop: str | Iterable[str] | None) -> list[str] | None:
    """``"x"`` -> ``["x"]``; a list stays a list (an explicit empty list too); ``None`` stays ``None``."""
    if stop is None:
        return None
    if isinstance(stop, str):
        return [stop]
    return [str(s) for s in stop]


def trim_at_stop(text: str, stops: Iterable[str] | None) -> tuple[str, bool]:
    """Cut ``text`` at the earliest stop sequence; returns the text and whether one was found."""
    cut = -1
    for stop in stops or ():
        if stop:
            at = text.find(stop)
            if at >= 0 and (cut < 0 or at < cut):
                cut = at
    return (text[:cut], True) if cut >= 0 else (text, False)


class StopTrimmer:
    """Cuts a stream at the first stop sequence, holding back text that may be the start of one."""

    __slots__ = ("_buffer", "_longest", "_stops", "stopped")

    def __init__(self, stops: Iterable[str] | None) -> None:
        self._stops = [s for s in stops or () if s]
        self._longest = max((len(s) for s in self._stops), default=0)
        self._buffer = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Text safe to emit now; empty once a stop sequence was seen."""
        if self.stopped:
            return ""
        if not self._stops:
            return text
        buffer = self._buffer + text
        kept, hit = trim_at_stop(buffer, self._stops)
        if hit:
            self._buffer, self.stopped = "", True
            return kept
        hold = 0
        for size in range(min(len(buffer), self._longest - 1), 0, -1):
            tail = buffer[-size:]
            if any(stop.startswith(tail) for stop in self._stops):
                hold = size
                break
        self._buffer = buffer[len(buffer) - hold :] if hold else ""
        return buffer[: len(buffer) - hold]

    def flush(self) -> str:
        """At end of stream: the held-back text (it never became a stop sequence)."""
        out, self._buffer = ("" if self.stopped else self._buffer), ""
        return out


def _details_info(details: Mapping[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {"details": dict(details)}
    for key in ("finish_reason", "generated_tokens", "seed"):
        if details.get(key) is not None:
            info[key] = details[key]
    return info


def generation_from_wire(data: Any) -> tuple[str, dict[str, Any]]:
    """A whole answer -> ``(generated_text, generation_info)``.

    Raises:
        UnreadableAnswer: the answer is not a text-generation answer.
    """
    if isinstance(data, list):
        if not data:
            raise UnreadableAnswer("empty list")
        data = data[0]
    if not isinstance(data, Mapping):
        raise UnreadableAnswer(f"{type(data).__name__} instead of an object")
    if isinstance(data.get("generated_text"), str):
        details = data.get("details")
        info: dict[str, Any] = _details_info(details) if isinstance(details, Mapping) else {}
        return data["generated_text"], info
    delta = completion_delta(data)
    if delta is not None and (data.get("choices") or "content" in data):
        return delta.text, info_of(delta)
    raise UnreadableAnswer(f"no generated_text or choices[0].text in keys {sorted(data)[:10]}")


class TextStreamState:
    """One per stream: turns events into text (after stop trimming) and keeps what the final chunk reports."""

    def __init__(self, stops: Iterable[str] | None) -> None:
        self._trimmer = StopTrimmer(stops)
        self.tokens: list[dict[str, Any]] = []
        self.details: dict[str, Any] | None = None
        self.generated_text: str | None = None
        self.finish_reason: str | None = None
        self.usage: dict[str, int] | None = None
        self.logprobs: Any = None

    @property
    def stopped(self) -> bool:
        """A stop sequence went by: the caller can stop reading."""
        return self._trimmer.stopped

    def text_from_event(self, event: Mapping[str, Any]) -> str:
        """One event -> the text to emit now (may be empty)."""
        text = ""
        token = event.get("token")
        if isinstance(token, Mapping):
            self.tokens.append(dict(token))
            if not token.get("special") and isinstance(token.get("text"), str):
                text = token["text"]
            if isinstance(event.get("generated_text"), str):
                self.generated_text = event["generated_text"]
            details = event.get("details")
            if isinstance(details, Mapping):
                self.details = dict(details)
                self.finish_reason = details.get("finish_reason") or self.finish_reason
        else:
            delta = completion_delta(event)
            if delta is not None:
                text = delta.text
                self.finish_reason = delta.finish_reason or self.finish_reason
                self.usage = delta.usage or self.usage
                self.logprobs = merge_logprobs(self.logprobs, delta.logprobs)
        return self._trimmer.feed(text)

    def flush(self) -> str:
        return self._trimmer.flush()

    def final_info(self) -> dict[str, Any]:
        """``generation_info`` of the last chunk: finish_reason, token details, usage."""
        info: dict[str, Any] = _details_info(self.details) if self.details else {}
        finish = self.finish_reason
        if self._trimmer.stopped and finish in (None, "length", "eos_token"):
            finish = "stop_sequence"
        info["finish_reason"] = finish
        if self.tokens:
            info["tokens"] = self.tokens
        return with_logprobs_and_usage(info, self.logprobs, self.usage)


def is_chat_only_message(message: str) -> bool:
    """Does this error say the model is served for chat (conversational) but not for text-generation?

    A message naming the task the model does support (``Supported task: feature-extraction``) is not chat-only.
    """
    lowered = message.lower()
    supported = _SUPPORTED_TASK.search(lowered)
    if supported and supported.group(1) not in _CHAT_TASKS:
        return False
    about_textgen = "text-generation" in lowered or "text_generation" in lowered or "non-conversational" in lowered
    return about_textgen and any(marker in lowered for marker in _CHAT_ONLY_MARKERS)


def chat_fallback_params(parameters: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Text-generation parameters -> chat-completions body keys, and the names that have no chat equivalent.

    ``return_full_text`` and ``stop`` are left out of both: the caller honours them itself.
    """
    body: dict[str, Any] = {}
    unmapped: list[str] = []
    for key, value in parameters.items():
        if key in ("return_full_text", "stop"):
            continue
        if key in _CHAT_EQUIVALENT:
            body[_CHAT_EQUIVALENT[key]] = value
        elif key in _CHAT_PASSTHROUGH:
            body[key] = value
        elif key == "do_sample" and value is True:
            continue  # chat completions sample by default
        else:
            unmapped.append(key)
    return body, unmapped
