"""``ChatHFServerless``: the LangChain chat model for the Hugging Face Inference Providers router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import (
    BaseChatModel,
    LangSmithParams,
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import AliasChoices, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from langchain_hfserverless._transport import Reply, Route, RouterTransport, StreamMeta
from langchain_hfserverless._wire.errors import error_from_event
from langchain_hfserverless._wire.messages import to_wire_messages
from langchain_hfserverless._wire.responses import chat_result_from_wire
from langchain_hfserverless._wire.sse import is_error_event
from langchain_hfserverless._wire.stream import ChatStreamState
from langchain_hfserverless._wire.tools import tool_choice_to_wire, tools_to_wire
from langchain_hfserverless.errors import HFServerlessAPIError

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
)
# Model fields a call may override that are not body keys.
_CALL_ONLY = frozenset({"model", "model_name", "stream", "stream_options"})


class ChatHFServerless(BaseChatModel):
    """Chat model on the Hugging Face router (Inference Providers), a dedicated Endpoint, TGI or vLLM.

    The request carries exactly what you set — no sampling defaults are injected — plus any call-time keyword
    (``response_format``, ``tool_prompt``, provider extras) as given. Answers from every provider dialect come
    back the same way: content, ``tool_calls``, reasoning in ``additional_kwargs["reasoning_content"]``, the final
    ``usage_metadata``, and ``response_metadata["inference_provider"]`` naming who served the request.

    Example:
        .. code-block:: python

            from langchain_hfserverless import ChatHFServerless

            llm = ChatHFServerless(model="meta-llama/Llama-3.1-8B-Instruct", max_tokens=64)
            print(llm.invoke("Say hello in French.").content)
    """

    model_config = ConfigDict(populate_by_name=True)

    model: str | None = Field(default=None, alias="model_name")
    """Hub model id; may end in ``:provider``, ``:fastest`` or ``:cheapest``. Optional with ``base_url``."""
    provider: str = "auto"
    """``"auto"`` lets the router choose (your preference order on hf.co); or a provider name."""
    base_url: str | None = None
    """A dedicated Inference Endpoint, TGI or vLLM server (root or ``/v1``). No Hub request is made."""
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "hf_token", "huggingfacehub_api_token")
    )
    """Token; else ``HF_TOKEN``, else the saved ``hf auth login``. The ambient token never goes to a
    non-Hugging-Face ``base_url``; an explicit one does."""
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] | str | None = Field(default=None, alias="stop_sequences")
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    timeout: float | None = 120.0
    """Seconds for one request (``None``: no limit)."""
    max_retries: int = 2
    """Retries of 429, 502, 503, 504 and connection failures, honouring ``Retry-After`` / ``estimated_time``."""
    streaming: bool = False
    """Stream under ``invoke`` too."""
    stream_usage: bool = True
    """Ask for usage when streaming (``stream_options.include_usage``)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra body keys sent with every request."""
    default_headers: dict[str, str] | None = Field(default=None, repr=False)
    bill_to: str | None = None
    """Organisation billed for the request (``X-HF-Bill-To``)."""
    use_cache: bool | None = None
    """``False`` sends ``x-use-cache: false``."""
    wait_for_model: bool | None = None
    """``True`` sends ``x-wait-for-model: true``: hold while a cold model loads instead of a 503."""

    _transport_instance: RouterTransport | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_target(self) -> ChatHFServerless:
        if not self.model and not self.base_url:
            raise ValueError("ChatHFServerless needs model= (a Hub model id) or base_url= (your own server).")
        if self.streaming and self.disable_streaming is True:
            raise ValueError("streaming=True contradicts disable_streaming=True: keep one.")
        return self

    # ------------------------------------------------------------------ LangChain plumbing

    @property
    def _llm_type(self) -> str:
        return "chat-hfserverless"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "HF_TOKEN"}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_hfserverless", "chat_models"]

    @property
    def model_name(self) -> str | None:
        return self.model

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params = {"model": self.model, "provider": self.provider, "base_url": self.base_url}
        params.update({name: getattr(self, name) for name in _BODY_FIELDS})
        params["stop"] = self.stop
        params["model_kwargs"] = self.model_kwargs
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="huggingface",
            ls_model_name=kwargs.get("model") or self.model or "",
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stop = stop or kwargs.get("stop") or self.stop
        if stop:
            params["ls_stop"] = [stop] if isinstance(stop, str) else list(stop)
        return params

    # ------------------------------------------------------------------ request building

    @property
    def _transport(self) -> RouterTransport:
        if self._transport_instance is None:
            self._transport_instance = RouterTransport(
                api_key=self.api_key.get_secret_value() if self.api_key else None,
                provider=self.provider,
                base_url=self.base_url,
                bill_to=self.bill_to,
                use_cache=self.use_cache,
                wait_for_model=self.wait_for_model,
                default_headers=self.default_headers,
                timeout=self.timeout,
                max_retries=self.max_retries,
            )
        return self._transport_instance

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, *, stream: bool, **kwargs: Any
    ) -> tuple[Route, dict[str, Any]]:
        """Route and body: model and messages first, then only what the user set, call-time keys last."""
        model = kwargs.pop("model", None) or kwargs.pop("model_name", None) or self.model
        route = self._transport.chat_route(model)
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
        body["stream"] = stream
        if stream and self.stream_usage and "stream_options" not in body:
            body["stream_options"] = {"include_usage": True}
        return route, body

    @staticmethod
    def _result(reply: Reply, route: Route) -> ChatResult:
        data = reply.json()
        if is_error_event(data):
            raise error_from_event(data, model=route.model, provider=route.provider)
        try:
            return chat_result_from_wire(data, reply.headers)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise HFServerlessAPIError(
                f"Unreadable answer from model {route.model!r} via {route.provider!r}: {exc}",
                model=route.model,
                provider=route.provider,
            ) from None

    # ------------------------------------------------------------------ calls

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
        route, body = self._request(messages, stop, stream=False, **kwargs)
        return self._result(self._transport.post(route, body), route)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))
        route, body = self._request(messages, stop, stream=False, **kwargs)
        return self._result(await self._transport.apost(route, body), route)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        route, body = self._request(messages, stop, stream=True, **kwargs)
        state, meta = ChatStreamState(), StreamMeta()
        for event in self._transport.stream(route, body, meta):
            chunk = state.chunk_from_event(event)
            if chunk is not None:
                if run_manager:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        yield state.final_chunk(meta.headers)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        route, body = self._request(messages, stop, stream=True, **kwargs)
        state, meta = ChatStreamState(), StreamMeta()
        async for event in self._transport.astream(route, body, meta):
            chunk = state.chunk_from_event(event)
            if chunk is not None:
                if run_manager:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        yield state.final_chunk(meta.headers)

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
                ``True`` (the single bound tool), or an OpenAI ``tool_choice`` dict passed through.
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
