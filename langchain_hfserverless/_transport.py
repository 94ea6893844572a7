"""The only module that does I/O: routing, auth, headers, retries, and pooled sync + async HTTP clients.

Every adapter (chat, LLM, embeddings, task tools) talks to Hugging Face through one :class:`RouterTransport`.
Routing and provider mapping come from huggingface_hub's provider helpers; HTTP and timeouts from httpx2;
retries from tenacity. What goes over the wire, and what comes back, is mapped by the pure ``_wire`` package.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
import orjson
from langchain_core.runnables.config import run_in_executor
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from langchain_hfserverless._attempt import Connects, Mapped, resent_if_stale
from langchain_hfserverless._catalog_cache import LoadCatalog, afetch_catalog, fetch_catalog
from langchain_hfserverless._events import EventReader, adrain, decode_line, drain, scrubbed
from langchain_hfserverless._plan import (
    ASYNC_RUNNABLE_HANDLERS,
    SYNC_RUNNABLE_HANDLERS,
    AsyncHandlers,
    Events,
    Get,
    Handlers,
    Open,
    Pause,
    Plan,
    Post,
    arun,
    retried,
    run,
)
from langchain_hfserverless._pools import pool_for
from langchain_hfserverless._provider_helpers import prepare_with_helper
from langchain_hfserverless._version import __version__
from langchain_hfserverless._wire.errors import RETRYABLE_STATUS, error_from_response
from langchain_hfserverless._wire.routing import (
    ROUTER_URL,
    ROUTING_SUFFIXES,
    chat_completions_url,
    is_hf_url,
    split_model,
)
from langchain_hfserverless._wire.sse import DONE, SSEDecoder
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessAuthenticationError,
    HFServerlessConnectionError,
    HFServerlessContextOverflowError,
    HFServerlessError,
    HFServerlessInvalidRequestError,
    HFServerlessTimeoutError,
)

logger = logging.getLogger("langchain_hfserverless")

_MAX_RETRY_WAIT = 60.0
_LIBRARY = "langchain-hfserverless"
_T = TypeVar("_T")


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx2.URL:
    """Parsing a URL string costs half of httpx2's request building; a route's URL is parsed once."""
    return httpx2.URL(url)


@dataclass(frozen=True)
class Route:
    """Where one request goes and how: the URL, the ``model`` value for the body, headers, and who serves it."""

    url: str
    model: str | None
    provider: str
    headers: Mapping[str, str] = field(repr=False)  # carries the token: never in a repr, log or traceback
    helper: Any = None
    """huggingface_hub's TaskProviderHelper when the route came from it (its ``get_response`` reads answers)."""
    payload: Any = None
    data: bytes | None = None
    method: str = "POST"
    """``"GET"`` (see :meth:`RouterTransport.fetch_route`) fetches a result URL or polls a job; no body."""
    _sent_headers: dict[bool, tuple[list[tuple[bytes, bytes]], httpx2.Headers]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """The headers a POST of this route sends (with a JSON body or not), merged with the client's once: keyed by
    whether a JSON body goes, and holding the client headers they were merged with (see ``_request``)."""


@dataclass
class Reply:
    """A successful answer, read whole."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    @classmethod
    def of(cls, response: httpx2.Response) -> Reply:
        return cls(response.status_code, response.headers, response.content)

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise HFServerlessAPIError(
                f"Expected JSON, got {self.headers.get('content-type', 'no content-type')}: {self.content[:200]!r}"
            ) from exc


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What a chat completion needs routed: the model (``model:provider`` suffixes allowed) and a provider that
    overrides the configured one."""

    model: str | None
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """What a task call needs routed and prepared (see :meth:`RouterTransport.task_route`)."""

    task: str
    model: str | None
    inputs: Any
    parameters: Mapping[str, Any] | None = None
    extra_payload: Mapping[str, Any] | None = None


@dataclass
class StreamMeta:
    """Filled in when a stream opens: the response headers (``X-Inference-Provider`` and friends)."""

    headers: dict[str, str] = field(default_factory=dict)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, HFServerlessConnectionError):
        return True
    if isinstance(exc, HFServerlessContextOverflowError):  # a proxy's 502/503 around an overflow: it would fail alike
        return False
    return isinstance(exc, HFServerlessError) and exc.status_code in RETRYABLE_STATUS


def _wait(backoff: Callable[[RetryCallState], float]) -> Callable[[RetryCallState], float]:
    def wait(retry_state: RetryCallState) -> float:  # tenacity 8 passes it by this keyword
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            return min(float(asked), _MAX_RETRY_WAIT)
        return backoff(retry_state)

    return wait


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    logger.warning("Retrying after attempt %d: %s", state.attempt_number, exc)


class RouterTransport:
    """Routing, auth, retries and pooled clients for one model configuration.

    Args:
        api_key: an explicit token; always sent, to any URL.
        provider: ``"auto"`` (router picks) or a provider name; ``model:provider`` suffixes work too.
        base_url: a dedicated Inference Endpoint, TGI or vLLM server; no Hub request is made for it.
        router_url: the router (or a gateway in front of it); else ``HF_ROUTER_URL``, else
            ``https://router.huggingface.co``. A non-Hugging-Face host gets only an explicit ``api_key``.
        bill_to: organisation to bill (``X-HF-Bill-To``).
        use_cache / wait_for_model: the ``x-use-cache`` / ``x-wait-for-model`` headers, sent only when set.
        default_headers: extra headers for every request.
        timeout: seconds for each connect, send and read; ``None`` waits forever.
        max_retries: retries of 429, 502, 503, 504 and connection failures; never of other 4xx.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        provider: str | None = "auto",
        base_url: str | None = None,
        router_url: str | None = None,
        bill_to: str | None = None,
        use_cache: bool | None = None,
        wait_for_model: bool | None = None,
        default_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        retry_initial_wait: float = 0.5,
        retry_max_wait: float = 8.0,
    ) -> None:
        self._api_key = api_key
        self.provider = provider or "auto"
        self.base_url = base_url
        self.router_url = (router_url or os.environ.get("HF_ROUTER_URL") or ROUTER_URL).rstrip("/")
        self.max_retries = max(0, int(max_retries))
        self.timeout = timeout
        extra: dict[str, str] = {}
        if bill_to:
            extra["X-HF-Bill-To"] = bill_to
        if use_cache is not None:
            extra["x-use-cache"] = "true" if use_cache else "false"
        if wait_for_model is not None:
            extra["x-wait-for-model"] = "true" if wait_for_model else "false"
        extra.update(default_headers or {})
        self._extra_headers = extra
        # Exponential from retry_initial_wait, capped, plus jitter of the same scale. Composed from the two waits
        # every tenacity release has: wait_exponential_jitter renamed its first argument in 9.2.
        self._backoff = wait_exponential(multiplier=retry_initial_wait, max=retry_max_wait) + wait_random(
            0, retry_initial_wait
        )
        self._routes: dict[tuple[str, str | None], Route] = {}
        self._mapped: set[tuple[str, str, str]] = set()  # (task, model, provider) whose Hub look-ups are done
        # Shared with every transport of the process that has the same settings (see _pools); never the token.
        self._pool = pool_for(timeout)

    def __repr__(self) -> str:  # never show the token
        return f"RouterTransport(provider={self.provider!r}, base_url={self.base_url!r}, router={self.router_url!r})"

    # ------------------------------------------------------------------ auth and routing

    def _token_for(self, url: str) -> str | None:
        """The explicit key goes anywhere; the ambient token (HF_TOKEN, saved login) only to Hugging Face hosts."""
        if self._api_key:
            return self._api_key
        if not is_hf_url(url):
            return None
        from huggingface_hub import get_token

        return get_token()

    def _base_headers(self, token: str | None) -> dict[str, str]:
        from huggingface_hub.utils import build_hf_headers

        headers = build_hf_headers(token=token or False, library_name=_LIBRARY, library_version=__version__)
        headers.update(self._extra_headers)
        return headers

    def _custom_label(self) -> str:
        return urlsplit(self.base_url or "").netloc or "custom"

    def route(self, request: ChatRequest | TaskRequest) -> Route:
        """The route of a request; may block on a Hub look-up the first time a model is routed."""
        if isinstance(request, ChatRequest):
            return self.chat_route(request.model, request.provider)
        return self.task_route(
            request.task,
            request.model,
            inputs=request.inputs,
            parameters=request.parameters,
            extra_payload=request.extra_payload,
        )

    async def aroute(self, request: ChatRequest | TaskRequest) -> Route:
        """:meth:`route` for the event loop: answered in place when nothing needs asking, else from a worker
        thread while huggingface_hub asks the Hub which provider serves the model (it caches the answer)."""
        if self._may_block(request):
            return await run_in_executor(None, self.route, request)
        return self.route(request)

    def _may_block(self, request: ChatRequest | TaskRequest) -> bool:
        if self.base_url:
            return False
        if isinstance(request, ChatRequest):
            provider = request.provider or self.provider
            if (f"conversational:{provider}", request.model) in self._routes:
                return False
            return provider != "auto" and not split_model(request.model or "")[1]
        return self._task_key(request.task, request.model or "") not in self._mapped

    def _task_key(self, task: str, model: str) -> tuple[str, str, str]:
        bare, suffix = split_model(model)
        return (task, bare, suffix if suffix and suffix not in ROUTING_SUFFIXES else self.provider)

    def chat_route(self, model: str | None, provider: str | None = None) -> Route:
        """Route of a chat completion for ``model`` (cached); ``provider`` overrides the configured one."""
        provider = provider or self.provider
        key = (f"conversational:{provider}", model)
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = self._resolve_chat(model, provider)
        return route

    def _resolve_chat(self, model: str | None, provider: str) -> Route:
        if self.base_url:
            url = chat_completions_url(self.base_url)
            return Route(url, model, self._custom_label(), self._base_headers(self._token_for(url)))
        if not model:
            raise HFServerlessInvalidRequestError("A model id is required when no base_url is given.")
        bare, suffix = split_model(model)
        if provider != "auto" and suffix and suffix != provider:
            # A ":fastest"/":cheapest" policy conflicts too: the router would silently ignore provider=.
            raise HFServerlessInvalidRequestError(
                f"model {model!r} names provider {suffix!r} but provider={provider!r} was given: keep one."
            )
        token = self._require_token(self.router_url, model)
        if provider == "auto" or suffix:
            # The router resolves "auto" and every ":suffix" itself: no Hub round trip.
            url = f"{self.router_url}/v1/chat/completions"
            return Route(url, model, suffix or "auto", self._base_headers(token))
        params, _ = self._prepare("conversational", bare, token, inputs=[], parameters={}, provider=provider)
        return Route(params.url, params.model, provider, {**params.headers, **self._extra_headers})

    def task_route(
        self,
        task: str,
        model: str | None,
        *,
        inputs: Any,
        parameters: Mapping[str, Any] | None = None,
        extra_payload: Mapping[str, Any] | None = None,
    ) -> Route:
        """Route and prepared body of a non-chat task (feature-extraction, text-to-image, ...).

        With ``base_url`` the JSON body ``{"inputs", "parameters"}`` (or raw bytes) goes to that URL as given;
        otherwise huggingface_hub's helper for the provider builds URL, body and headers.
        """
        if self.base_url:
            url = self.base_url
            if isinstance(inputs, (bytes, bytearray)) and not parameters and not extra_payload:
                headers = self._base_headers(self._token_for(url))
                mime_type = getattr(inputs, "mime_type", None)  # huggingface_hub's MimeBytes carry one
                if mime_type:
                    headers["content-type"] = mime_type
                return Route(url, model, self._custom_label(), headers, data=bytes(inputs))
            if isinstance(inputs, (bytes, bytearray)):
                # Binary input with parameters travels as base64 JSON, as huggingface_hub sends it to
                # hf-inference: raw bytes would silently drop the parameters.
                inputs = base64.b64encode(inputs).decode()
            body: dict[str, Any] = {"inputs": inputs}
            if parameters:
                body["parameters"] = dict(parameters)
            body.update(extra_payload or {})
            return Route(url, model, self._custom_label(), self._base_headers(self._token_for(url)), payload=body)
        if not model:
            raise HFServerlessInvalidRequestError(f"A model id is required for {task} when no base_url is given.")
        bare, suffix = split_model(model)
        provider = suffix if suffix and suffix not in ROUTING_SUFFIXES else self.provider
        token = self._require_token(self.router_url, model)
        params, helper = self._prepare(
            task,
            bare,
            token,
            inputs=inputs,
            parameters=dict(parameters or {}),
            extra_payload=extra_payload,
            provider=provider,
        )
        self._mapped.add(self._task_key(task, model))
        headers = {**params.headers, **self._extra_headers}
        data = bytes(params.data) if params.data is not None else None
        return Route(params.url, params.model, helper.provider, headers, helper=helper, payload=params.json, data=data)

    def fetch_route(self, url: str, *, model: str | None = None, provider: str | None = None) -> Route:
        """A GET of a result URL or a job's status URL (``model``/``provider`` only name it in errors).

        The token goes only to Hugging Face hosts and to ``base_url``'s or ``router_url``'s own host, never to a
        provider's CDN.
        """
        host = urlsplit(url).netloc
        own = bool(host) and host in (urlsplit(self.base_url or "").netloc, urlsplit(self.router_url).netloc)
        token = self._token_for(url) if is_hf_url(url) or own else None
        return Route(url, model, provider or host or "custom", self._base_headers(token), method="GET")

    def catalog_route(self) -> Route:
        """``GET {router_url}/v1/models``: the token goes as to the router, but none is required."""
        url = f"{self.router_url}/v1/models"
        return Route(url, None, "router", self._base_headers(self._token_for(url)), method="GET")

    def _require_token(self, url: str, model: str) -> str:
        token = self._token_for(url)
        if not token:
            where = (
                "pass api_key=..., set HF_TOKEN, or run `hf auth login`"
                if is_hf_url(url)
                else f"router_url {url!r} is not a Hugging Face host, so only an explicit api_key=... goes there"
            )
            raise HFServerlessAuthenticationError(
                f"No Hugging Face token for model {model!r}: {where}.",
                model=model,
                provider=self.provider,
            )
        return token

    def _prepare(self, task: str, model: str, token: str, **kwargs: Any) -> tuple[Any, Any]:
        """huggingface_hub's RequestParameters for this task and provider, and the helper that built them."""
        kwargs["provider"] = kwargs.get("provider") or self.provider
        return prepare_with_helper(task, model, token, self._base_headers(token), router_url=self.router_url, **kwargs)

    # ------------------------------------------------------------------ clients

    @property
    def client(self) -> httpx2.Client:
        """The process's pooled sync client for these settings; this transport holds it until :meth:`close`."""
        return self._pool.client(self)

    @property
    def async_client(self) -> httpx2.AsyncClient:
        """The running event loop's pooled async client for these settings, held until :meth:`aclose`."""
        return self._pool.async_client(self)

    def close(self) -> None:
        """Let go of the shared sync client: it closes when no other transport of the process holds it."""
        self._pool.release(self)

    async def aclose(self) -> None:
        """Let go of the running loop's shared async client: it closes when no other transport holds it."""
        await self._pool.arelease(self)

    # ------------------------------------------------------------------ sending

    def _retry_kwargs(self) -> dict[str, Any]:
        return {
            "stop": stop_after_attempt(self.max_retries + 1),
            "wait": _wait(self._backoff),
            "retry": retry_if_exception(_retryable),
            "reraise": True,
            "before_sleep": _log_retry,
        }

    def _retrying(self) -> Retrying:
        """Tenacity's decisions (stop, waits, logs) for one request; the plan driver does the waiting."""
        return Retrying(**self._retry_kwargs())

    def _may_retry(self, exc: BaseException) -> bool:
        return bool(self.max_retries) and _retryable(exc)

    def _sending(self, route: Route, json: Any, stream: bool = False) -> Plan[httpx2.Response]:
        """One request as a plan: sent, and re-sent as ``max_retries`` says."""
        return retried(lambda: resent_if_stale(_Send(route, json, stream)), self._retrying, self._may_retry)

    def _request(self, client: httpx2.Client | httpx2.AsyncClient, route: Route, json: Any) -> httpx2.Request:
        if route.method != "POST":
            return client.build_request(route.method, route.url, headers=dict(route.headers))
        is_json = json is not None or route.data is None
        if is_json:
            content = orjson.dumps(json if json is not None else route.payload, option=orjson.OPT_SERIALIZE_NUMPY)
        else:
            content = route.data or b""
        url = _parsed_url(route.url)
        client_headers = client.headers.raw
        sent = route._sent_headers.get(is_json)
        if sent is None or sent[0] != client_headers:
            headers = dict(route.headers)
            if is_json:
                headers.setdefault("content-type", "application/json")
            merged = httpx2.Headers(client.headers)  # as build_request merges them
            merged.update(headers)
            sent = route._sent_headers[is_json] = (client_headers, merged)
        if client.cookies or client.params or url.is_relative_url:
            # What build_request would add or change: the cookies a server set, the client's params or base_url.
            return client.build_request("POST", url, content=content, headers=sent[1])
        # build_request without its per-call merging (half its cost): the headers are merged once per route.
        return httpx2.Request(
            "POST", url, content=content, headers=sent[1], extensions={"timeout": client.timeout.as_dict()}
        )

    def _transport_error(self, exc: Exception, route: Route, *, streaming: bool = False) -> HFServerlessError:
        where = f"model {route.model!r} via {route.provider!r} at {route.url}"
        if isinstance(exc, httpx2.TimeoutException) and not isinstance(exc, httpx2.ConnectTimeout):
            return HFServerlessTimeoutError(
                f"No answer from {where} within timeout={self.timeout}s: raise timeout= or retry later.",
                model=route.model,
                provider=route.provider,
            )
        cause = f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__} (no detail)"
        if not isinstance(exc, httpx2.TransportError):  # undecodable body, redirect loop: retrying will not help
            return HFServerlessAPIError(
                f"Unreadable answer from {where}: {cause}. Check base_url and the server's encoding.",
                model=route.model,
                provider=route.provider,
            )
        if streaming:  # the server was reached and answered 200; the connection died mid-answer
            text = f"The stream from {where} broke off: {cause}. Retry the request."
        else:
            text = f"Could not reach {where}: {cause}. Check the network and base_url."
        return HFServerlessConnectionError(
            text,
            model=route.model,
            provider=route.provider,
        )

    def _checked(self, response: httpx2.Response, route: Route) -> httpx2.Response:
        logger.debug("POST %s -> %s", route.url, response.status_code)
        if response.status_code >= 400:
            raise scrubbed(
                error_from_response(
                    response.status_code, response.headers, response.content, model=route.model, provider=route.provider
                ),
                route,
            )
        return response

    # One attempt each: send, read an error answer whole, and turn any failure into the typed error.

    def _send(self, step: _Send) -> httpx2.Response:
        client = self.client
        request = self._request(client, step.route, step.json)
        connects = Connects(request, asynchronous=False)
        with Mapped(self, step.route, connects=connects):
            response = client.send(request, stream=step.stream)
            if step.stream and response.status_code >= 400:
                response.read()
                response.close()
        return self._checked(response, step.route)

    async def _asend(self, step: _Send) -> httpx2.Response:
        client = self.async_client
        request = self._request(client, step.route, step.json)
        connects = Connects(request, asynchronous=True)
        with Mapped(self, step.route, connects=connects):
            response = await client.send(request, stream=step.stream)
            if step.stream and response.status_code >= 400:
                await response.aread()
                await response.aclose()
        return self._checked(response, step.route)

    @functools.cached_property
    def _executions(self) -> dict[type, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
        """How each step of a plan (see ``_plan``) is executed: with blocking I/O, and with awaitable I/O."""
        return {
            Open: (lambda step: self.route(step.request), lambda step: self.aroute(step.request)),
            Post: (lambda step: self.post(step.route, step.body), lambda step: self.apost(step.route, step.body)),
            Get: (
                lambda step: self.get(step.url, model=step.model, provider=step.provider),
                lambda step: self.aget(step.url, model=step.model, provider=step.provider),
            ),
            Events: (
                lambda step: self.stream(step.route, step.body, step.meta),
                lambda step: _ready(self.astream(step.route, step.body, step.meta)),
            ),
            Pause: (lambda step: _pause(step.seconds), lambda step: _apause(step.seconds)),
            LoadCatalog: (lambda step: fetch_catalog(self, step), lambda step: afetch_catalog(self, step)),
            _Send: (self._send, self._asend),
        }

    @functools.cached_property
    def handlers(self) -> Handlers:
        """The sync driver's handlers."""
        return {**SYNC_RUNNABLE_HANDLERS, **{kind: pair[0] for kind, pair in self._executions.items()}}

    @functools.cached_property
    def async_handlers(self) -> AsyncHandlers:
        """The async driver's handlers."""
        return {**ASYNC_RUNNABLE_HANDLERS, **{kind: pair[1] for kind, pair in self._executions.items()}}

    def get(self, url: str, *, model: str | None = None, provider: str | None = None) -> Reply:
        """GET ``url`` (a generated file, a job's status) with the same retries and typed errors as a POST."""
        return self.post(self.fetch_route(url, model=model, provider=provider))

    async def aget(self, url: str, *, model: str | None = None, provider: str | None = None) -> Reply:
        return await self.apost(self.fetch_route(url, model=model, provider=provider))

    def post(self, route: Route, json: Any = None) -> Reply:
        """Send ``route`` (a POST, or a GET route) and read the whole answer, retrying what may succeed on retry."""
        return Reply.of(run(self._sending(route, json), self.handlers))

    async def apost(self, route: Route, json: Any = None) -> Reply:
        return Reply.of(await arun(self._sending(route, json), self.async_handlers))

    def _decode(self, decoder: SSEDecoder, line: str | None, route: Route) -> Any:
        """One line in, a payload (or None / DONE) out; an error event becomes the typed error."""
        return decode_line(decoder, line, route)

    def _opened(self, response: httpx2.Response, route: Route, meta: StreamMeta | None) -> EventReader:
        if meta is not None:
            meta.headers.update(response.headers)
        return EventReader(route, response.headers.get("content-type", "").startswith("application/json"))

    # The two stream readers: what each line means is _EventReader's, here only the reading and the closing.

    def stream(self, route: Route, json: Any, meta: StreamMeta | None = None) -> Iterator[Any]:
        """POST with ``stream: true`` and yield each JSON event; the connection closes when the caller stops."""
        response = run(self._sending(route, json, stream=True), self.handlers)
        reader = self._opened(response, route, meta)
        try:
            with Mapped(self, route, streaming=True):
                lines = response.iter_lines()
                for line in lines:
                    payload = reader.feed(line)
                    if payload is DONE:
                        drain(lines)
                        return
                    if payload is not None:
                        yield payload
                yield from reader.rest()
        finally:
            response.close()

    async def astream(self, route: Route, json: Any, meta: StreamMeta | None = None) -> AsyncIterator[Any]:
        response = await arun(self._sending(route, json, stream=True), self.async_handlers)
        reader = self._opened(response, route, meta)
        try:
            with Mapped(self, route, streaming=True):
                lines = response.aiter_lines()
                async for line in lines:
                    payload = reader.feed(line)
                    if payload is DONE:
                        await adrain(lines)
                        return
                    if payload is not None:
                        yield payload
                for payload in reader.rest():
                    yield payload
        finally:
            await response.aclose()


@dataclass(frozen=True, slots=True)
class _Send:
    """One attempt at sending a route (the step :func:`retried` repeats)."""

    route: Route
    json: Any
    stream: bool = False


async def _ready(value: _T) -> _T:
    return value


def _pause(seconds: float) -> None:
    """Every wait of a plan: between retries, between polls of a job."""
    if seconds > 0:
        time.sleep(seconds)


async def _apause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
