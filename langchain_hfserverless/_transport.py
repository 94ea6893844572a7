"""The only module that does I/O: routing, auth, headers, retries, and pooled sync + async HTTP clients.

Every adapter (chat, LLM, embeddings, task tools) talks to Hugging Face through one :class:`RouterTransport`.
Routing and provider mapping come from huggingface_hub's provider helpers; HTTP and timeouts from httpx2;
retries from tenacity. What goes over the wire, and what comes back, is mapped by the pure ``_wire`` package.
"""

from __future__ import annotations

import base64
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
import orjson
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from langchain_hfserverless._pools import pool_for
from langchain_hfserverless._version import __version__
from langchain_hfserverless._wire.errors import RETRYABLE_STATUS, error_from_event, error_from_response
from langchain_hfserverless._wire.headers import header
from langchain_hfserverless._wire.routing import (
    ROUTER_CHAT_URL,
    ROUTER_URL,
    ROUTING_SUFFIXES,
    chat_completions_url,
    is_hf_url,
    split_model,
)
from langchain_hfserverless._wire.sse import DONE, SSEDecodeError, SSEDecoder, is_error_event
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessAuthenticationError,
    HFServerlessConnectionError,
    HFServerlessError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
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


@dataclass
class Reply:
    """A successful answer, read whole."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise HFServerlessAPIError(
                f"Expected JSON, got {self.headers.get('content-type', 'no content-type')}: {self.content[:200]!r}"
            ) from exc


@dataclass
class StreamMeta:
    """Filled in when a stream opens: the response headers (``X-Inference-Provider`` and friends)."""

    headers: dict[str, str] = field(default_factory=dict)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, HFServerlessConnectionError):
        return True
    return isinstance(exc, HFServerlessError) and exc.status_code in RETRYABLE_STATUS


def _wait(backoff: Callable[[RetryCallState], float]) -> Callable[[RetryCallState], float]:
    def wait(retry_state: RetryCallState) -> float:  # tenacity 8 passes it by this keyword
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            return min(float(asked), _MAX_RETRY_WAIT)
        return backoff(retry_state)

    return wait


def _drain(lines: Iterator[str]) -> None:
    """Read what follows ``[DONE]`` (the end of the body): a response read to its end keeps its connection in the
    pool, where one closed early costs the next call a new TCP (and TLS) handshake."""
    try:
        for _ in lines:
            pass
    except httpx2.RequestError:
        pass  # the answer is complete; a server that hangs up right after [DONE] just loses the connection


async def _adrain(lines: AsyncIterator[str]) -> None:
    try:
        async for _ in lines:
            pass
    except httpx2.RequestError:
        pass


def _scrubbed(exc: HFServerlessError, route: Route) -> HFServerlessError:
    """A server may echo the Authorization header back; the error we raise never carries the token on."""
    auth = header(route.headers, "authorization") or ""
    token = auth.partition(" ")[2].strip()
    if len(token) >= 8 and (token in str(exc) or token in (exc.server_message or "")):
        exc.args = tuple(a.replace(token, "***") if isinstance(a, str) else a for a in exc.args)
        exc.server_message = (exc.server_message or "").replace(token, "***")
    return exc


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    logger.warning("Retrying after attempt %d: %s", state.attempt_number, exc)


class RouterTransport:
    """Routing, auth, retries and pooled clients for one model configuration.

    Args:
        api_key: an explicit token; always sent, to any URL.
        provider: ``"auto"`` (router picks) or a provider name; ``model:provider`` suffixes work too.
        base_url: a dedicated Inference Endpoint, TGI or vLLM server; no Hub request is made for it.
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
        # Shared with every transport of the process that has the same settings (see _pools); never the token.
        self._pool = pool_for(timeout)

    def __repr__(self) -> str:  # never show the token
        return f"RouterTransport(provider={self.provider!r}, base_url={self.base_url!r})"

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
        token = self._require_token(ROUTER_URL, model)
        if provider == "auto" or suffix:
            # The router resolves "auto" and every ":suffix" itself: no Hub round trip.
            return Route(ROUTER_CHAT_URL, model, suffix or "auto", self._base_headers(token))
        params, _ = self._prepare_with_helper(
            "conversational", bare, token, inputs=[], parameters={}, provider=provider
        )
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
        token = self._require_token(ROUTER_URL, model)
        params, helper = self._prepare_with_helper(
            task,
            bare,
            token,
            inputs=inputs,
            parameters=dict(parameters or {}),
            extra_payload=extra_payload,
            provider=provider,
        )
        headers = {**params.headers, **self._extra_headers}
        data = bytes(params.data) if params.data is not None else None
        return Route(params.url, params.model, helper.provider, headers, helper=helper, payload=params.json, data=data)

    def fetch_route(self, url: str, *, model: str | None = None, provider: str | None = None) -> Route:
        """A GET of a result URL or a job's status URL (``model``/``provider`` only name it in errors).

        The token goes only to Hugging Face hosts and to ``base_url``'s own host, never to a provider's CDN.
        """
        host = urlsplit(url).netloc
        own = bool(self.base_url) and host == urlsplit(self.base_url or "").netloc
        token = self._token_for(url) if is_hf_url(url) or own else None
        return Route(url, model, provider or host or "custom", self._base_headers(token), method="GET")

    def _require_token(self, url: str, model: str) -> str:
        token = self._token_for(url)
        if not token:
            raise HFServerlessAuthenticationError(
                f"No Hugging Face token for model {model!r}: pass api_key=..., set HF_TOKEN, or run `hf auth login`.",
                model=model,
                provider=self.provider,
            )
        return token

    def _prepare_with_helper(
        self,
        task: str,
        model: str,
        token: str,
        *,
        inputs: Any,
        parameters: dict[str, Any],
        extra_payload: Mapping[str, Any] | None = None,
        provider: str | None = None,
    ) -> tuple[Any, Any]:
        """huggingface_hub's RequestParameters for this task and provider, and the helper that built them."""
        from huggingface_hub.errors import HfHubHTTPError
        from huggingface_hub.inference._providers import get_provider_helper

        provider = provider or self.provider
        try:
            helper = get_provider_helper(provider, task, model)  # type: ignore[arg-type]
            params = helper.prepare_request(
                inputs=inputs,
                parameters=parameters,
                headers=self._base_headers(token),
                model=model,
                api_key=token,
                extra_payload=dict(extra_payload) if extra_payload else None,
            )
        except HfHubHTTPError as exc:
            response = exc.response
            raise error_from_response(
                response.status_code, dict(response.headers), response.content, model=model, provider=provider
            ) from None
        except (httpx2.TransportError, ConnectionError) as exc:  # the Hub lookup of the provider mapping failed
            raise HFServerlessConnectionError(
                f"Could not look up which provider serves model {model!r} for task {task!r} on the Hugging Face Hub "
                f"({type(exc).__name__}: {exc}). Check the network (and HF_HUB_OFFLINE), or skip the lookup with "
                "base_url= or a 'model:provider' suffix on the chat model.",
                model=model,
                provider=provider,
            ) from None
        except ValueError as exc:
            text = str(exc)
            cls = (
                HFServerlessNotFoundError
                if "not supported" in text or "No provider" in text
                else (HFServerlessInvalidRequestError)
            )
            raise cls(
                f"Cannot route model {model!r} for task {task!r} via provider {provider!r}: {text}",
                model=model,
                provider=provider,
            ) from None
        return params, helper

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

    def _request(self, client: httpx2.Client | httpx2.AsyncClient, route: Route, json: Any) -> httpx2.Request:
        if route.method != "POST":
            return client.build_request(route.method, route.url, headers=dict(route.headers))
        if json is None and route.data is not None:
            content = route.data
        else:
            content = orjson.dumps(json if json is not None else route.payload, option=orjson.OPT_SERIALIZE_NUMPY)
        headers = dict(route.headers)
        if json is not None or route.data is None:
            headers.setdefault("content-type", "application/json")
        return client.build_request("POST", _parsed_url(route.url), content=content, headers=headers)

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

    def _check(self, response: httpx2.Response, route: Route) -> None:
        logger.debug("POST %s -> %s", route.url, response.status_code)
        if response.status_code >= 400:
            raise _scrubbed(
                error_from_response(
                    response.status_code, response.headers, response.content, model=route.model, provider=route.provider
                ),
                route,
            )

    def get(self, url: str, *, model: str | None = None, provider: str | None = None) -> Reply:
        """GET ``url`` (a generated file, a job's status) with the same retries and typed errors as a POST."""
        return self.post(self.fetch_route(url, model=model, provider=provider))

    async def aget(self, url: str, *, model: str | None = None, provider: str | None = None) -> Reply:
        return await self.apost(self.fetch_route(url, model=model, provider=provider))

    def _with_retries(self, once: Callable[[], _T]) -> _T:
        """``once()``, retried as ``max_retries`` says.

        The first attempt runs outside tenacity (whose bookkeeping costs 15-70 us a call); a failure worth
        retrying is replayed into tenacity as attempt 1's outcome, so waits, logs and the stop are tenacity's.
        """
        try:
            return once()
        except HFServerlessError as exc:
            if not (self.max_retries and _retryable(exc)):
                raise
            replay: HFServerlessError | None = exc
        for attempt in Retrying(**self._retry_kwargs()):
            with attempt:
                if replay is not None:
                    failed, replay = replay, None
                    raise failed
                return once()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _awith_retries(self, once: Callable[[], Awaitable[_T]]) -> _T:
        try:
            return await once()
        except HFServerlessError as exc:
            if not (self.max_retries and _retryable(exc)):
                raise
            replay: HFServerlessError | None = exc
        async for attempt in AsyncRetrying(**self._retry_kwargs()):
            with attempt:
                if replay is not None:
                    failed, replay = replay, None
                    raise failed
                return await once()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _send(self, route: Route, json: Any, *, stream: bool = False) -> httpx2.Response:
        """One attempt: send, and turn a transport failure or an error status into the typed error."""
        client = self.client
        try:
            response = client.send(self._request(client, route, json), stream=stream)
            if stream and response.status_code >= 400:
                response.read()
                response.close()
        except httpx2.RequestError as exc:
            raise self._transport_error(exc, route) from exc
        self._check(response, route)
        return response

    async def _asend(self, route: Route, json: Any, *, stream: bool = False) -> httpx2.Response:
        client = self.async_client
        try:
            response = await client.send(self._request(client, route, json), stream=stream)
            if stream and response.status_code >= 400:
                await response.aread()
                await response.aclose()
        except httpx2.RequestError as exc:
            raise self._transport_error(exc, route) from exc
        self._check(response, route)
        return response

    def post(self, route: Route, json: Any = None) -> Reply:
        """Send ``route`` (a POST, or a GET route) and read the whole answer, retrying what may succeed on retry."""
        response = self._with_retries(lambda: self._send(route, json))
        return Reply(response.status_code, response.headers, response.content)

    async def apost(self, route: Route, json: Any = None) -> Reply:
        response = await self._awith_retries(lambda: self._asend(route, json))
        return Reply(response.status_code, response.headers, response.content)

    def _decode(self, decoder: SSEDecoder, line: str | None, route: Route) -> Any:
        """One line in, a payload (or None / DONE) out; an error event becomes the typed error."""
        try:
            payload = decoder.feed(line) if line is not None else decoder.close()
        except SSEDecodeError as exc:
            raise HFServerlessAPIError(
                f"The stream from model {route.model!r} via {route.provider!r} broke off: {exc}",
                model=route.model,
                provider=route.provider,
            ) from None
        if payload is not None and payload is not DONE and is_error_event(payload):
            raise _scrubbed(error_from_event(payload, model=route.model, provider=route.provider), route)
        return payload

    def _single_json(self, response: httpx2.Response, route: Route) -> Any:
        """A server that ignored ``stream: true`` answered with one JSON body."""
        payload = Reply(response.status_code, response.headers, response.content).json()
        if is_error_event(payload):
            raise _scrubbed(error_from_event(payload, model=route.model, provider=route.provider), route)
        return payload

    def stream(self, route: Route, json: Any, meta: StreamMeta | None = None) -> Iterator[Any]:
        """POST with ``stream: true`` and yield each JSON event; the connection closes when the caller stops."""
        response = self._with_retries(lambda: self._send(route, json, stream=True))
        try:
            if meta is not None:
                meta.headers.update(response.headers)
            if response.headers.get("content-type", "").startswith("application/json"):
                response.read()
                yield self._single_json(response, route)
                return
            decoder = SSEDecoder()
            lines = response.iter_lines()
            for line in lines:
                payload = self._decode(decoder, line, route)
                if payload is DONE:
                    _drain(lines)
                    return
                if payload is not None:
                    yield payload
            payload = self._decode(decoder, None, route)
            if payload is not None and payload is not DONE:
                yield payload
        except httpx2.RequestError as exc:
            raise self._transport_error(exc, route, streaming=True) from exc
        finally:
            response.close()

    async def astream(self, route: Route, json: Any, meta: StreamMeta | None = None) -> AsyncIterator[Any]:
        response = await self._awith_retries(lambda: self._asend(route, json, stream=True))
        try:
            if meta is not None:
                meta.headers.update(response.headers)
            if response.headers.get("content-type", "").startswith("application/json"):
                await response.aread()
                yield self._single_json(response, route)
                return
            decoder = SSEDecoder()
            alines = response.aiter_lines()
            async for line in alines:
                payload = self._decode(decoder, line, route)
                if payload is DONE:
                    await _adrain(alines)
                    return
                if payload is not None:
                    yield payload
            payload = self._decode(decoder, None, route)
            if payload is not None and payload is not DONE:
                yield payload
        except httpx2.RequestError as exc:
            raise self._transport_error(exc, route, streaming=True) from exc
        finally:
            await response.aclose()
