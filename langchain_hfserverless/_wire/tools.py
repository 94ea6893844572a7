"""Tools and tool_choice to the wire, and tool calls back from every dialect (OpenAI, TGI 1.4, TGI 3.x)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from langchain_core.messages import InvalidToolCall, ToolCall
from langchain_core.messages.tool import invalid_tool_call, tool_call
from langchain_core.utils.function_calling import convert_to_openai_tool

_CHOICE_WORDS = {"auto": "auto", "none": "none", "required": "required", "any": "required"}


def tools_to_wire(tools: Sequence[Any], *, strict: bool | None = None) -> list[dict[str, Any]]:
    """BaseTool, functions, Pydantic models, TypedDicts and OpenAI dicts -> OpenAI ``tools`` entries."""
    return [convert_to_openai_tool(t, strict=strict) for t in tools]


def tool_choice_to_wire(choice: Any, tool_names: Sequence[str]) -> Any:
    """``"auto" | "none" | "required"``, ``"any"`` -> required, ``True`` -> the only tool, a name -> named form."""
    if choice is None or isinstance(choice, dict):
        return choice
    if choice is True:
        if len(tool_names) != 1:
            raise ValueError(
                f"tool_choice=True needs exactly one tool, got {len(tool_names)}: name the tool, or use 'required'."
            )
        choice = tool_names[0]
    if choice is False:
        return "none"
    if isinstance(choice, str):
        if choice in _CHOICE_WORDS:
            return _CHOICE_WORDS[choice]
        if tool_names and choice not in tool_names:
            raise ValueError(f"tool_choice {choice!r} is not one of the bound tools {list(tool_names)}.")
        return {"type": "function", "function": {"name": choice}}
    raise ValueError(f"Unsupported tool_choice {choice!r}: use 'auto', 'none', 'required', a tool name or a dict.")


def _tool_call_id(raw: Any) -> str:
    """TGI 1.4 sends the integer 0, TGI 3.x ``"0"``; an absent id gets one, so a tool reply can refer to it."""
    if raw is None or raw == "":
        return f"call_{uuid.uuid4().hex[:24]}"
    return str(raw)


def parse_arguments(raw: Any) -> dict[str, Any]:
    """Arguments as a JSON string, a JSON object, a double-encoded string, or nothing -> a dict, or ValueError."""
    if raw is None or raw == "":
        return {}
    value = raw
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"arguments are not valid JSON: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"arguments must be a JSON object, got {type(value).__name__}")
    return value


def raw_arguments(function: Mapping[str, Any]) -> Any:
    """A tool call's arguments as sent: ``arguments``, or ``parameters`` where TGI 1.4.3 put them."""
    arguments = function.get("arguments")
    return function.get("parameters") if arguments is None else arguments


def tool_calls_from_wire(
    raw_calls: Sequence[Any] | Mapping[str, Any] | None,
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Complete tool calls of a message: parsed ones, and those whose arguments cannot be read."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    if isinstance(raw_calls, Mapping):  # one tool-call object where a list belongs (TGI 1.4 streams)
        raw_calls = [raw_calls]
    if raw_calls and not isinstance(raw_calls, list):
        raise ValueError(f"tool_calls is not a list: {str(raw_calls)[:200]}")
    for raw in raw_calls or ():
        function = (raw.get("function") or {}) if isinstance(raw, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(name, (str, type(None))):
            # Not a tool call we can read: kept as an invalid one, never dropped.
            invalid.append(
                invalid_tool_call(
                    name=None,
                    args=orjson.dumps(raw).decode(),
                    id=None,
                    error="not a tool-call object with a string function name",
                )
            )
            continue
        call_id = _tool_call_id(raw.get("id"))
        arguments = raw_arguments(function)
        try:
            args = parse_arguments(arguments)
        except ValueError as exc:
            text = arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
            invalid.append(invalid_tool_call(name=name, args=text, id=call_id, error=str(exc)))
            continue
        if not name:
            invalid.append(
                invalid_tool_call(name=name, args=orjson.dumps(args).decode(), id=call_id, error="no function name")
            )
            continue
        calls.append(tool_call(name=name, args=args, id=call_id))
    return calls, invalid
