"""``ChatHFServerless``: the LangChain chat model for the Hugging Face Inference Providers router."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput, ModelProfile
from langchain_core.language_models.chat_models import (
    BaseChatModel,
    LangSmithParams,
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from pydantic import AliasChoices, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from langchain_hfserverless import _responses_route
from langchain_hfserverless._catalog_cache import LoadCatalog, cached_catalog
from langchain_hfserverless._connection import HFConnection
from langchain_hfserverless._plan import END, Events, Next, Open, Plan, Post, arun, astream, run, stream
from langchain_hfserverless._responses_route import RouteApi
from langchain_hfserverless._serializable import RouterModel
from langchain_hfserverless._tokens import TokenCounting
from langchain_hfserverless._transport import ChatRequest, Reply, Route, StreamMeta
from langchain_hfserverless._wire.capability import REASONING_EFFORTS, cost_metadata, request_needs, routing_policy
from langchain_hfserverless._wire.catalog import Catalog, choose_provider, model_profile
from langchain_hfserverless._wire.errors import error_from_event
from langchain_hfserverless._wire.fallback import Attempt, FallbackPlan, capable_order
from langchain_hfserverless._wire.headers import header
from langchain_hfserverless._wire.messages import to_wire_messages
from langchain_hfserverless._wire.response_format import (
    JSON_OBJECT_FORMAT,
    METHODS,
    Dialect,
    json_schema_format,
    structured_output_parser,
    to_dialect,
)
from langchain_hfserverless._wire.responses import chat_result_from_wire
from langchain_hfserverless._wire.routing import ROUTING_SUFFIXES, split_model
from langchain_hfserverless._wire.sse import is_error_event
from langchain_hfserverless._wire.stream import ChatStreamState
from langchain_hfserverless._wire.tools import tool_choice_to_wire, tools_to_wire
from langchain_hfserverless.errors import HFServerlessAPIError, HFServerlessError

# Model fields that are chat-completions body keys, sent only when the user set them.
_BODY_FIELDS = (
    "temperature",
    "max_tokens",
    "top_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
)
# Model fields a call may override that are not body keys.
_CALL_ONLY = frozenset({"model", "model_name", "stream"})
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]

logger = logging.getLogger("langchain_hfserverless")


class ChatHFServerless(HFConnection, RouterModel, TokenCounting, BaseChatModel):
    """Chat model on the Hugging Face router (Inference Providers), a dedicated Endpoint, TGI or vLLM.

    The request carries exactly what you set — no sampling defaults are injected — plus any call-time keyword
    (``response_format``, ``tool_prompt``, provider extras) as given. Answers from every provider dialect come
    back the same way: content, ``tool_calls``, reasoning in ``additional_kwargs["reasoning_content"]``, the final
    ``usage_metadata``, and ``response_metadata["inference_provider"]`` naming who served the request.
    ``bind_tools`` takes any number of tools; ``with_structured_output`` parses answers into a schema; with
    ``fallback_providers`` a call the first provider cannot serve goes on to the next. ``get_num_tokens`` and
    ``get_num_tokens_from_messages`` (so ``trim_messages(token_counter=llm)``) count with the model's own
    tokenizer, without transformers (see ``tokenizer``).

    Example:
        .. code-block:: python

            from langchain_hfserverless import ChatHFServerless

            llm = ChatHFServerless(model="meta-llama/Llama-3.1-8B-Instruct", max_tokens=64)
            print(llm.invoke("Say hello in French.").content)
    """

    lc_module: ClassVar[str] = "chat_models"

    model_config = ConfigDict(populate_by_name=True)

    model: str | None = Field(default=None, validation_alias=AliasChoices("model", "model_name"))
    """Hub model id; may end in ``:provider``, ``:fastest`` or ``:cheapest``. Optional with ``base_url``."""
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | str | None = Field(default=None, validation_alias=AliasChoices("stop", "stop_sequences"))
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    streaming: bool = False
    """Stream under ``invoke`` too."""
    stream_usage: bool = True
    """Ask for usage when streaming (``stream_options.include_usage``)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra body keys sent with every request (provider-specific ones; a key that is a field here raises)."""
    fallback_providers: list[str] | None = None
    """Providers to ask, in order, when the first cannot serve the call: it rejects what the request asks for
    (tools, ``tool_choice``, ``response_format``: a 400/422 saying "not supported"), has no credit left (402),
    does not serve the model (404), or still fails after retries (429, 5xx, unreachable). Each is asked through
    the router as ``model:provider``; ``response_metadata["inference_provider"]`` names who answered. A stream
    falls back only before its first chunk. When all fail, the last error is raised, listing every provider
    tried and why. Auth errors and other bad requests are raised at once. Router only (not with ``base_url``)."""
    response_format_dialect: Literal["auto", "openai", "tgi"] = "auto"
    """How a ``response_format`` goes out. ``"openai"``: ``{"type": "json_schema", "json_schema": {...}}`` as
    the router, vLLM and recent TGI read it. ``"tgi"``: TGI's grammar form ``{"type": "json", "value": schema}``
    (``json_object`` becomes the grammar of any object). ``"auto"``: OpenAI form; a ``base_url`` server that
    rejects it as TGI does ("unknown variant `json_schema`") gets the grammar form, re-sent once and kept."""
    reasoning_effort: ReasoningEffort | None = None
    """How hard a reasoning model thinks (``"none"`` ... ``"xhigh"``), sent only when set; also a call-time
    keyword (``llm.invoke(msgs, reasoning_effort="low")``)."""
    catalog: Catalog | str | Path | None = Field(default=None, exclude=True)
    """The router's model catalog to route, profile and price with: a ``Catalog`` or the path of a snapshot
    (``langchain_hfserverless.catalog.save_catalog``), read at construction. ``None``: the process's cached
    catalog of ``router_url``, fetched when capability routing first needs it (one request per hour)."""
    capability_routing: bool = True
    """Send a request that needs tools, ``tool_choice`` or ``response_format`` to a live provider that supports
    them (per the catalog), chosen by the routing policy in force, when the model names no provider. ``False``:
    the router alone decides, as before."""

    use_responses_api: bool = False
    """Send calls to the Responses API (``POST {router}/v1/responses``, beta; or ``{base_url}/v1/responses``, the
    URL given as a root, ``/v1`` or in full) instead of chat completions: same answers, tools, structured output,
    fallback and errors, plus remote MCP tools (``{"type": "mcp", ...}`` in ``bind_tools``) run by the server. See
    the README, "Responses API"."""

    numeric_bounds = {
        "max_tokens": {"ge": 1},
        "top_logprobs": {"ge": 0},
        "temperature": {"ge": 0},
        "top_p": {"ge": 0, "le": 1},
    }

    _tgi_grammar_seen: bool = PrivateAttr(default=False)

    @field_validator("catalog", mode="before")
    @classmethod
    def _read_catalog(cls, value: Any) -> Any:
        if isinstance(value, (str, Path)):
            return Catalog.from_json(Path(value).read_bytes())
        return value

    @model_validator(mode="after")
    def _fill_profile(self) -> ChatHFServerless:
        # langchain-core >= 1.8 also calls _resolve_model_profile itself; older releases only have the field.
        if self.profile is None:
            try:
                self.profile = self._resolve_model_profile()
            except Exception:  # an optional field never fails construction (as langchain-core does)
                logger.debug("No model profile for %s", self.model, exc_info=True)
        return self

    def _resolve_model_profile(self) -> ModelProfile | None:
        """The model's profile from the catalog at hand (given, or already fetched by this process): never a
        request at construction, and nothing for a ``base_url`` server or a model the catalog does not list."""
        if self.base_url or not self.model:
            return None
        catalog = self.catalog if isinstance(self.catalog, Catalog) else cached_catalog(self.router_url.rstrip("/"))
        if catalog is None or self.model not in catalog:
            return None
        try:
            return model_profile(catalog, self.model, None if self.provider == "auto" else self.provider)
        except ValueError:  # the provider does not serve the model: nothing known
            return None

    @model_validator(mode="after")
    def _check_target(self) -> ChatHFServerless:
        if not self.model and not self.base_url:
            raise ValueError("ChatHFServerless needs model= (a Hub model id) or base_url= (your own server).")
        if self.streaming and self.disable_streaming is True:
            raise ValueError("streaming=True contradicts disable_streaming=True: keep one.")
        if self.fallback_providers:
            if self.base_url:
                raise ValueError(
                    "fallback_providers needs the Hugging Face router, but base_url points to your own server: "
                    "remove one of them."
                )
            bad = [p for p in self.fallback_providers if not isinstance(p, str) or not p.strip() or ":" in p]
            if bad:
                raise ValueError(f"fallback_providers must be provider names such as 'together', got {bad!r}.")
        return self

    # ------------------------------------------------------------------ LangChain plumbing

    @property
    def _llm_type(self) -> str:
        return "chat-hfserverless"

    @property
    def model_name(self) -> str | None:
        return self.model

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "provider": self.provider, "base_url": self.base_url}
        params.update({name: getattr(self, name) for name in _BODY_FIELDS})
        params["stop"] = self.stop
        params["model_kwargs"] = self.model_kwargs
        params["fallback_providers"] = self.fallback_providers
        params["response_format_dialect"] = self.response_format_dialect
        params["reasoning_effort"] = self.reasoning_effort
        params["capability_routing"] = self.capability_routing
        params["use_responses_api"] = self.use_responses_api
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        ls_stop = stop or kwargs.get("stop") or self.stop
        return self._ls_params(
            "chat",
            kwargs.get("model") or self.model or "",
            kwargs.get("temperature", self.temperature),
            kwargs.get("max_tokens", self.max_tokens),
            ([ls_stop] if isinstance(ls_stop, str) else list(ls_stop)) if ls_stop else None,
        )

    # ------------------------------------------------------------------ request building

    def _request(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        *,
        stream: bool,
        attempt: Attempt,
    ) -> Plan[tuple[Route, dict[str, Any]]]:
        """Route and body: model and messages first, then only what the user set, call-time keys last."""
        kwargs = dict(kwargs)
        model = self._model_of(kwargs)
        effort = kwargs.get("reasoning_effort")
        if effort is not None and effort not in REASONING_EFFORTS:
            raise ValueError(f"reasoning_effort must be one of {list(REASONING_EFFORTS)}, got {effort!r}.")
        stream_usage = kwargs.pop("stream_usage", None)
        route: Route = yield Open(self._route_request(model, attempt))
        body: dict[str, Any] = {}
        if route.model:
            body["model"] = route.model
        body["messages"] = to_wire_messages(messages)
        for name in _BODY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        stop_value = stop if stop is not None else self.stop
        if stop_value:
            body["stop"] = [stop_value] if isinstance(stop_value, str) else list(stop_value)
        body.update(self.model_kwargs)
        body.update({k: v for k, v in kwargs.items() if v is not None and k not in _CALL_ONLY})
        if "response_format" in body:
            body["response_format"] = to_dialect(body["response_format"], self._dialect(attempt))
        body["stream"] = stream
        if stream and (self.stream_usage if stream_usage is None else stream_usage) and "stream_options" not in body:
            body["stream_options"] = {"include_usage": True}
        return route, body

    def _result(self, reply: Reply, route: Route) -> ChatResult:
        data = reply.json()
        if is_error_event(data):
            raise error_from_event(data, model=route.model, provider=route.provider)
        try:
            return chat_result_from_wire(data, self._served_headers(reply.headers, route))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise HFServerlessAPIError(
                f"Unreadable answer from model {route.model!r} via {route.provider!r}: {exc}",
                model=route.model,
                provider=route.provider,
            ) from None

    # ------------------------------------------------------------------ provider fallback and dialects

    @staticmethod
    def _route_request(model: str | None, attempt: Attempt) -> ChatRequest:
        """The configured route, or the router's ``model:provider`` route of a fallback attempt."""
        if attempt.provider is None:
            return ChatRequest(model)
        bare, _ = split_model(model or "")
        return ChatRequest(bare if attempt.provider == "auto" else f"{bare}:{attempt.provider}", provider="auto")

    def _dialect(self, attempt: Attempt | None = None) -> Dialect:
        if self.response_format_dialect != "auto":
            return self.response_format_dialect
        grammar = self._tgi_grammar_seen or (attempt is not None and attempt.grammar)
        return "tgi" if grammar else "openai"

    def _model_of(self, kwargs: Mapping[str, Any]) -> str | None:
        return kwargs.get("model") or kwargs.get("model_name") or self.model

    def _fallback(self, kwargs: Mapping[str, Any]) -> Plan[tuple[FallbackPlan, Catalog | None]]:
        """The attempts of one call, and the catalog at hand (for cost).

        The shared policy in ``_wire.fallback`` decides when to go on. A request that needs tools or structured
        output, on a model whose route names no provider, starts with the best capable provider of the catalog
        (fetched if need be: one request per process per hour) and falls back to the next capable one.
        """
        learn = self.base_url is not None and self.response_format_dialect == "auto" and not self._tgi_grammar_seen
        fallbacks = self._fallbacks()
        model = self._model_of(kwargs) or ""
        policy = routing_policy(model, self.provider)
        needs = request_needs({**self.model_kwargs, **kwargs})
        wanted = bool(policy and needs and self.capability_routing)
        catalog = yield from self._catalog(fetch=wanted)
        if wanted and catalog is not None and model in catalog:
            capable = choose_provider(catalog, model, needs, policy or "fastest") or []
            order = capable_order(capable, fallbacks)
            if order:
                return FallbackPlan(order[1:], learn_grammar=learn, first=Attempt(order[0])), catalog
            logger.debug("No live provider of %s supports %s: the router decides", model, sorted(needs))
        return FallbackPlan(fallbacks, learn_grammar=learn), catalog

    def _catalog(self, *, fetch: bool) -> Plan[Catalog | None]:
        """The given catalog, else the process's cached one (fetched only when ``fetch``); none for ``base_url``."""
        if self.base_url:
            return None
        if isinstance(self.catalog, Catalog):
            return self.catalog
        catalog: Catalog | None = yield LoadCatalog(fetch=fetch)
        return catalog

    def _priced(self, message: BaseMessage, catalog: Catalog | None, kwargs: Mapping[str, Any]) -> None:
        """Add the call's cost (USD) and the prices used, when the catalog prices the provider that served it."""
        model = self._model_of(kwargs)
        if catalog is None or not model:
            return
        usage = getattr(message, "usage_metadata", None)
        message.response_metadata.update(
            cost_metadata(catalog, model, message.response_metadata.get("inference_provider"), usage)
        )

    def _fallbacks(self) -> list[str]:
        """``fallback_providers`` in order, without repeats or the provider the call starts with."""
        names = dict.fromkeys(name.strip() for name in self.fallback_providers or ())
        names.pop(split_model(self.model or "")[1] or self.provider, None)
        return list(names)

    def _succeeded(self, attempt: Attempt) -> None:
        if attempt.grammar:
            self._tgi_grammar_seen = True  # this server reads only TGI grammar: send it directly from now on

    def _served_headers(self, headers: Mapping[str, str], route: Route) -> Mapping[str, str]:
        """Answer headers, with the provider we routed to when the router did not name one."""
        if self.base_url or route.provider in ("auto", *ROUTING_SUFFIXES):
            return headers
        if header(headers, "x-inference-provider"):
            return headers
        return {**headers, "x-inference-provider": route.provider}

    # ------------------------------------------------------------------ the two plans

    def _api(self) -> RouteApi:
        """What differs between the chat-completions route and the Responses route: the request, the reading of a
        whole answer, and the reading of a stream. The plans below are the same for both."""
        if self.use_responses_api:
            return _responses_route.api(self)
        return RouteApi(self._request, self._result, lambda route: ChatStreamState())

    def _invoke_plan(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> Plan[Any]:
        """One answer: each attempt routed and posted, the next provider asked when the policy says so."""
        api = self._api()
        fallback, catalog = yield from self._fallback(kwargs)
        attempt = fallback.first
        while True:
            try:
                route, body = yield from api.request(messages, stop, kwargs, stream=False, attempt=attempt)
                result = api.result((yield Post(route, body)), route)
            except HFServerlessError as exc:
                attempt = fallback.after(attempt, exc)  # raises unless another attempt is worth making
                continue
            self._succeeded(attempt)
            self._priced(result.generations[0].message, catalog, kwargs)
            return result

    def _stream_plan(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> Plan[None]:
        """Chunks as they come, then the one final chunk; falls back only before the first chunk."""
        api = self._api()
        fallback, catalog = yield from self._fallback(kwargs)
        attempt = fallback.first
        while True:
            meta, started = StreamMeta(), False
            try:
                route, body = yield from api.request(messages, stop, kwargs, stream=True, attempt=attempt)
                state = api.stream_state(route)
                pull = Next((yield Events(route, body, meta)))
                read = state.chunk_from_event
                event = yield pull
                while event is not END:
                    chunk = read(event)
                    if chunk is not None:
                        started = True
                        yield chunk
                    event = yield pull
            except HFServerlessError as exc:
                if started:  # the caller already has part of this answer: never splice in another
                    raise
                attempt = fallback.after(attempt, exc)
                continue
            self._succeeded(attempt)
            final = state.final_chunk(self._served_headers(meta.headers, route))
            self._priced(final.message, catalog, kwargs)
            yield final
            return

    # ------------------------------------------------------------------ the shells

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._streams(kwargs):
            return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
        return run(self._invoke_plan(messages, stop, kwargs), self._transport.handlers)  # type: ignore[no-any-return]

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self._streams(kwargs):
            return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))
        return await arun(self._invoke_plan(messages, stop, kwargs), self._transport.async_handlers)  # type: ignore[no-any-return]

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        kwargs.pop("stream", None)
        for chunk in stream(self._stream_plan(messages, stop, kwargs), self._transport.handlers):
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        kwargs.pop("stream", None)
        async for chunk in astream(self._stream_plan(messages, stop, kwargs), self._transport.async_handlers):
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    def _streams(self, kwargs: dict[str, Any]) -> bool:
        stream = kwargs.pop("stream", None)  # langchain-core's per-call switch, never a body key
        return self.streaming if stream is None else bool(stream)

    # ------------------------------------------------------------------ tools

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable | BaseTool],
        *,
        tool_choice: dict | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind any number of tools.

        Args:
            tools: BaseTool, functions, Pydantic models, TypedDicts or OpenAI tool dicts.
            tool_choice: ``"auto"``, ``"none"``, ``"required"`` (``"any"`` means required), a tool name,
                ``True`` (the single bound tool), ``False`` (``"none"``), or an OpenAI ``tool_choice`` dict
                passed through.
            strict: ask the provider to follow the schemas exactly (OpenAI ``strict``).
            parallel_tool_calls: allow or forbid several calls in one turn, when the provider supports it.
            **kwargs: further body keys, e.g. ``tool_prompt`` (TGI's prompt placed before the tools).
        """
        wire_tools = tools_to_wire(tools, strict=strict)
        names = [t["function"]["name"] for t in wire_tools if "function" in t]
        choice = tool_choice_to_wire(tool_choice, names)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=wire_tools, **kwargs)

    # ------------------------------------------------------------------ structured output

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable whose answers are parsed into ``schema``.

        Args:
            schema: a Pydantic (v2 or v1) model — answers come back as instances —, a TypedDict or a JSON schema
                dict with a ``title`` — answers come back as dicts. ``None`` is allowed with ``json_mode`` only.
            method: ``"json_schema"`` (default) constrains the answer with ``response_format`` (OpenAI
                ``json_schema`` on the router; TGI's grammar form per ``response_format_dialect``);
                ``"function_calling"`` forces a call to a tool made of the schema (named ``tool_choice``);
                ``"json_mode"`` asks for any JSON object (``{"type": "json_object"}``) — say the keys in the prompt.
            include_raw: return ``{"raw": AIMessage, "parsed": value | None, "parsing_error": error | None}``
                instead of raising when the answer does not parse.
            strict: ask the provider to follow the schema exactly (``json_schema``/``function_calling`` only).

        Returns:
            A runnable; under ``stream`` it yields partial values, then the complete one.

        Raises:
            OutputParserException: at call time (under ``stream``: at its end), when the answer is not complete JSON
                or does not match the schema (unless ``include_raw=True``). Reasoning (``<think>``…,
                ``reasoning_content``) is never parsed, only the answer.

        Example:
            .. code-block:: python

                from pydantic import BaseModel

                class City(BaseModel):
                    name: str
                    country: str

                llm = ChatHFServerless(model="meta-llama/Llama-3.3-70B-Instruct")
                llm.with_structured_output(City).invoke("The capital of France?")  # City(name='Paris', ...)
        """
        if kwargs:
            raise ValueError(
                f"Unsupported arguments {sorted(kwargs)}: with_structured_output takes schema, method, "
                "include_raw and strict."
            )
        if method not in METHODS:
            raise ValueError(f"Unknown method {method!r}: use one of {list(METHODS)}.")
        if schema is None and method != "json_mode":
            raise ValueError(f"method={method!r} needs a schema; only method='json_mode' works without one.")
        if strict is not None and method == "json_mode":
            raise ValueError("strict applies to method='json_schema' or 'function_calling', not 'json_mode'.")
        traced: dict[str, Any] = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        # langchain-core's parsers (as langchain-openai composes them), fed the answer without its reasoning.
        parser = structured_output_parser(schema, method=method)
        llm: Runnable[LanguageModelInput, Any]
        if method == "function_calling":
            llm = self.bind_tools(
                [schema],  # type: ignore[list-item]
                tool_choice=parser.tool_name,
                strict=strict,
                ls_structured_output_format=traced,
            )
        elif method == "json_mode":
            extra = {"ls_structured_output_format": {"kwargs": {"method": method}, "schema": schema}} if schema else {}
            llm = self.bind(response_format=dict(JSON_OBJECT_FORMAT), **extra)
        else:
            response_format = json_schema_format(schema, strict=strict)
            llm = self.bind(response_format=response_format, ls_structured_output_format=traced)
        if not include_raw:
            return llm | parser
        # As langchain-openai: a parse failure becomes parsing_error, the raw message is always kept.
        parse = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        keep_error = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks([keep_error], exception_key="parsing_error")
