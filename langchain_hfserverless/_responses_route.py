"""The Responses API route of ``ChatHFServerless`` (``use_responses_api=True``): its request, answer and stream.

The router serves OpenAI's Responses API at ``POST {router}/v1/responses`` (beta; the open-source server behind it is
huggingface/responses.js, which translates each call into chat completions upstream). ``ChatHFServerless``'s own two
plans run this route (see :func:`api`), so it shares all of the chat route's machinery: the transport routes,
authenticates, retries and raises typed errors; ``_wire.fallback`` and the catalog decide which provider to ask and
when to ask the next; cost is added the same way. ``_wire.responses_api`` maps messages, tools and answers. Only the
URL, the body and the reading of the answer differ.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from langchain_hfserverless._plan import Open, Plan
from langchain_hfserverless._transport import ChatRequest, Reply, Route
from langchain_hfserverless._wire.fallback import Attempt
from langchain_hfserverless._wire.responses_api import (
    ResponsesStreamState,
    chat_result_from_response,
    to_responses_request,
)
from langchain_hfserverless._wire.routing import split_model
from langchain_hfserverless.errors import HFServerlessAPIError

if TYPE_CHECKING:
    from langchain_hfserverless.chat_models import ChatHFServerless

# Chat-completions fields the Responses API has no place for: refused rather than silently dropped (responses.js
# and the router strip unknown keys without a word).
NOT_IN_RESPONSES = ("stop", "seed", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs")
_SAMPLING_FIELDS = ("temperature", "top_p", "max_tokens")
_CALL_ONLY = frozenset({"model", "model_name", "stream", "stream_usage"})


def responses_url(url: str) -> str:
    """A server root, its ``/v1``, its chat URL or the full Responses URL -> ``…/v1/responses``."""
    root = url.rstrip("/")
    if root.endswith("/responses"):
        return root
    if root.endswith("/chat/completions"):
        return root[: -len("/chat/completions")] + "/responses"
    if root.endswith("/v1"):
        return f"{root}/responses"
    return f"{root}/v1/responses"


def _route_request(llm: ChatHFServerless, model: str | None, attempt: Attempt) -> ChatRequest:
    """The Responses API lives on the router only: an explicit provider goes there as ``model:provider`` (never to
    the provider's own chat URL, which has no ``/v1/responses``)."""
    if attempt.provider is not None:
        return llm._route_request(model, attempt)
    if llm.base_url or not model or llm.provider in (None, "auto") or split_model(model or "")[1]:
        return ChatRequest(model)  # a conflicting suffix and provider= still raise in the transport
    return ChatRequest(f"{model}:{llm.provider}", provider="auto")


def _request(
    llm: ChatHFServerless,
    messages: list[BaseMessage],
    stop: list[str] | None,
    kwargs: Mapping[str, Any],
    *,
    stream: bool,
    attempt: Attempt,
) -> Plan[tuple[Route, dict[str, Any]]]:
    """Route and ``/v1/responses`` body: what the user set on the model, then ``model_kwargs``, call-time keys last."""
    kwargs = dict(kwargs)
    model = kwargs.pop("model", None) or kwargs.pop("model_name", None) or llm.model
    params: dict[str, Any] = {name: getattr(llm, name) for name in (*_SAMPLING_FIELDS, *NOT_IN_RESPONSES)}
    params["stop"] = stop if stop is not None else llm.stop
    params.update(llm.model_kwargs)
    params.update({k: v for k, v in kwargs.items() if k not in _CALL_ONLY})
    params = {k: v for k, v in params.items() if v is not None and v != []}
    refused = sorted(k for k in params if k in NOT_IN_RESPONSES)
    if refused:
        raise ValueError(
            f"{refused} cannot be sent to the Responses API, which has no such parameters: unset them, or use the "
            "chat route (use_responses_api=False)."
        )
    if "max_tokens" in params:
        params.setdefault("max_output_tokens", params.pop("max_tokens"))
    effort = params.pop("reasoning_effort", None) or getattr(llm, "reasoning_effort", None)
    route: Route = yield Open(_route_request(llm, model, attempt))
    route = replace(route, url=responses_url(llm.base_url or route.url))
    body = to_responses_request(
        messages,
        model=route.model or "",  # responses.js requires the key; a base_url server may ignore it
        tools=params.pop("tools", None),
        tool_choice=params.pop("tool_choice", None),
        response_format=params.pop("response_format", None),
        reasoning_effort=effort,
        stream=stream,
        **params,
    )
    return route, body


def _result(llm: ChatHFServerless, reply: Reply, route: Route) -> ChatResult:
    """The answer read by the wire layer, which also raises the typed error of a failed response sent as HTTP 200."""
    data = reply.json()
    try:
        return chat_result_from_response(
            data,
            llm._served_headers(reply.headers, route),
            model=route.model,
            provider=route.provider,
            output_version=llm.output_version,
        )
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise HFServerlessAPIError(
            f"Unreadable Responses answer from model {route.model!r} via {route.provider!r} at {route.url}: {exc}",
            model=route.model,
            provider=route.provider,
        ) from None


class StreamState(Protocol):
    def chunk_from_event(self, event: Any) -> ChatGenerationChunk | None: ...

    def final_chunk(self, headers: Mapping[str, str]) -> ChatGenerationChunk: ...


class RouteApi(NamedTuple):
    """What a chat route does its own way; ``ChatHFServerless``'s two plans do the rest (fallback, cost, chunks)."""

    request: Callable[..., Plan[tuple[Route, dict[str, Any]]]]
    """``(messages, stop, kwargs, *, stream, attempt)`` -> the route and body of one attempt."""
    result: Callable[[Reply, Route], ChatResult]
    """A whole answer read (its typed error raised)."""
    stream_state: Callable[[Route], StreamState]
    """A fresh reader of one attempt's stream events."""


def api(llm: ChatHFServerless) -> RouteApi:
    """The Responses route of ``llm``."""
    return RouteApi(
        functools.partial(_request, llm),
        functools.partial(_result, llm),
        lambda route: ResponsesStreamState(
            model=route.model, provider=route.provider, output_version=llm.output_version
        ),
    )
