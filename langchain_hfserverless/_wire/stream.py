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

from langchain_hfserverless._wire.reasoning import ThinkSplitter
from langchain_hfserverless._wire.responses import reasoning_of, response_metadata, usage_from_wire
from langchain_hfserverless._wire.tools import raw_arguments
from langchain_hfserverless.errors import HFServerlessAPIError


class ChatStreamState:
    """Accumulates what must be said once per stream, and turns each event into at most one chunk."""

    def __init__(self) -> None:
        self.usage: UsageMetadata | None = None
        self.finish_reason: str | None = None
        self.summary: dict[str, Any] = {}
        self.logprobs: list[Any] = []
        self._splitter = ThinkSplitter()
        self._tool_ids: dict[int, str] = {}
        self._tool_names: dict[int, str] = {}
        self._index_map: dict[int, int] = {}

    def _remember(self, event: Mapping[str, Any]) -> None:
        summary = self.summary
        for key in ("id", "model", "system_fingerprint", "created"):
            if key not in summary:  # the first value wins; later chunks repeat it
                value = event.get(key)
                if value:
                    summary[key] = value
        usage = event.get("usage")
        if not usage and isinstance(event.get("x_groq"), Mapping):
            usage = event["x_groq"].get("usage")  # Groq: the last chunk's x_groq.usage, no top-level usage
        if usage:
            self.usage = usage_from_wire(usage)  # cumulative on some providers: keep the latest, never add

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
        try:
            return self._read_event(event)
        except (AttributeError, TypeError, KeyError, ValueError) as exc:  # a shape no dialect sends
            raise HFServerlessAPIError(
                f"Unreadable stream event ({type(exc).__name__}: {exc}): {str(event)[:200]}"
            ) from None

    def _read_event(self, event: Mapping[str, Any]) -> ChatGenerationChunk | None:
        self._remember(event)
        choices = event.get("choices") or ()
        content = ""
        reasoning = ""
        tool_chunks: list[Any] = []
        for choice in choices:
            if choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            logprobs = choice.get("logprobs")
            if logprobs and isinstance(logprobs, Mapping) and logprobs.get("content"):  # ABC checks cost per chunk
                self.logprobs.extend(logprobs["content"])
            delta = choice.get("delta") or choice.get("message") or {}
            text = delta.get("content")
            if isinstance(text, str) and text:
                answer, thought = self._splitter.feed(text)
                content += answer
                reasoning += thought
            if "reasoning_content" in delta or "reasoning" in delta:
                field_reasoning = reasoning_of(delta)
                if field_reasoning:
                    reasoning += field_reasoning
            calls = delta.get("tool_calls")
            if calls:
                if isinstance(calls, Mapping):  # TGI 1.4 streamed one tool-call object, not a list of them
                    calls = [calls]
                tool_chunks.extend(self._tool_chunks(calls))
        return self._chunk(content, reasoning, tool_chunks)

    @staticmethod
    def _chunk(content: str, reasoning: str, tool_chunks: list[Any]) -> ChatGenerationChunk | None:
        if not (content or reasoning or tool_chunks):
            return None
        # Pass only what is there: empty kwargs/tool_call_chunks cost pydantic validation on every text chunk.
        fields: dict[str, Any] = {}
        if reasoning:
            fields["additional_kwargs"] = {"reasoning_content": reasoning}
        if tool_chunks:
            fields["tool_call_chunks"] = tool_chunks
        return ChatGenerationChunk(message=AIMessageChunk(content=content, **fields))

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
