"""LangChain messages -> chat-completions message dicts (OpenAI form, which the router and TGI both read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    is_data_content_block,
)
from langchain_core.messages.block_translators.openai import convert_to_openai_data_block

# Blocks that describe tool calls or our own reasoning: they travel as `tool_calls`, or not at all.
_AI_SKIPPED_BLOCKS = frozenset({"tool_use", "tool_call", "tool_call_chunk", "reasoning", "thinking"})


def _json_args(args: Any) -> str:
    return args if isinstance(args, str) else orjson.dumps(args).decode()


def _content_part(part: Any) -> Any:
    """One content part in OpenAI form: strings become text parts, LangChain data blocks image_url/file parts."""
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if not isinstance(part, dict):
        raise TypeError(f"Unsupported content part {type(part).__name__}: use a str or a dict content block.")
    if is_data_content_block(part):
        if ("base64" in part or part.get("source_type") == "base64") and not part.get("mime_type"):
            raise ValueError(
                f"A base64 {part.get('type')!r} content block needs a mime_type (e.g. 'image/png', "
                "'audio/wav', 'application/pdf'): add it to the block."
            )
        return convert_to_openai_data_block(part)
    if part.get("type") == "text" and set(part) - {"type", "text"}:
        # LangChain v1 text blocks carry "id"/"annotations"; providers reject unknown keys.
        return {"type": "text", "text": part["text"]}
    return part


def to_wire_content(content: str | list[Any]) -> str | list[Any]:
    """Content as the user shaped it: a string stays a string, a list becomes OpenAI content parts."""
    if isinstance(content, str):
        return content
    return [_content_part(part) for part in content]


def _text_only(content: str | list[Any]) -> str | list[Any]:
    """Tool turns: a list of text parts becomes one string, which every chat template reads."""
    if isinstance(content, str):
        return content
    parts = [_content_part(p) for p in content]
    if all(isinstance(p, dict) and p.get("type") == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def tool_call_to_wire(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": call.get("id"),
        "type": "function",
        "function": {"name": call["name"], "arguments": _json_args(call.get("args", {}))},
    }


def _ai_to_wire(message: AIMessage) -> dict[str, Any]:
    content: Any = message.content
    if isinstance(content, list):
        # Keep the shape the turn had (real clients replay assistant turns as text parts, and the router takes
        # them); only blocks that travel as `tool_calls`, or not at all, leave. Nothing left -> "".
        parts = [p for p in content if not (isinstance(p, dict) and p.get("type") in _AI_SKIPPED_BLOCKS)]
        content = to_wire_content(parts) if parts else ""
    wire: dict[str, Any] = {"role": "assistant", "content": content}
    calls = [tool_call_to_wire(dict(c)) for c in message.tool_calls]
    calls += [
        {"id": c.get("id"), "type": "function", "function": {"name": c.get("name"), "arguments": c.get("args") or ""}}
        for c in message.invalid_tool_calls
    ]
    if not calls and (raw := message.additional_kwargs.get("tool_calls")):
        calls = list(raw)
    if calls:
        wire["tool_calls"] = calls
        if not content:
            wire["content"] = None
    return wire


def message_to_wire(message: BaseMessage) -> dict[str, Any]:
    """One LangChain message as a chat-completions message dict."""
    wire: dict[str, Any]
    if isinstance(message, SystemMessage):
        wire = {"role": "system", "content": to_wire_content(message.content)}
    elif isinstance(message, HumanMessage):
        wire = {"role": "user", "content": to_wire_content(message.content)}
    elif isinstance(message, AIMessage):
        wire = _ai_to_wire(message)
    elif isinstance(message, ToolMessage):
        wire = {"role": "tool", "content": _text_only(message.content), "tool_call_id": message.tool_call_id}
    elif isinstance(message, ChatMessage):
        wire = {"role": message.role, "content": to_wire_content(message.content)}
    else:
        raise TypeError(
            f"Unsupported message type {type(message).__name__}: use System, Human, AI, Tool or ChatMessage."
        )
    if message.name:
        wire["name"] = message.name
    return wire


def to_wire_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The ``messages`` array of a chat-completions request."""
    return [message_to_wire(m) for m in messages]
