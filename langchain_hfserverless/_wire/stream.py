"""Streamed chat-completions chunks -> LangChain message chunks, for every streaming dialect of the router.

One :class:`ChatStreamState` per stream. Content, reasoning and tool-call fragments flow out as they come; the
final figures (finish_reason, usage, model name, serving provider) ride on exactly one last chunk, because
providers send usage once, on every chunk cumulatively, or never — the last figure seen is the answer, never a sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from langchain_core.messages import AIMessageChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_hfserverless._wire.prebuilt import builds_alike, built
from langchain_hfserverless._wire.reasoning import ThinkSplitter
from langchain_hfserverless._wire.responses import reasoning_of, response_metadata, usage_from_wire
from langchain_hfserverless._wire.tools import raw_arguments
from langchain_hfserverless.errors import HFServerlessAPIError

_SUMMARY_KEYS = ("id", "model", "system_fingerprint", "created")


# Text and reasoning chunks skip validation when it changes nothing: see ``_wire/prebuilt.py``.


def _validated_chunk(content: str, reasoning: str = "") -> ChatGenerationChunk:
    fields: dict[str, Any] = {"additional_kwargs": {"reasoning_content": reasoning}} if reasoning else {}
    return ChatGenerationChunk(message=AIMessageChunk(content=content, **fields))


def _built_chunk(content: str, reasoning: str = "") -> ChatGenerationChunk:
    message = built(
        AIMessageChunk,
        {
            "content": content,
            "additional_kwargs": {"reasoning_content": reasoning} if reasoning else {},
            "response_metadata": {},  # fresh dicts and lists: chunks share no mutable state
            "type": "AIMessageChunk",
            "name": None,
            "id": None,
            "tool_calls": [],
            "invalid_tool_calls": [],
            "usage_metadata": None,
            "tool_call_chunks": [],
            "chunk_position": None,
        },
        {"content", "additional_kwargs"} if reasoning else {"content"},
        {},
    )
    values = {"text": message.text, "generation_info": None, "type": "ChatGenerationChunk", "message": message}
    return built(ChatGenerationChunk, values, {"message", "text"}, None)


def _chunk_samples() -> list[tuple[ChatGenerationChunk, ChatGenerationChunk]]:
    cases = (("a", ""), ("", "b"), ("a", "b"))
    return [(_built_chunk(content, reasoning), _validated_chunk(content, reasoning)) for content, reasoning in cases]


text_chunk = _built_chunk if builds_alike((AIMessageChunk, ChatGenerationChunk), _chunk_samples) else _validated_chunk
"""A chunk of answer text and/or reasoning: ``text_chunk(content, reasoning="")``."""


class ChatStreamState:
    """Accumulates what must be said once per stream, and turns each event into at most one chunk."""

    __slots__ = (
        "_feed",
        "_index_map",
        "_missing",
        "_splitter",
        "_tool_ids",
        "_tool_names",
        "finish_reason",
        "logprobs",
        "summary",
        "usage",
    )

    def __init__(self) -> None:
        self.usage: UsageMetadata | None = None
        self.finish_reason: str | None = None
        self.summary: dict[str, Any] = {}
        self.logprobs: list[Any] = []
        self._splitter = ThinkSplitter()
        self._feed = self._splitter.feed
        self._missing: tuple[str, ...] = _SUMMARY_KEYS
        self._tool_ids: dict[int, str] = {}
        self._tool_names: dict[int, str] = {}
        self._index_map: dict[int, int] = {}

    def _tool_chunks(self, raw_calls: list[Any]) -> list[Any]:
        chunks = []
        for position, raw in enumerate(raw_calls):
            raw_index = raw.get("index", position)
            function = raw.get("function") or {}
            raw_id = raw.get("id")
            call_id = None if raw_id is None or raw_id == "" else str(raw_id)
            name = function.get("name") or None
            known_id = self._tool_ids.get(self._index_map.get(raw_index, raw_index), call_id)
            if call_id is not None and known_id != call_id:
                # A new id at an index already in use (SGLang streams parallel calls all at index 0): a new call.
                self._index_map[raw_index] = max(self._tool_ids) + 1
            index = self._index_map.get(raw_index, raw_index)
            # TGI repeats id/name on later deltas; LangChain concatenates repeated strings, so say them once.
            if call_id is not None:
                if index in self._tool_ids:
                    call_id = None
                else:
                    self._tool_ids[index] = call_id
            if name is not None:
                if index in self._tool_names:
                    name = None
                else:
                    self._tool_names[index] = name
            arguments = raw_arguments(function)
            if arguments is not None and not isinstance(arguments, str):
                arguments = orjson.dumps(arguments).decode()
            chunks.append(tool_call_chunk(name=name, args=arguments, id=call_id, index=index))
        return chunks

    def chunk_from_event(self, event: Mapping[str, Any]) -> ChatGenerationChunk | None:
        """One streamed event -> a content/reasoning/tool-call chunk, or ``None`` if it carries none.

        Raises:
            HFServerlessAPIError: the event is not a chat-completions chunk this package can read.
        """
        # Runs once per streamed token: lookups are hoisted and the common content-only delta costs a few dict gets.
        try:
            if self._missing:
                self._remember_summary(event)
            usage = event.get("usage")
            if not usage and "x_groq" in event and isinstance(event["x_groq"], Mapping):
                usage = event["x_groq"].get("usage")  # Groq: the last chunk's x_groq.usage, no top-level usage
            if usage:
                self.usage = usage_from_wire(usage)  # cumulative on some providers: keep the latest, never add
            choices = event.get("choices")
            if not choices:
                return None
            content = reasoning = ""
            tool_chunks: list[Any] | None = None
            for choice in choices:
                if choice.get("index", 0) != 0:
                    continue
                finish = choice.get("finish_reason")
                if finish:
                    self.finish_reason = finish
                logprobs = choice.get("logprobs")
                if logprobs and isinstance(logprobs, Mapping) and logprobs.get("content"):
                    self.logprobs.extend(logprobs["content"])
                delta = choice.get("delta") or choice.get("message") or {}
                text = delta.get("content")
                if text and isinstance(text, str):
                    answer, thought = self._feed(text)
                    content += answer
                    reasoning += thought
                if "reasoning_content" in delta or "reasoning" in delta:
                    reasoning += reasoning_of(delta) or ""
                calls = delta.get("tool_calls")
                if calls:
                    if isinstance(calls, Mapping):  # TGI 1.4 streamed one tool-call object, not a list of them
                        calls = [calls]
                    if tool_chunks is None:
                        tool_chunks = self._tool_chunks(calls)
                    else:
                        tool_chunks.extend(self._tool_chunks(calls))
        except (AttributeError, TypeError, KeyError, ValueError) as exc:  # a shape no dialect sends
            raise HFServerlessAPIError(
                f"Unreadable stream event ({type(exc).__name__}: {exc}): {str(event)[:200]}"
            ) from None
        if tool_chunks:
            # Tool-call chunks go through validation: it parses their arguments into tool_calls.
            fields: dict[str, Any] = {"tool_call_chunks": tool_chunks}
            if reasoning:
                fields["additional_kwargs"] = {"reasoning_content": reasoning}
            return ChatGenerationChunk(message=AIMessageChunk(content=content, **fields))
        if content or reasoning:
            return text_chunk(content, reasoning)
        return None

    def _remember_summary(self, event: Mapping[str, Any]) -> None:
        # The first value wins; later chunks repeat it. A key a provider never sends costs one lookup per chunk.
        summary = self.summary
        found = False
        for key in self._missing:
            value = event.get(key)
            if value:
                summary[key] = value
                found = True
        if found:
            self._missing = tuple(key for key in self._missing if key not in summary)

    def final_chunk(self, headers: Mapping[str, str]) -> ChatGenerationChunk:
        """The one last chunk: text still held back, finish_reason, usage and response metadata."""
        answer, thought = self._splitter.flush()
        meta = response_metadata(self.summary, headers)
        meta["finish_reason"] = self.finish_reason
        if self.logprobs:
            meta["logprobs"] = {"content": self.logprobs}
        additional = {"reasoning_content": thought} if thought else {}
        message = AIMessageChunk(
            content=answer,
            additional_kwargs=additional,
            usage_metadata=self.usage,
            response_metadata=meta,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message, generation_info={"finish_reason": self.finish_reason})
