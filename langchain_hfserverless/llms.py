"""``HFServerlessLLM``: text generation (completion) on the Hugging Face router, an Inference Endpoint or TGI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManager, CallbackManagerForLLMRun
from langchain_core.language_models.llms import BaseLLM, LangSmithParams
from langchain_core.messages import BaseMessage, HumanMessage, get_buffer_string
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import ContextThreadPoolExecutor
from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator

from langchain_hfserverless._connection import HFConnection
from langchain_hfserverless._plan import (
    END,
    Close,
    Events,
    Invoke,
    Next,
    Open,
    Plan,
    Post,
    Relay,
    arun,
    astream,
    run,
    stream,
)
from langchain_hfserverless._serializable import RouterModel
from langchain_hfserverless._tokens import TokenCounting
from langchain_hfserverless._transport import Reply, Route, StreamMeta, TaskRequest
from langchain_hfserverless._wire.completions import (
    OPENAI,
    Candidate,
    UnsupportedParameters,
    candidates,
    names_other_form,
    no_route_hint,
    openai_body,
    url_for,
)
from langchain_hfserverless._wire.errors import error_from_event
from langchain_hfserverless._wire.headers import header
from langchain_hfserverless._wire.sse import is_error_event
from langchain_hfserverless._wire.text_generation import (
    PARAMETER_FIELDS,
    StopTrimmer,
    TextStreamState,
    UnreadableAnswer,
    chat_fallback_params,
    generation_from_wire,
    is_chat_only_message,
    stop_list,
    trim_at_stop,
)
from langchain_hfserverless.chat_models import ChatHFServerless
from langchain_hfserverless.errors import HFServerlessAPIError, HFServerlessError, HFServerlessInvalidRequestError

_TASK = "text-generation"


class HFServerlessLLM(HFConnection, RouterModel, TokenCounting, BaseLLM):
    """Text generation for base models, on the router or your own server: TGI's ``{"inputs", "parameters"}`` or
    OpenAI completions (``{"prompt", "max_tokens", ...}``: vLLM, SGLang, llama.cpp, TGI's ``/v1/completions``).

    The form follows ``base_url`` (see its doc); a server root or ``/v1`` is learned from the first answer and kept.
    Only the parameters you set are sent (in the OpenAI form ``max_new_tokens`` is ``max_tokens``). Stop
    sequences are sent and also cut client-side (TGI leaves the stop string in its text). ``generation_info``
    carries ``finish_reason``, ``usage``, ``logprobs`` (OpenAI form), TGI's ``seed`` and ``generated_tokens`` and,
    with ``details=True``, the token ``details``. A model the router serves only as chat raises a clear error, or
    with ``fallback_to_chat=True`` runs the prompt as one user message on the chat route
    (``generation_info["fallback"] == "chat"``). ``get_num_tokens`` counts with the model's own tokenizer,
    without transformers (see ``tokenizer``).

    Example:
        .. code-block:: python

            from langchain_hfserverless import HFServerlessLLM

            llm = HFServerlessLLM(model="openai-community/gpt2", provider="hf-inference", max_new_tokens=20)
            print(llm.invoke("The capital of France is", stop=["."]))

            local = HFServerlessLLM(base_url="http://localhost:8000/v1/completions", max_new_tokens=20)
    """

    lc_module: ClassVar[str] = "llms"

    model_config = ConfigDict(populate_by_name=True)

    model: str | None = None
    """Hub model id; may end in ``:provider``. Optional with ``base_url``."""
    base_url: str | None = None
    """Your own server (TGI, vLLM, SGLang, llama.cpp, an Inference Endpoint); no Hub request. ``…/v1/completions``
    gets OpenAI completions, ``…/generate`` / ``…/generate_stream`` TGI's form. A server root tries TGI's form there,
    then OpenAI at ``/v1/completions``; a ``…/v1`` the reverse; another path TGI's form, then OpenAI's on it. The next
    form is tried only on a 404/405 or a refusal saying the other form's field (``prompt``/``inputs``) is missing."""
    max_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    seed: int | None = None
    stop: list[str] | str | None = None
    return_full_text: bool | None = None
    do_sample: bool | None = None
    watermark: bool | None = None
    details: bool | None = None
    """Ask for token details (ids, logprobs); they arrive in ``generation_info["details"]``."""
    grammar: dict[str, Any] | None = None
    """TGI guided generation: ``{"type": "json", "value": <JSON schema>}`` or ``{"type": "regex", "value": ...}``."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Further ``parameters`` keys (``truncate``, ``typical_p``, ``best_of``, ...), sent as given; a key that is
    a field here raises."""
    fallback_to_chat: bool = False
    """When the model is served only as chat, send the prompt as one user message on the chat route."""
    max_concurrency: int = Field(default=8, gt=0)
    """Prompts of one ``batch``/``generate`` call in flight at once (threads in sync, tasks in async)."""

    numeric_bounds = {
        "max_new_tokens": {"ge": 1},
        "temperature": {"ge": 0},
        "top_p": {"gt": 0, "le": 1},
        "top_k": {"ge": 1},
        "repetition_penalty": {"gt": 0},
    }

    _chat_instance: ChatHFServerless | None = PrivateAttr(default=None)
    _fallback_reason: str | None = PrivateAttr(default=None)
    _learned: Candidate | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_target(self) -> HFServerlessLLM:
        if not self.model and not self.base_url:
            raise ValueError("HFServerlessLLM needs model= (a Hub model id) or base_url= (your own server).")
        return self

    @field_validator("grammar")
    @classmethod
    def _check_grammar(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not ({"type", "value"} <= value.keys()):
            raise ValueError(
                "grammar must be {'type': 'json', 'value': <JSON schema>} or {'type': 'regex', 'value': <regex>}."
            )
        return value

    # ------------------------------------------------------------------ LangChain plumbing

    @property
    def _llm_type(self) -> str:
        return "hfserverless-llm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "provider": self.provider, "base_url": self.base_url}
        params.update({name: getattr(self, name) for name in PARAMETER_FIELDS})
        params["stop"] = self.stop
        params["model_kwargs"] = self.model_kwargs
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return self._ls_params(
            "llm",
            self.model or "",
            kwargs.get("temperature", self.temperature),
            kwargs.get("max_new_tokens", self.max_new_tokens),
            stop_list(stop if stop is not None else self.stop),
        )

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Sequence[Any] | None = None) -> int:
        """Tokens of the prompt an LLM makes of messages (``Human: ...`` lines, as langchain-core joins them)."""
        return self.get_num_tokens(get_buffer_string(messages))

    # ------------------------------------------------------------------ request building

    def _parameters(self, stop: list[str] | None, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The set fields, the stop list, ``model_kwargs`` as given, then call-time keywords."""
        params = {name: getattr(self, name) for name in PARAMETER_FIELDS if getattr(self, name) is not None}
        stops = stop_list(stop if stop is not None else self.stop)
        if stops is not None:
            params["stop"] = stops
        params.update(self.model_kwargs)
        params.update({k: v for k, v in kwargs.items() if v is not None})
        return params

    def _open(self, prompt: str, params: dict[str, Any], stream: bool) -> Open:
        return Open(TaskRequest(_TASK, self.model, prompt, params, {"stream": stream}))

    @staticmethod
    def _served_by(headers: Mapping[str, str], route: Route) -> dict[str, Any]:
        provider = header(headers, "x-inference-provider")
        return {"inference_provider": provider or route.provider}

    def _generation(self, sent: _Sent, prompt: str, params: Mapping[str, Any]) -> Generation:
        reply: Reply = sent.answer
        route = sent.route
        data = reply.json()
        if is_error_event(data):
            raise error_from_event(data, model=route.model, provider=route.provider)
        try:
            text, info = generation_from_wire(data)
        except UnreadableAnswer as exc:
            raise HFServerlessAPIError(
                f"Unreadable text-generation answer from model {route.model!r} via {route.provider!r}: {exc}",
                model=route.model,
                provider=route.provider,
            ) from None
        if sent.echo:
            text = prompt + text
        text, hit = _trim(text, prompt, params)
        if hit and info.get("finish_reason") in (None, "length", "eos_token"):
            info["finish_reason"] = "stop_sequence"
        info.update(self._served_by(reply.headers, route))
        return Generation(text=text, generation_info=info)

    def _switch_to_chat(self, exc: HFServerlessError) -> bool:
        """True when ``exc`` says "chat only" and the fallback is on; raises a clear error when it is off."""
        message = str(exc)
        if not is_chat_only_message(message):
            return False
        if not self.fallback_to_chat:
            raise exc.reworded(
                f"Model {self.model!r} is served as a chat (conversational) model only, not for text-generation "
                f"(via provider {exc.provider or self.provider!r}): {exc.server_message or message}. Use "
                "ChatHFServerless, or HFServerlessLLM(..., fallback_to_chat=True) to send the prompt as one user "
                "message on the chat route.",
                model=self.model,
            ) from exc
        self._fallback_reason = exc.server_message or message
        return True

    # ------------------------------------------------------------------ the dialect of a base_url

    def _send_plan(self, prompt: str, params: dict[str, Any], stream: bool, meta: StreamMeta | None) -> Plan[_Sent]:
        """Route, send and (streaming) read the first event. On the router the helper's body goes as prepared.
        On a ``base_url`` each candidate form is tried in turn until one is not refused as the wrong form; the
        one that answered is kept for every later call."""
        route: Route = yield self._open(prompt, params, stream)
        options = [self._learned] if self._learned else candidates(self.base_url) if self.base_url else [None]
        tried: list[str] = []
        for position, candidate in enumerate(options):
            target, body = route, None
            if candidate is not None:
                target = replace(route, url=url_for(candidate, stream))
                if candidate.dialect == OPENAI:
                    body = self._openai_body(target, prompt, params, stream)
            tried.append(target.url)
            try:
                if stream:
                    events = yield Events(target, body, meta)
                    answer: Any = (events, (yield Next(events)))  # HTTP errors surface at the first event
                else:
                    answer = yield Post(target, body)
            except HFServerlessError as exc:
                following = options[position + 1] if position + 1 < len(options) else None
                if candidate is None or following is None:
                    raise self._no_route(exc, target, tried) from None
                words = exc.server_message or str(exc)
                if is_chat_only_message(words) or not names_other_form(exc.status_code, words, candidate, following):
                    raise
                continue
            self._learned = candidate
            echo = candidate is not None and candidate.dialect == OPENAI and bool(params.get("return_full_text"))
            return _Sent(target, answer, echo)
        raise AssertionError("unreachable: the last candidate returns or raises")

    def _openai_body(self, route: Route, prompt: str, params: Mapping[str, Any], stream: bool) -> dict[str, Any]:
        try:
            return openai_body(prompt, params, model=self.model, stream=stream)
        except UnsupportedParameters as exc:
            raise HFServerlessInvalidRequestError(
                f"{route.url} speaks OpenAI completions, which have no {exc}: that is TGI-only (its /generate "
                "route). Unset it, or pass the engine's own key in model_kwargs (vLLM: structured_outputs, "
                "llama.cpp: json_schema).",
                model=self.model,
                provider=route.provider,
            ) from None

    def _no_route(self, exc: HFServerlessError, route: Route, tried: list[str]) -> HFServerlessError:
        """``exc``, or when several routes were tried and none exists, the error that names them all."""
        if len(tried) < 2 or exc.status_code not in (404, 405):
            return exc
        return exc.reworded(
            f"HTTP {exc.status_code} from {route.url} (base_url {self.base_url!r}, model {self.model!r}): "
            f"{exc.server_message or 'Not Found'}. {no_route_hint(tried)}",
            model=self.model,
        )

    def _guessing(self) -> bool:
        """True while a ``base_url``'s form is still one of several candidates."""
        return self._learned is None and bool(self.base_url) and len(candidates(self.base_url or "")) > 1

    # ------------------------------------------------------------------ chat fallback

    @property
    def _chat(self) -> ChatHFServerless:
        if self._chat_instance is None:
            self._chat_instance = ChatHFServerless(model=self.model, **self._connection_settings())
        return self._chat_instance

    def _chat_body(self, params: Mapping[str, Any]) -> dict[str, Any]:
        body, unmapped = chat_fallback_params(params)
        if unmapped:
            raise HFServerlessInvalidRequestError(
                f"Model {self.model!r} is served as chat only, and fallback_to_chat cannot send "
                f"{', '.join(sorted(unmapped))}: chat completions have no such parameter. Unset them, or use "
                "ChatHFServerless directly.",
                model=self.model,
                provider=self.provider,
            )
        return body

    def _chat_info(self, message: BaseMessage) -> dict[str, Any]:
        meta = message.response_metadata
        info: dict[str, Any] = {
            "finish_reason": meta.get("finish_reason"),
            "fallback": "chat",
            "fallback_reason": self._fallback_reason,
        }
        for key in ("model_name", "inference_provider"):
            if meta.get(key):
                info[key] = meta[key]
        usage = getattr(message, "usage_metadata", None)
        if usage:
            info["usage"] = dict(usage)
        return info

    def _chat_generation(self, prompt: str, params: Mapping[str, Any], message: BaseMessage) -> Generation:
        text, hit = trim_at_stop(message.text, params.get("stop"))
        if params.get("return_full_text"):
            text = prompt + text
        info = self._chat_info(message)
        if hit:
            info["finish_reason"] = "stop_sequence"
        return Generation(text=text, generation_info=info)

    # ------------------------------------------------------------------ the two plans

    def _generate_plan(self, prompt: str, stop: list[str] | None, kwargs: dict, config: RunnableConfig) -> Plan[Any]:
        params = self._parameters(stop, kwargs)
        if self._fallback_reason is None:
            try:
                sent = yield from self._send_plan(prompt, params, False, None)
                return self._generation(sent, prompt, params)
            except HFServerlessError as exc:
                if not self._switch_to_chat(exc):
                    raise
        relay = _ChatRelay(self, prompt, params)
        message = yield Invoke(self._chat, relay.messages, config, relay.kwargs)
        return self._chat_generation(prompt, params, message)

    def _stream_plan(self, prompt: str, stop: list[str] | None, kwargs: dict, config: RunnableConfig) -> Plan[None]:
        params = self._parameters(stop, kwargs)
        if self._fallback_reason is None:
            meta = StreamMeta()
            try:
                sent = yield from self._send_plan(prompt, params, True, meta)
            except HFServerlessError as exc:
                if not self._switch_to_chat(exc):
                    raise
            else:
                route, (events, event) = sent.route, sent.answer
                if sent.echo:  # OpenAI servers ignore or mangle echo: the prompt is ours to give back
                    yield GenerationChunk(text=prompt)
                state, pull = TextStreamState(params.get("stop")), Next(events)
                while event is not END and not state.stopped:
                    chunk = _chunk(state.text_from_event(event))
                    if chunk is not None:
                        yield chunk
                    event = yield pull
                yield Close(events)
                yield self._final_chunk(state, meta, route)
                return
        # The chat fallback runs through the chat model's public stream: its callbacks, cache and rate limiter apply.
        relay = _ChatRelay(self, prompt, params)
        chunks = yield Relay(self._chat, relay.messages, config, relay.kwargs)
        pull = Next(chunks)
        while (message := (yield pull)) is not END:
            chunk = relay.chunk(message)
            if chunk is not None:
                yield chunk
            if relay.stopped:
                break
        yield Close(chunks)
        yield relay.final()

    # ------------------------------------------------------------------ the shells

    def _generate_one(
        self, prompt: str, stop: list[str] | None, run_manager: CallbackManagerForLLMRun | None, kwargs: dict
    ) -> Generation:
        plan = self._generate_plan(prompt, stop, kwargs, _child_config(run_manager))
        return run(plan, self._transport.handlers)  # type: ignore[no-any-return]

    async def _agenerate_one(
        self, prompt: str, stop: list[str] | None, run_manager: AsyncCallbackManagerForLLMRun | None, kwargs: dict
    ) -> Generation:
        plan = self._generate_plan(prompt, stop, kwargs, _child_config(run_manager))
        return await arun(plan, self._transport.async_handlers)  # type: ignore[no-any-return]

    def _result(self, generations: list[Generation]) -> LLMResult:
        return LLMResult(generations=[[g] for g in generations], llm_output={"model_name": self.model})

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        # While a base_url's form is a guess, the first prompt finds it alone; the others then follow it.
        first = [self._generate_one(prompts[0], stop, run_manager, kwargs)] if self._guessing() else []
        rest = prompts[len(first) :]
        if len(rest) <= 1:
            return self._result(first + [self._generate_one(p, stop, run_manager, kwargs) for p in rest])
        with ContextThreadPoolExecutor(max_workers=min(self.max_concurrency, len(rest))) as pool:
            futures = [pool.submit(self._generate_one, p, stop, run_manager, kwargs) for p in rest]
            return self._result(first + [f.result() for f in futures])

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        limit = asyncio.Semaphore(self.max_concurrency)

        async def one(prompt: str) -> Generation:
            async with limit:
                return await self._agenerate_one(prompt, stop, run_manager, kwargs)

        first = [await one(prompts[0])] if self._guessing() else []
        tasks = [asyncio.ensure_future(one(p)) for p in prompts[len(first) :]]
        try:
            return self._result(first + list(await asyncio.gather(*tasks)))
        finally:
            for task in tasks:
                task.cancel()

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        plan = self._stream_plan(prompt, stop, kwargs, _child_config(run_manager))
        for chunk in stream(plan, self._transport.handlers):
            if run_manager and chunk.text:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        plan = self._stream_plan(prompt, stop, kwargs, _child_config(run_manager))
        async for chunk in astream(plan, self._transport.async_handlers):
            if run_manager and chunk.text:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    def _final_chunk(self, state: TextStreamState, meta: StreamMeta, route: Route) -> GenerationChunk:
        info = state.final_info()
        info.update(self._served_by(meta.headers, route))
        return GenerationChunk(text=state.flush(), generation_info=info)


class _Sent:
    """A request that went out: where, the answer (a ``Reply``, or a stream and its first event), and whether
    the prompt is to be given back client-side (``return_full_text`` on an OpenAI server)."""

    __slots__ = ("answer", "echo", "route")

    def __init__(self, route: Route, answer: Any, echo: bool) -> None:
        self.route, self.answer, self.echo = route, answer, echo


def _child_config(run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None) -> RunnableConfig:
    """The config of the chat fallback's run: a child of this run, so tracing nests it and callbacks see it."""
    if run_manager is None:
        return RunnableConfig()
    child = CallbackManager(handlers=[], parent_run_id=run_manager.run_id)
    child.set_handlers(run_manager.inheritable_handlers)
    child.add_tags(run_manager.inheritable_tags)
    child.add_metadata(run_manager.inheritable_metadata)
    return RunnableConfig(callbacks=child)


class _ChatRelay:
    """The chat fallback's stream as text chunks: the prompt first with ``return_full_text``, stop sequences cut,
    and the last chat chunk (finish_reason, usage, provider) kept for the final chunk's ``generation_info``."""

    def __init__(self, llm: HFServerlessLLM, prompt: str, params: Mapping[str, Any]) -> None:
        self._llm = llm
        self.messages: list[BaseMessage] = [HumanMessage(prompt)]
        stop: list[str] | None = params.get("stop") or None
        self.kwargs = {"stop": stop, **llm._chat_body(params)}
        self._trimmer = StopTrimmer(stop)
        self._prefix = prompt if params.get("return_full_text") else ""
        self._last: BaseMessage | None = None

    @property
    def stopped(self) -> bool:
        return self._trimmer.stopped

    def chunk(self, message: BaseMessage) -> GenerationChunk | None:
        self._last = message
        text, self._prefix = self._prefix + self._trimmer.feed(message.text), ""
        return _chunk(text)

    def final(self) -> GenerationChunk:
        last = self._last
        info = self._llm._chat_info(last) if last else {"fallback": "chat"}
        if self.stopped:
            info["finish_reason"] = "stop_sequence"
        return GenerationChunk(text=self._prefix + self._trimmer.flush(), generation_info=info)


def _chunk(text: str) -> GenerationChunk | None:
    return GenerationChunk(text=text) if text else None


def _trim(text: str, prompt: str, params: Mapping[str, Any]) -> tuple[str, bool]:
    """Cut at a stop sequence, in the generated part only (``return_full_text`` echoes the prompt first)."""
    stops = params.get("stop")
    if not stops:
        return text, False
    head = prompt if params.get("return_full_text") and text.startswith(prompt) else ""
    tail, hit = trim_at_stop(text[len(head) :], stops)
    return head + tail, hit
