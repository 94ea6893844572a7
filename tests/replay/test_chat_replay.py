"""Replay every recorded chat-completions interaction of ``../shared/hf-recordings`` through ChatHFServerless.

For each recorded ``POST …/chat/completions`` (Hub look-ups are not chat calls and are left out):

1. the recorded request body is turned back into what a LangChain user writes: messages, model fields
   (``max_tokens``, ``temperature``, ``stop``, ``seed``...; ``stream_usage`` only when the recording asked for
   ``stream_options.include_usage``), tools and ``tool_choice`` through ``bind_tools``, every other body key
   (``response_format``, ``tool_prompt``, a TGI tool *name* as ``tool_choice``, ``n``...) as a call-time keyword;
2. a loopback server answers with the recorded status, headers and body (a stream event by event);
3. ``invoke`` (``stream`` when the recorded body says ``stream: true``), sync and async, must send the recorded
   body and give back what the recording says, parsed independently in ``recordings.py``: content, reasoning,
   tool calls (name, args, string id), final usage, finish_reason, ``model_name`` = the answer's ``model``, and
   the serving provider when the router named it. An error recording must raise the typed error of
   ``langchain_hfserverless.errors`` (and its langchain-core base) quoting the server.

A cassette that kept no request body is replayed for the answer only. A recorded request no LangChain call can
produce (``messages`` as a bare string, a tool call without ``arguments``) is only accepted for an *error*
recording — it is the mistake the server answered — and then only the error is checked.

Request comparison rules (the only normalisations, each for a reason):

- ``null`` values are dropped at every depth on both sides: older huggingface_hub clients sent every unset
  parameter as ``null`` (``seed: null``, ``name: null`` in messages), which means "not set" — what the package
  says by leaving the key out;
- ``stream``: the package always sends it (``false`` for invoke). A recording without the key is compared as
  ``"stream": false``, its meaning in the OpenAI spec; a recording with the key must match it exactly;
- tool-call ``arguments`` inside assistant messages are compared as parsed JSON (a JSON string or a TGI-style
  object: whitespace between tokens carries no meaning, and LangChain keeps arguments parsed);
- an assistant turn with tool calls and no text: ``content`` ``""``, ``[]``, ``null`` or absent say the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
)
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import Runnable

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless import errors as hf_errors
from tests.loopback import LoopbackServer
from tests.replay.recordings import (
    SHARED,
    Interaction,
    RecordedAnswer,
    all_interactions,
    answer_of,
    error_text_of,
    parsed_arguments,
    recordings_root,
    unreadable_cassettes,
)

pytestmark = pytest.mark.replay

# ChatHFServerless fields that are chat-completions body keys of the same name.
_FIELD_KEYS = (
    "temperature",
    "max_tokens",
    "top_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "logprobs",
    "top_logprobs",
)
_TOOL_CHOICE_WORDS = ("auto", "none", "required")


def _chat_posts() -> list[Interaction]:
    return [i for i in all_interactions() if i.is_chat_completion]


def _params(stored_body: bool) -> list[Any]:
    return [pytest.param(i, id=i.id) for i in _chat_posts() if (i.request_json() is not None) is stored_body]


# ---------------------------------------------------------------------------------------------- request side


def drop_nulls(value: Any) -> Any:
    """Keys whose value is ``null`` removed, at every depth (``null`` means "not set" in this API)."""
    if isinstance(value, Mapping):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def canonical_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body in the form both sides are compared in (see the module docstring for each rule)."""
    out: dict[str, Any] = drop_nulls(body)
    out.setdefault("stream", False)
    messages = out.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if not isinstance(message, dict) or not message.get("tool_calls"):
                continue
            if message.get("content") in ("", []):
                del message["content"]  # no text beside tool calls: "", [] and null/absent say the same
            for call in message["tool_calls"]:
                function = call.get("function")
                if isinstance(function, dict) and "arguments" in function:
                    function["arguments"] = parsed_arguments(function["arguments"])
    return out


_MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id"})
_TOOL_CALL_KEYS = frozenset({"id", "type", "function"})


def _tool_call_from_wire(call: Mapping[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    if set(call) - _TOOL_CALL_KEYS or set(function) != {"name", "arguments"} or call.get("type") != "function":
        raise NotImplementedError(f"tool call {call!r} is not the OpenAI form a LangChain ToolCall becomes")
    args = parsed_arguments(function["arguments"])
    if not isinstance(args, dict):
        raise NotImplementedError(f"tool call arguments {function['arguments']!r} are not a JSON object")
    return {"name": function["name"], "args": args, "id": call.get("id")}


def message_from_wire(message: Mapping[str, Any]) -> BaseMessage:
    """One recorded request message -> the LangChain message a user would have written."""
    message = drop_nulls(message)
    unknown = set(message) - _MESSAGE_KEYS
    if unknown:
        raise NotImplementedError(f"message keys {sorted(unknown)} have no LangChain counterpart")
    role = message.get("role")
    content = message.get("content", "")
    extra = {"name": message["name"]} if "name" in message else {}
    if role == "system":
        return SystemMessage(content=content, **extra)
    if role == "user":
        return HumanMessage(content=content, **extra)
    if role == "assistant":
        calls = [_tool_call_from_wire(c) for c in message.get("tool_calls") or ()]
        return AIMessage(content=content, tool_calls=calls, **extra)
    if role == "tool" and "tool_call_id" in message:
        return ToolMessage(content=content, tool_call_id=message["tool_call_id"], **extra)
    # Other roles, and TGI-era tool results that name the tool instead of a call id, as ChatMessage.
    return ChatMessage(role=str(role), content=content, **extra)


@dataclass
class Replay:
    """How to reproduce one recorded request with the package's public API."""

    model: ChatHFServerless
    runnable: Runnable[Any, Any]
    messages: list[BaseMessage]
    call_kwargs: dict[str, Any]
    stream: bool


def build_replay(recorded: Mapping[str, Any], base_url: str, *, max_retries: int) -> Replay:
    body = drop_nulls(recorded)
    messages = body.pop("messages")
    if not isinstance(messages, list):
        raise NotImplementedError(f"`messages` is a {type(messages).__name__}, not a list of messages")
    stream = bool(body.pop("stream", False))
    fields: dict[str, Any] = {key: body.pop(key) for key in _FIELD_KEYS if key in body}
    model_kwargs: dict[str, Any] = {}
    stop = body.pop("stop", None)
    if isinstance(stop, list) and stop:
        fields["stop"] = stop
    elif stop is not None:  # a bare string or an empty list: the stop field would send a non-empty list
        model_kwargs["stop"] = stop
    options = body.pop("stream_options", None)
    fields["stream_usage"] = stream and options == {"include_usage": True}
    if options is not None and not fields["stream_usage"]:
        model_kwargs["stream_options"] = options
    if model_kwargs:
        fields["model_kwargs"] = model_kwargs
    llm = ChatHFServerless(
        base_url=base_url, model=body.pop("model", None), max_retries=max_retries, timeout=30, **fields
    )
    runnable: Runnable[Any, Any] = llm
    tools = body.pop("tools", None)
    if tools is not None:
        choice = body.get("tool_choice")
        bind: dict[str, Any] = {}
        if choice in _TOOL_CHOICE_WORDS or isinstance(choice, dict):
            bind["tool_choice"] = body.pop("tool_choice")
        if "parallel_tool_calls" in body:
            bind["parallel_tool_calls"] = body.pop("parallel_tool_calls")
        runnable = llm.bind_tools(tools, **bind)
    # Everything else (response_format, tool_prompt, a TGI tool name as tool_choice, n, logit_bias, provider
    # extras) is a call-time keyword, which the package sends as given.
    return Replay(llm, runnable, [message_from_wire(m) for m in messages], body, stream)


# ---------------------------------------------------------------------------------------------- answer side


_ERROR_CLASSES: dict[int, tuple[type[Exception], type[Exception]]] = {
    401: (hf_errors.HFServerlessAuthenticationError, ModelAuthenticationError),
    402: (hf_errors.HFServerlessPaymentRequiredError, ModelPermissionDeniedError),
    403: (hf_errors.HFServerlessPermissionDeniedError, ModelPermissionDeniedError),
    404: (hf_errors.HFServerlessNotFoundError, ModelNotFoundError),
    410: (hf_errors.HFServerlessNotFoundError, ModelNotFoundError),  # a model the provider no longer serves
    429: (hf_errors.HFServerlessRateLimitError, ModelRateLimitError),
}


def expected_error_classes(status: int) -> tuple[type[Exception], type[Exception]]:
    if status in _ERROR_CLASSES:
        return _ERROR_CLASSES[status]
    if 400 <= status < 500:
        return hf_errors.HFServerlessInvalidRequestError, ModelInvalidRequestError
    return hf_errors.HFServerlessAPIError, ModelAPIError


# ---------------------------------------------------------------------------------------------- checks


def check_answer(message: AIMessage, expected: RecordedAnswer, interaction: Interaction) -> None:
    assert message.content == expected.content
    assert (message.additional_kwargs.get("reasoning_content") or "") == expected.reasoning
    calls = list(message.tool_calls)
    parsed = [c for c in expected.tool_calls if isinstance(c["args"], dict)]
    assert [(c["name"], c["args"]) for c in calls] == [(c["name"], c["args"]) for c in parsed]
    for got, want in zip(calls, parsed, strict=True):
        assert isinstance(got["id"], str) and got["id"]
        if want["id"] not in (None, ""):
            assert got["id"] == str(want["id"])
    unparsed = [c for c in expected.tool_calls if not isinstance(c["args"], dict)]
    assert [c["name"] for c in message.invalid_tool_calls] == [c["name"] for c in unparsed]
    if expected.usage:
        usage = message.usage_metadata
        assert usage is not None
        assert usage["input_tokens"] == expected.usage.get("prompt_tokens", 0)
        assert usage["output_tokens"] == expected.usage.get("completion_tokens", 0)
        assert usage["total_tokens"] == expected.usage.get(
            "total_tokens", usage["input_tokens"] + usage["output_tokens"]
        )
        cached = (expected.usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        if cached is None:
            cached = expected.usage.get("cached_tokens")  # Together puts it beside prompt_tokens
        if cached is not None:
            assert usage.get("input_token_details", {}).get("cache_read") == cached
        thought = (expected.usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
        if thought is not None:
            assert usage.get("output_token_details", {}).get("reasoning") == thought
    else:
        assert message.usage_metadata is None
    assert message.response_metadata.get("finish_reason") == expected.finish_reason
    if expected.model is not None:  # an answer without `model` leaves the name to the package's choice
        assert message.response_metadata.get("model_name") == expected.model
    provider = interaction.response_header("x-inference-provider")
    if provider:
        assert message.response_metadata.get("inference_provider") == provider


def check_request(server: LoopbackServer, recorded: Mapping[str, Any], *, only: bool = True) -> None:
    """The first request equals the recorded one; ``only``: and it was the only one (no hidden re-sends)."""
    assert server.requests, "no request reached the server"
    if only:
        assert len(server.requests) == 1, "one recorded request must become exactly one HTTP request"
    sent = server.requests[0]
    assert sent.method == "POST"
    assert sent.path == "/v1/chat/completions"
    assert canonical_request(sent.json()) == canonical_request(recorded)


def check_error(exc: BaseException, interaction: Interaction) -> None:
    ours, core = expected_error_classes(interaction.status)
    assert isinstance(exc, ours), f"{type(exc).__name__} is not {ours.__name__}"
    assert isinstance(exc, core)
    assert isinstance(exc, hf_errors.HFServerlessError)
    assert exc.status_code == interaction.status
    assert error_text_of(interaction)[:200] in str(exc)


def _aggregate(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    assert chunks, "a stream must yield at least its final chunk"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def _run_sync(replay: Replay) -> AIMessage:
    if replay.stream:
        return _aggregate(list(replay.runnable.stream(replay.messages, **replay.call_kwargs)))
    result = replay.runnable.invoke(replay.messages, **replay.call_kwargs)
    assert isinstance(result, AIMessage)
    return result


async def _run_async(replay: Replay) -> AIMessage:
    if replay.stream:
        return _aggregate([c async for c in replay.runnable.astream(replay.messages, **replay.call_kwargs)])
    result = await replay.runnable.ainvoke(replay.messages, **replay.call_kwargs)
    assert isinstance(result, AIMessage)
    return result


def _error_replay(recorded: Mapping[str, Any], url: str) -> tuple[Replay, bool]:
    """The replay of an error recording, and whether its request can be compared.

    A recorded client sometimes sent what no LangChain call produces (``messages`` as a bare string: the very
    mistake the server answered 422 to). Its error answer is still replayed, after a plain call.
    """
    try:
        return build_replay(recorded, url, max_retries=0), True
    except NotImplementedError:
        llm = ChatHFServerless(base_url=url, model=recorded.get("model"), max_retries=0, timeout=30)
        messages: list[BaseMessage] = [HumanMessage(content=str(recorded.get("messages")))]
        return Replay(llm, llm, messages, {}, bool(recorded.get("stream"))), False


def _prepare(interaction: Interaction, url: str) -> tuple[Replay, bool]:
    """The replay of one recording, and whether its request is compared."""
    recorded = interaction.request_json()
    if interaction.status >= 400:
        return _error_replay(recorded, url)
    return build_replay(recorded, url, max_retries=2), True


def _verify(
    interaction: Interaction, server: LoopbackServer, outcome: AIMessage | ModelError, comparable: bool
) -> None:
    """The outcome (answer or raised error) and the request, against what the recording says."""
    answer = answer_of(interaction) if interaction.status < 400 else None
    if answer is None:
        assert isinstance(outcome, ModelError), f"HTTP {interaction.status} must raise, got {outcome!r}"
        check_error(outcome, interaction)
    elif answer.error is not None:  # a 200 answer that is an error: must raise, quoting the server
        assert isinstance(outcome, hf_errors.HFServerlessError), f"expected an error, got {outcome!r}"
        assert answer.error[:200] in str(outcome)
    else:
        if isinstance(outcome, BaseException):
            raise outcome
        check_answer(outcome, answer, interaction)
    if comparable:
        check_request(server, interaction.request_json(), only=answer is not None and answer.error is None)


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("interaction", _params(stored_body=True))
def test_chat_replay(interaction: Interaction, serve_recording: Callable[[Interaction], LoopbackServer]) -> None:
    """Sync invoke/stream: the request body and the answer (or typed error) as recorded."""
    server = serve_recording(interaction)
    replay, comparable = _prepare(interaction, server.url)
    outcome: AIMessage | ModelError
    try:
        outcome = _run_sync(replay)
    except ModelError as exc:
        outcome = exc
    _verify(interaction, server, outcome, comparable)


@pytest.mark.parametrize("interaction", _params(stored_body=True))
async def test_chat_replay_async(
    interaction: Interaction, serve_recording: Callable[[Interaction], LoopbackServer]
) -> None:
    """Async ainvoke/astream: the same request body and the same answer (or typed error)."""
    server = serve_recording(interaction)
    replay, comparable = _prepare(interaction, server.url)
    outcome: AIMessage | ModelError
    try:
        outcome = await _run_async(replay)
    except ModelError as exc:
        outcome = exc
    _verify(interaction, server, outcome, comparable)


@pytest.mark.parametrize("interaction", _params(stored_body=False))
def test_chat_answer_without_stored_request(
    interaction: Interaction, serve_recording: Callable[[Interaction], LoopbackServer]
) -> None:
    """The cassette kept no request body: the answer side alone is replayed, with a one-line question."""
    server = serve_recording(interaction)
    streamed = interaction.is_event_stream
    llm = ChatHFServerless(base_url=server.url, model="tgi", max_retries=0, timeout=30)
    outcome: AIMessage | ModelError
    try:
        outcome = _aggregate(list(llm.stream("hello"))) if streamed else llm.invoke("hello")
    except ModelError as exc:
        outcome = exc
    _verify(interaction, server, outcome, comparable=False)
    assert server.requests[0].json()["stream"] is streamed


# ---------------------------------------------------------------------------------------------- hand-built
# Dialects seen in real router traffic that ``shared/`` does not hold. These interactions are hand-built (not
# copies), each modelled on the traffic its comment names, and go through the same replay and checks. Their ids
# start with "hand-built:", and the pass-rate summary leaves them out.


def _hand_built(name: str, request: dict[str, Any], status: int, body: Any, headers: dict[str, str]) -> Any:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    interaction = Interaction(
        cassette=f"hand-built/{name}.yaml",
        index=0,
        method="POST",
        uri="https://router.huggingface.co/v1/chat/completions",
        request_headers={"content-type": ["application/json"]},
        request_body=json.dumps(request).encode(),
        status=status,
        response_headers={k: [v] for k, v in headers.items()},
        raw_response_body=raw,
    )
    return pytest.param(interaction, id=f"hand-built:{name}")


def _sse(*events: Any) -> str:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


_JSON = {"content-type": "application/json; charset=utf-8"}
_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
_GROQ_CHUNK = {"id": "chatcmpl-g", "object": "chat.completion.chunk", "created": 1, "model": "openai/gpt-oss-20b"}

HAND_BUILT = [
    # Together via the router (pydantic-ai's test_request_structured_response cassette, 2026): usage carries
    # `cached_tokens` beside prompt_tokens, the choice a `seed`, the answer a `prompt: []`.
    _hand_built(
        "together-cached-tokens-tool-call",
        {
            "model": "deepseek-ai/DeepSeek-R1",
            "messages": [{"role": "user", "content": "Primes?", "name": None}],
            "stream": False,
            "tools": [_TOOL],
            "tool_choice": "required",
        },
        200,
        {
            "id": "oV1",
            "object": "chat.completion",
            "created": 1,
            "model": "deepseek-ai/DeepSeek-R1",
            "prompt": [],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "seed": 1.0e19,
                    "logprobs": None,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_7q",
                                "index": 0,
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                            }
                        ],
                    },
                }
            ],
            "usage": {"cached_tokens": 4, "completion_tokens": 29, "prompt_tokens": 19, "total_tokens": 48},
        },
        _JSON,
    ),
    # pydantic-ai's image cassette (nebius, 2026): content parts carrying explicit nulls for the other part kind.
    _hand_built(
        "content-parts-with-nulls",
        {
            "model": "Qwen/Qwen2.5-VL-72B-Instruct",
            "stream": False,
            "tools": [],
            "messages": [
                {
                    "role": "user",
                    "name": None,
                    "tool_calls": None,
                    "content": [
                        {"type": "text", "text": "hello", "image_url": None},
                        {"type": "image_url", "text": None, "image_url": {"url": "https://example.com/potato.jpg"}},
                    ],
                }
            ],
        },
        200,
        {
            "id": "chatcmpl-d6",
            "object": "chat.completion",
            "created": 1,
            "model": "Qwen/Qwen2.5-VL-72B-Instruct",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "stop_reason": None,
                    "message": {
                        "role": "assistant",
                        "content": "A potato.",
                        "annotations": None,
                        "audio": None,
                        "function_call": None,
                        "reasoning_content": None,
                        "refusal": None,
                        "tool_calls": [],
                    },
                }
            ],
            "usage": {
                "prompt_tokens": 269,
                "completion_tokens": 4,
                "total_tokens": 273,
                "prompt_tokens_details": None,
                "completion_tokens_details": None,
            },
        },
        _JSON,
    ),
    # Groq (gpt-oss) streams: `reasoning` deltas, the whole tool call in one chunk, and usage only inside the last
    # chunk's `x_groq` (Groq's documented stream form).
    _hand_built(
        "groq-reasoning-whole-tool-call-x-groq-usage",
        {
            "model": "openai/gpt-oss-20b:groq",
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "stream": True,
            "tools": [_TOOL],
        },
        200,
        _sse(
            {**_GROQ_CHUNK, "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]},
            {**_GROQ_CHUNK, "choices": [{"index": 0, "delta": {"reasoning": "Need the weather tool."}}]},
            {
                **_GROQ_CHUNK,
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {
                                    "id": "fc_1",
                                    "index": 0,
                                    "type": "function",
                                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                                }
                            ]
                        },
                    }
                ],
            },
            {
                **_GROQ_CHUNK,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
                "x_groq": {
                    "id": "req_1",
                    "usage": {
                        "queue_time": 0.1,
                        "prompt_tokens": 80,
                        "completion_tokens": 20,
                        "total_tokens": 100,
                        "total_time": 0.03,
                    },
                },
            },
        ),
        {"content-type": "text/event-stream", "x-inference-provider": "groq"},
    ),
    # The router answers 410 for a model a provider retired ("The requested model is deprecated and no longer
    # supported by provider 'cerebras'."): the model is not found there, not a malformed request.
    _hand_built(
        "gone-model-410",
        {
            "model": "meta-llama/Llama-3.3-70B-Instruct:cerebras",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": False,
        },
        410,
        {"error": "The requested model is deprecated and no longer supported by provider 'cerebras'."},
        _JSON,
    ),
]


@pytest.mark.parametrize("interaction", HAND_BUILT)
def test_hand_built_dialect_replay(
    interaction: Interaction, serve_recording: Callable[[Interaction], LoopbackServer]
) -> None:
    """Dialects of real traffic outside ``shared/``, replayed exactly like the recordings."""
    server = serve_recording(interaction)
    replay, comparable = _prepare(interaction, server.url)
    outcome: AIMessage | ModelError
    try:
        outcome = _run_sync(replay)
    except ModelError as exc:
        outcome = exc
    _verify(interaction, server, outcome, comparable)


def test_every_cassette_is_readable() -> None:
    """A cassette the loader cannot read would silently drop its interactions from the replay."""
    assert unreadable_cassettes() == ()


def test_recordings_hold_chat_traffic() -> None:
    """Guard against a silently empty replay: the shared folder holds chat recordings of both kinds."""
    if recordings_root() != SHARED:
        pytest.skip("HFSERVERLESS_RECORDINGS names another folder: its content is its own")
    posts = _chat_posts()
    assert any(i.request_json() and i.request_json().get("stream") for i in posts)
    assert any(i.request_json() and not i.request_json().get("stream") for i in posts)
