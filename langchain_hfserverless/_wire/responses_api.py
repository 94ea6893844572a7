"""The router's Responses API (``POST /v1/responses``, beta): LangChain <-> Responses JSON and stream events.

Pure: builds request dicts and reads answers and events; the transport sends them. The shapes are those of the
open-source server the router runs (huggingface/responses.js): its ``src/schemas.ts`` (request) and
``src/routes/responses.ts`` (output items, events).

Request (:func:`to_responses_request`):
    - leading system messages -> ``instructions`` (joined by a blank line); a later system message -> an input
      message with role ``system`` (responses.js drops ``developer``).
    - human -> ``{"type": "message", "role": "user", "content": [input_text | input_image]}``; images by URL or
      LangChain base64 blocks (sent as data URLs). Raw Responses items in a human message's content list
      (``mcp_approval_response``, ``mcp_list_tools``...) are lifted to top-level input items.
    - AI -> its text as an assistant message (``output_text``), each tool call as a ``function_call`` item, and the
      MCP items it carried (``additional_kwargs["mcp"]``) replayed, so an approval can refer to its request and the
      server does not list tools again.
    - tool -> ``function_call_output``.
    - tools: LangChain tools / functions / Pydantic / OpenAI dicts -> ``{"type": "function", "name", ...}``; MCP
      dicts (``{"type": "mcp", ...}``) and other typed dicts pass through. ``tool_choice`` as on the chat route.
    - structured output: a chat ``response_format`` -> ``text.format``; ``reasoning_effort`` -> ``reasoning``.

Answer (:func:`chat_result_from_response`, :class:`ResponsesStreamState`):
    - text -> ``content``; reasoning -> ``additional_kwargs["reasoning_content"]``; ``function_call`` items ->
      ``tool_calls`` (id = ``call_id``); usage -> ``UsageMetadata``.
    - MCP items the server ran (``mcp_list_tools``, ``mcp_call``, ``mcp_approval_request``) ->
      ``additional_kwargs["mcp"]``: the items as the server sent them, in output order.
    - ``output_version="v1"`` (non-streamed) -> content blocks in output order: ``reasoning``, ``text``,
      ``tool_call``, an ``mcp_call`` as ``server_tool_call`` (name = the MCP tool, ``extras.server_label``) plus
      ``server_tool_result`` (status ``success``/``error``), other MCP items as ``non_standard`` blocks.
      Streamed, text and reasoning arrive as they come and the MCP items' blocks come on the last chunk.
    - ``response.failed`` / ``error`` events and failed answers raise the package's typed errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from langchain_hfserverless._wire.errors import error_from_event, error_from_response
from langchain_hfserverless._wire.headers import header
from langchain_hfserverless._wire.messages import to_wire_content
from langchain_hfserverless._wire.responses import MODEL_PROVIDER
from langchain_hfserverless._wire.tools import parse_arguments, tool_calls_from_wire, tools_to_wire
from langchain_hfserverless.errors import HFServerlessAPIError, HFServerlessError

MCP_ITEM_TYPES = frozenset({"mcp_list_tools", "mcp_call", "mcp_approval_request", "mcp_approval_response"})
_LIFTED_ITEM_TYPES = MCP_ITEM_TYPES | {"function_call", "function_call_output"}
_STATUS_PREFIX = re.compile(r"^(\d{3})\s+(.*)$", re.DOTALL)  # openai-node's "401 {body}" from the upstream


# --- request --------------------------------------------------------------------------------------------------


def _text_of(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, Mapping) and part.get("type") in ("text", "output_text", "input_text"):
            parts.append(str(part.get("text") or ""))
    return "".join(parts)


def _input_part(part: Any) -> dict[str, Any]:
    """One chat-form content part (after LangChain blocks became OpenAI parts) -> a Responses input part."""
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in ("input_text", "input_image"):
        return dict(part)
    if kind == "text":
        return {"type": "input_text", "text": part["text"]}
    if kind == "image_url":
        image = part["image_url"]
        url = image.get("url") if isinstance(image, Mapping) else image
        result: dict[str, Any] = {"type": "input_image", "image_url": url}
        if isinstance(image, Mapping) and image.get("detail"):
            result["detail"] = image["detail"]
        return result
    raise ValueError(
        f"Content part of type {kind!r} cannot go to the Responses API, which takes text and images only: "
        "send it on the chat route instead."
    )


def _user_item(message: BaseMessage, role: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A user/system message item, and the raw Responses items found among its content parts."""
    content = message.content
    lifted: list[dict[str, Any]] = []
    if isinstance(content, list):
        kept = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") in _LIFTED_ITEM_TYPES:
                lifted.append(dict(part))
            else:
                kept.append(part)
        content = kept
    wire = to_wire_content(content)
    parts = [{"type": "input_text", "text": wire}] if isinstance(wire, str) else [_input_part(p) for p in wire]
    parts = [p for p in parts if not (p["type"] == "input_text" and not p.get("text"))]
    item = {"type": "message", "role": role, "content": parts} if parts else None
    return item, lifted


def _ai_items(message: AIMessage) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [dict(i) for i in message.additional_kwargs.get("mcp") or () if isinstance(i, dict)]
    text = _text_of(message.content)
    if text:
        items.append({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]})
    for call in message.tool_calls:
        items.append(
            {
                "type": "function_call",
                "call_id": call.get("id") or "",
                "name": call["name"],
                "arguments": orjson.dumps(call.get("args") or {}).decode(),
            }
        )
    for bad in message.invalid_tool_calls:
        items.append(
            {
                "type": "function_call",
                "call_id": bad.get("id") or "",
                "name": bad.get("name") or "",
                "arguments": bad.get("args") or "",
            }
        )
    return items


def to_responses_input(messages: Sequence[BaseMessage]) -> tuple[str | None, list[dict[str, Any]]]:
    """``(instructions, input items)`` for a conversation."""
    instructions: list[str] = []
    items: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            if not items:
                instructions.append(_text_of(message.content))
                continue
            item, lifted = _user_item(message, "system")
        elif isinstance(message, HumanMessage):
            item, lifted = _user_item(message, "user")
        elif isinstance(message, AIMessage):
            items.extend(_ai_items(message))
            continue
        elif isinstance(message, ToolMessage):
            output = message.content if isinstance(message.content, str) else _text_of(message.content)
            items.append({"type": "function_call_output", "call_id": message.tool_call_id, "output": output})
            continue
        elif isinstance(message, ChatMessage) and message.role in ("user", "system", "developer"):
            item, lifted = _user_item(message, "system" if message.role == "developer" else message.role)
        else:
            raise TypeError(
                f"Unsupported message {type(message).__name__} for the Responses API: use System, Human, AI or Tool."
            )
        items.extend(lifted)
        if item is not None:
            items.append(item)
    return ("\n\n".join(instructions) if instructions else None), items


def to_responses_tools(tools: Sequence[Any], *, strict: bool | None = None) -> list[dict[str, Any]]:
    """Function tools in the flat Responses form; MCP and other typed Responses tool dicts as given."""
    result = []
    for tool in tools:
        if isinstance(tool, Mapping) and (
            tool.get("type") not in (None, "function") or (tool.get("type") == "function" and "name" in tool)
        ):
            result.append(dict(tool))
            continue
        function = tools_to_wire([tool], strict=strict)[0]["function"]
        flat = {"type": "function", "name": function["name"]}
        for key in ("description", "parameters", "strict"):
            if key in function:
                flat[key] = function[key]
        flat.setdefault("parameters", {"type": "object", "properties": {}})
        result.append(flat)
    return result


def to_responses_tool_choice(choice: Any) -> Any:
    """A chat-route ``tool_choice`` (already normalised by ``tool_choice_to_wire``) in the Responses form."""
    if isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        return {"type": "function", "name": choice["function"]["name"]}
    return choice


def to_text_format(response_format: Mapping[str, Any]) -> dict[str, Any]:
    """A chat ``response_format`` -> Responses ``text.format`` (``json_schema`` flattened, ``json_object``)."""
    if response_format.get("type") == "json_schema" and isinstance(response_format.get("json_schema"), Mapping):
        spec = response_format["json_schema"]
        flat = {"type": "json_schema", "name": spec.get("name") or "response", "schema": spec.get("schema") or {}}
        for key in ("description", "strict"):
            if spec.get(key) is not None:
                flat[key] = spec[key]
        return flat
    return dict(response_format)


def to_responses_request(
    messages: Sequence[BaseMessage],
    *,
    model: str,
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
    response_format: Mapping[str, Any] | None = None,
    reasoning_effort: str | None = None,
    stream: bool = False,
    **params: Any,
) -> dict[str, Any]:
    """The ``/v1/responses`` body. ``params`` (``temperature``, ``max_output_tokens``, ``top_p``, ...) go as given.

    Only what is set is sent; ``stream`` only when true.
    """
    instructions, items = to_responses_input(messages)
    body: dict[str, Any] = {"model": model}
    if instructions is not None:
        body["instructions"] = instructions
    body["input"] = items
    if tools:
        body["tools"] = to_responses_tools(tools)
    if tool_choice is not None:
        body["tool_choice"] = to_responses_tool_choice(tool_choice)
    if response_format is not None:
        body["text"] = {"format": to_text_format(response_format)}
    if reasoning_effort is not None:
        body["reasoning"] = {"effort": reasoning_effort}
    body.update({k: v for k, v in params.items() if v is not None})
    if stream:
        body["stream"] = True
    return body


# --- answers --------------------------------------------------------------------------------------------------


def usage_from_responses(usage: Any) -> UsageMetadata | None:
    """Responses ``usage`` (input/output/total tokens with details) -> ``UsageMetadata``."""
    if not isinstance(usage, Mapping) or not usage:
        return None

    def count(mapping: Mapping[str, Any], key: str) -> int:
        value = mapping.get(key)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

    inp, out = count(usage, "input_tokens"), count(usage, "output_tokens")
    result = UsageMetadata(input_tokens=inp, output_tokens=out, total_tokens=count(usage, "total_tokens") or inp + out)
    details = usage.get("input_tokens_details")
    if isinstance(details, Mapping) and details.get("cached_tokens") is not None:
        result["input_token_details"] = InputTokenDetails(cache_read=count(details, "cached_tokens"))
    details = usage.get("output_tokens_details")
    if isinstance(details, Mapping) and details.get("reasoning_tokens") is not None:
        result["output_token_details"] = OutputTokenDetails(reasoning=count(details, "reasoning_tokens"))
    return result


def error_from_failed(response: Mapping[str, Any], *, model: str | None, provider: str | None) -> HFServerlessError:
    """The typed error of a failed response (``status: "failed"`` or a ``response.failed`` event).

    responses.js relays an upstream HTTP error as ``"401 <upstream body>"``: that status picks the class.
    """
    error = response.get("error")
    error = error if isinstance(error, Mapping) else {"message": str(error or "the response failed")}
    message = str(error.get("message") or "")
    relayed = _STATUS_PREFIX.match(message)
    if relayed:
        return error_from_response(int(relayed.group(1)), {}, relayed.group(2).encode(), model=model, provider=provider)
    return error_from_event({"error": error}, model=model, provider=provider)


def _reasoning_text(item: Mapping[str, Any]) -> str:
    parts = [p.get("text") or "" for p in item.get("content") or () if isinstance(p, Mapping)]
    if not any(parts):  # OpenAI sends summaries only
        parts = [p.get("text") or "" for p in item.get("summary") or () if isinstance(p, Mapping)]
    return "".join(parts)


def _mcp_blocks(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    if item.get("type") != "mcp_call":
        return [{"type": "non_standard", "value": dict(item)}]
    try:
        args = parse_arguments(item.get("arguments"))
    except ValueError:
        args = {"arguments": item.get("arguments")}
    call_id = str(item.get("id") or "")
    call = {"type": "server_tool_call", "id": call_id, "name": item.get("name") or "", "args": args}
    call["extras"] = {"server_label": item.get("server_label")}
    failed = item.get("error") is not None
    result = {
        "type": "server_tool_result",
        "tool_call_id": call_id,
        "status": "error" if failed else "success",
        "output": item.get("error") if failed else item.get("output"),
    }
    return [call, result]


def _finish_reason(response: Mapping[str, Any], has_calls: bool) -> str:
    if response.get("status") == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        return "length" if reason in (None, "max_output_tokens") else str(reason)
    return "tool_calls" if has_calls else "stop"


def _metadata(response: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"model_provider": MODEL_PROVIDER}
    for key, name in (("model", "model_name"), ("id", "id"), ("status", "status"), ("created_at", "created")):
        if response.get(key):
            meta[name] = response[key]
    for key, name in (("x-inference-provider", "inference_provider"), ("x-request-id", "request_id")):
        value = header(headers, key)
        if value:
            meta[name] = value
    return meta


def message_from_response(response: Mapping[str, Any], *, output_version: str | None = None) -> AIMessage:
    """The output items of a Responses answer -> one AIMessage (see the module docstring for the shape)."""
    text: list[str] = []
    reasoning: list[str] = []
    raw_calls: list[dict[str, Any]] = []
    mcp: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    refusal = None
    for item in response.get("output") or ():
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or ():
                if isinstance(part, Mapping) and part.get("type") == "output_text":
                    text.append(part.get("text") or "")
                    blocks.append({"type": "text", "text": part.get("text") or ""})
                elif isinstance(part, Mapping) and part.get("type") == "refusal":
                    refusal = part.get("refusal")
        elif kind == "reasoning":
            thought = _reasoning_text(item)
            if thought:
                reasoning.append(thought)
                blocks.append({"type": "reasoning", "reasoning": thought})
        elif kind == "function_call":
            raw_calls.append(
                {
                    "id": item.get("call_id") or item.get("id"),
                    "function": {"name": item.get("name"), "arguments": item.get("arguments")},
                }
            )
            blocks.append({"type": "function_call", "index": len(raw_calls) - 1})
        elif kind in MCP_ITEM_TYPES:
            mcp.append(dict(item))
            blocks.extend(_mcp_blocks(item))
    calls, invalid = tool_calls_from_wire(raw_calls)
    additional: dict[str, Any] = {}
    if reasoning:
        additional["reasoning_content"] = "".join(reasoning)
    if refusal:
        additional["refusal"] = refusal
    if mcp:
        additional["mcp"] = mcp
    content: Any = "".join(text)
    if output_version == "v1":
        by_id = {c["id"]: c for c in calls}
        content = []
        for block in blocks:
            if block["type"] != "function_call":
                content.append(block)
                continue
            raw_id = str(raw_calls[block["index"]]["id"] or "")
            if raw_id in by_id:
                call = by_id[raw_id]
                content.append({"type": "tool_call", "id": call["id"], "name": call["name"], "args": call["args"]})
    return AIMessage(content=content, additional_kwargs=additional, tool_calls=calls, invalid_tool_calls=invalid)


def chat_result_from_response(
    data: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    model: str | None = None,
    provider: str | None = None,
    output_version: str | None = None,
) -> ChatResult:
    """A non-streamed Responses answer -> ChatResult; a failed one raises its typed error.

    Raises:
        HFServerlessError: the answer says the response failed.
        ValueError: the answer is not a Responses object.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("output", []), list):
        raise ValueError(f"answer is not a Responses object: {str(data)[:300]}")
    if data.get("status") == "failed" or data.get("error"):
        raise error_from_failed(data, model=model or data.get("model"), provider=provider)
    message = message_from_response(data, output_version=output_version)
    finish = _finish_reason(data, bool(message.tool_calls or message.invalid_tool_calls))
    meta = _metadata(data, headers)
    meta["finish_reason"] = finish
    message.response_metadata = meta
    message.usage_metadata = usage_from_responses(data.get("usage"))
    generation = ChatGeneration(message=message, generation_info={"finish_reason": finish})
    return ChatResult(generations=[generation], llm_output={"model_name": meta.get("model_name")})


# --- streaming ------------------------------------------------------------------------------------------------

_TEXT_DELTAS = frozenset({"response.output_text.delta", "response.refusal.delta"})
_REASONING_DELTAS = frozenset(
    {"response.reasoning_text.delta", "response.reasoning_summary_text.delta", "response.reasoning.delta"}
)
_DONE = frozenset({"response.completed", "response.incomplete"})


class ResponsesStreamState:
    """One per stream: Responses events -> ``AIMessageChunk``s, and one last chunk with usage and metadata.

    Function calls become ``tool_call_chunks`` indexed 0, 1, ... in the order their items start (the server's
    ``output_index`` is not reliable for every item); name and ``call_id`` come once, on the first fragment.
    """

    def __init__(
        self, *, model: str | None = None, provider: str | None = None, output_version: str | None = None
    ) -> None:
        self.model = model
        self.provider = provider
        self.output_version = output_version
        self.response: Mapping[str, Any] | None = None
        self._call_index: dict[str, int] = {}
        self._has_calls = False

    def chunk_from_event(self, event: Mapping[str, Any]) -> ChatGenerationChunk | None:
        """One event -> a text/reasoning/tool-call chunk, or ``None``.

        Raises:
            HFServerlessError: a ``response.failed`` or ``error`` event.
        """
        kind = event.get("type")
        if kind in _TEXT_DELTAS:
            delta = event.get("delta")
            if not isinstance(delta, str) or not delta:
                return None
            if kind == "response.refusal.delta":
                return ChatGenerationChunk(message=AIMessageChunk(content="", additional_kwargs={"refusal": delta}))
            return ChatGenerationChunk(message=AIMessageChunk(content=delta))
        if kind in _REASONING_DELTAS:
            delta = event.get("delta")
            if not isinstance(delta, str) or not delta:
                return None
            return ChatGenerationChunk(
                message=AIMessageChunk(content="", additional_kwargs={"reasoning_content": delta})
            )
        if kind == "response.output_item.added":
            item = event.get("item")
            if isinstance(item, Mapping) and item.get("type") == "function_call":
                index = self._call_index.setdefault(str(item.get("id")), len(self._call_index))
                self._has_calls = True
                chunk = tool_call_chunk(
                    name=item.get("name") or None,
                    args=item.get("arguments") or None,
                    id=str(item.get("call_id") or "") or None,
                    index=index,
                )
                return ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[chunk]))
            return None
        if kind == "response.function_call_arguments.delta":
            delta = event.get("delta")
            known = self._call_index.get(str(event.get("item_id")))
            if known is None or not isinstance(delta, str) or not delta:
                return None
            chunk = tool_call_chunk(name=None, args=delta, id=None, index=known)
            return ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[chunk]))
        if kind in _DONE:
            response = event.get("response")
            self.response = response if isinstance(response, Mapping) else {}
            return None
        if kind == "response.failed":
            response = event.get("response")
            raise error_from_failed(
                response if isinstance(response, Mapping) else {}, model=self.model, provider=self.provider
            )
        if kind == "error":
            if isinstance(event.get("error"), Mapping):  # {"type": "error", "error": {...}}
                body: Mapping[str, Any] = event
            else:  # OpenAI's flat form: {"type": "error", "code", "message", "param"}; the code names the class
                error = {k: v for k, v in event.items() if k not in ("type", "sequence_number")}
                body = {"error": {**error, "type": error.get("code")}}
            raise error_from_event(body, model=self.model, provider=self.provider)
        return None  # lifecycle, content-part and MCP progress events carry nothing new

    def final_chunk(self, headers: Mapping[str, str]) -> ChatGenerationChunk:
        """The last chunk: usage, finish_reason, metadata and the MCP items the server ran.

        The MCP items go in ``additional_kwargs["mcp"]``; with ``output_version="v1"`` also as content blocks, the
        same blocks as a non-streamed answer (the server sends no deltas of them worth a chunk each).

        Raises:
            HFServerlessAPIError: the stream ended before ``response.completed``.
        """
        if self.response is None:
            raise HFServerlessAPIError(
                f"The Responses stream of model {self.model!r} ended before 'response.completed': the connection "
                "was cut or the server stopped; retry the call.",
                model=self.model,
                provider=self.provider,
            )
        response = self.response
        mcp = [
            dict(i) for i in response.get("output") or () if isinstance(i, Mapping) and i.get("type") in MCP_ITEM_TYPES
        ]
        finish = _finish_reason(response, self._has_calls)
        meta = _metadata(response, headers)
        meta["finish_reason"] = finish
        content: Any = ""
        if self.output_version == "v1" and mcp:
            content = [block for item in mcp for block in _mcp_blocks(item)]
        message = AIMessageChunk(
            content=content,
            additional_kwargs={"mcp": mcp} if mcp else {},
            usage_metadata=usage_from_responses(response.get("usage")),
            response_metadata=meta,
            chunk_position="last",
        )
        return ChatGenerationChunk(message=message, generation_info={"finish_reason": finish})
