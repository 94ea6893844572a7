"""``_transport.py``: RouterTransport against the loopback server: retries, headers, auth hygiene, routing, streams
and timeouts; a pooled keep-alive connection the server closed while idle is resent once on a fresh one; event loops,
decoding and redirect errors, and one transport and pool per batch (bugs a fresh-eyes review found).

No test sleeps for a retry: the transport's pause is replaced by a recorder, and the tests assert the waits it was
asked for instead of timing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from langchain_hfserverless import ChatHFServerless, _transport
from langchain_hfserverless._transport import Route, RouterTransport, StreamMeta
from langchain_hfserverless._wire.routing import ROUTER_CHAT_URL
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessAuthenticationError,
    HFServerlessConnectionError,
    HFServerlessContextOverflowError,
    HFServerlessError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
    HFServerlessRateLimitError,
    HFServerlessTimeoutError,
)
from tests.loopback import LoopbackServer, sse
from tests.unit.answers import CHAT_ANSWER, CHAT_STREAM

TOKEN = "hf_explicitSECRETtoken0123456789"
AMBIENT = "hf_ambientSECRETtoken9876543210"
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
CHAT_PATH = "/v1/chat/completions"
OK_BODY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "llama3.1-8b",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
}
DELTA = {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "yo"}}]}


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the retry loop asked for (sync and async); nothing really sleeps."""
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        asked.append(seconds)

    async def asleep(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(_transport, "_pause", sleep)
    monkeypatch.setattr(_transport, "_apause", asleep)
    return asked


def make(server: LoopbackServer, **kwargs: Any) -> RouterTransport:
    kwargs.setdefault("api_key", TOKEN)
    kwargs.setdefault("timeout", 10)
    return RouterTransport(base_url=server.url, **kwargs)


def _route(transport: RouterTransport) -> Route:
    return transport.chat_route(MODEL)


# ---------------------------------------- retries


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (429, {"error": "Rate limit reached"}, {"Retry-After": "0"}),
        (502, b"Bad Gateway", {"content-type": "text/plain"}),
        (503, {"error": "Model X is currently loading", "estimated_time": 0.01}, {}),
        (503, {"error": "overloaded"}, {}),
        (504, b"Gateway Timeout", {"content-type": "text/plain"}),
    ],
)
def test_retryable_status_then_success(
    server: LoopbackServer, waits: list[float], status: int, body: Any, headers: dict[str, str]
) -> None:
    server.reply(status, body, headers)
    server.reply(status, body, headers)
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=2)
    reply = transport.post(_route(transport), {"messages": []})
    assert reply.json()["choices"][0]["message"]["content"] == "hi"
    assert len(server.requests) == 3
    assert len(waits) == 2


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (429, HFServerlessRateLimitError),
        (502, HFServerlessAPIError),
        (503, HFServerlessAPIError),
        (504, HFServerlessAPIError),
    ],
)
def test_retries_spent_then_typed_error(
    server: LoopbackServer, waits: list[float], status: int, cls: type[HFServerlessError]
) -> None:
    server.default = None
    for _ in range(4):
        server.reply(status, {"error": f"failure {status}"}, {"Retry-After": "0"})
    transport = make(server, max_retries=3)
    with pytest.raises(cls) as info:
        transport.post(_route(transport), {"messages": []})
    assert info.value.status_code == status
    assert f"failure {status}" in str(info.value)
    assert len(server.requests) == 4  # 1 attempt + 3 retries
    assert waits == [0.0, 0.0, 0.0]


def test_max_retries_zero_means_one_attempt(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(503, {"error": "overloaded"})
    transport = make(server, max_retries=0)
    with pytest.raises(HFServerlessAPIError):
        transport.post(_route(transport), {})
    assert len(server.requests) == 1
    assert waits == []


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"error": ["Error in `parameters`"]}, HFServerlessInvalidRequestError),
        (401, {"error": "Invalid username or password."}, HFServerlessAuthenticationError),
        (404, b"Not Found", HFServerlessNotFoundError),
        (422, {"error": "Input validation error: bad", "error_type": "validation"}, HFServerlessInvalidRequestError),
        (
            422,
            {
                "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096",
                "error_type": "validation",
            },
            HFServerlessContextOverflowError,
        ),
    ],
)
def test_client_errors_are_never_retried(
    server: LoopbackServer, waits: list[float], status: int, body: Any, cls: type[HFServerlessError]
) -> None:
    server.reply(status, body, {"Retry-After": "0"})
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=3)
    with pytest.raises(cls) as info:
        transport.post(_route(transport), {})
    assert info.value.status_code == status
    assert len(server.requests) == 1
    assert waits == []


def test_connection_resets_are_retried(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(reset=True)
    server.reply(reset=True)
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=2)
    assert transport.post(_route(transport), {}).json()["id"] == "chatcmpl-1"
    assert len(server.requests) == 3
    assert len(waits) == 2


def test_connection_resets_until_retries_are_spent(server: LoopbackServer, waits: list[float]) -> None:
    for _ in range(3):
        server.reply(reset=True)
    transport = make(server, max_retries=2)
    with pytest.raises(HFServerlessConnectionError) as info:
        transport.post(_route(transport), {})
    assert len(server.requests) == 3
    assert MODEL in str(info.value)


def test_retry_after_is_honoured(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(429, {"error": "slow down"}, {"Retry-After": "7"})
    server.reply(429, {"error": "slow down"}, {"Retry-After": "2.5"})
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=2)
    transport.post(_route(transport), {})
    assert waits == [7.0, 2.5]


def test_retry_after_is_capped(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(429, {"error": "slow down"}, {"Retry-After": "3600"})
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=1)
    transport.post(_route(transport), {})
    assert waits == [60.0]


def test_estimated_time_of_a_loading_model_is_the_wait(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(503, {"error": "Model X is currently loading", "estimated_time": 20.0})
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=1)
    transport.post(_route(transport), {})
    assert waits == [20.0]


def test_backoff_without_retry_after_grows_within_bounds(server: LoopbackServer, waits: list[float]) -> None:
    for _ in range(3):
        server.reply(502, b"Bad Gateway")
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=3, retry_initial_wait=0.5, retry_max_wait=8.0)
    transport.post(_route(transport), {})
    assert len(waits) == 3
    # exponential base 0.5, 1, 2 plus jitter of at most the initial wait
    for wait, base in zip(waits, (0.5, 1.0, 2.0), strict=True):
        assert base <= wait <= base + 0.5


def test_retries_are_logged_without_the_token(
    server: LoopbackServer, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    server.reply(503, {"error": "overloaded"})
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=1)
    with caplog.at_level(logging.DEBUG, logger="langchain_hfserverless"):
        transport.post(_route(transport), {})
    assert "Retrying after attempt 1" in caplog.text
    assert TOKEN not in caplog.text


async def test_async_post_retries(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(429, {"error": "x"}, {"Retry-After": "0"})
    server.reply(reset=True)
    server.reply(200, OK_BODY)
    transport = make(server, max_retries=2)
    try:
        reply = await transport.apost(_route(transport), {})
    finally:
        await transport.aclose()
    assert reply.json()["id"] == "chatcmpl-1"
    assert len(server.requests) == 3
    assert waits[0] == 0.0 and len(waits) == 2


async def test_async_post_never_retries_404(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(404, b"Not Found", {"content-type": "text/plain"})
    transport = make(server, max_retries=2)
    try:
        with pytest.raises(HFServerlessNotFoundError):
            await transport.apost(_route(transport), {})
    finally:
        await transport.aclose()
    assert len(server.requests) == 1


# ---------------------------------------- headers


def test_optional_headers(server: LoopbackServer) -> None:
    server.reply(200, OK_BODY)
    transport = make(server, use_cache=False, wait_for_model=True, bill_to="my-org", default_headers={"X-Trace": "abc"})
    transport.post(_route(transport), {"model": MODEL})
    seen = {k.lower(): v for k, v in server.requests[0].headers.items()}
    assert seen["x-use-cache"] == "false"
    assert seen["x-wait-for-model"] == "true"
    assert seen["x-hf-bill-to"] == "my-org"
    assert seen["x-trace"] == "abc"
    assert seen["content-type"] == "application/json"
    assert seen["authorization"] == f"Bearer {TOKEN}"
    assert seen["user-agent"].startswith("langchain-hfserverless/")


def test_optional_headers_absent_unless_set(server: LoopbackServer) -> None:
    server.reply(200, OK_BODY)
    transport = make(server)
    transport.post(_route(transport), {})
    seen = {k.lower() for k in server.requests[0].headers}
    assert not seen & {"x-use-cache", "x-wait-for-model", "x-hf-bill-to"}


def test_use_cache_true_and_wait_for_model_false(server: LoopbackServer) -> None:
    server.reply(200, OK_BODY)
    transport = make(server, use_cache=True, wait_for_model=False)
    transport.post(_route(transport), {})
    seen = {k.lower(): v for k, v in server.requests[0].headers.items()}
    assert seen["x-use-cache"] == "true" and seen["x-wait-for-model"] == "false"


def test_body_is_sent_as_given(server: LoopbackServer) -> None:
    server.reply(200, OK_BODY)
    transport = make(server)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "héllo"}], "max_tokens": 5}
    transport.post(_route(transport), body)
    assert server.requests[0].method == "POST"
    assert server.requests[0].json() == body


# ---------------------------------------- auth hygiene


def test_explicit_key_goes_to_loopback_ambient_token_does_not(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", AMBIENT)
    server.reply(200, OK_BODY)
    server.reply(200, OK_BODY)

    explicit = make(server, api_key=TOKEN)
    explicit.post(_route(explicit), {})
    ambient_only = make(server, api_key=None)
    ambient_only.post(_route(ambient_only), {})

    first = {k.lower(): v for k, v in server.requests[0].headers.items()}
    second = {k.lower(): v for k, v in server.requests[1].headers.items()}
    assert first["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in second
    assert AMBIENT not in str(server.requests[1].headers)


def test_ambient_token_goes_to_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", AMBIENT)
    route = RouterTransport().chat_route(f"{MODEL}:cerebras")
    assert route.headers["authorization"] == f"Bearer {AMBIENT}"


def test_ambient_token_goes_to_a_hugging_face_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", AMBIENT)
    route = RouterTransport(base_url="https://xyz.us-east-1.aws.endpoints.huggingface.cloud").chat_route(None)
    assert route.headers["authorization"] == f"Bearer {AMBIENT}"
    assert route.url == "https://xyz.us-east-1.aws.endpoints.huggingface.cloud/v1/chat/completions"


def test_token_never_in_repr_or_errors(
    server: LoopbackServer, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", AMBIENT)
    transport = make(server, max_retries=0, timeout=5)
    route = _route(transport)
    assert TOKEN not in repr(transport) and TOKEN not in str(transport)
    assert TOKEN not in repr(route)

    errors: list[BaseException] = []
    for status, body in [
        (401, {"error": "Invalid username or password."}),
        (500, {"error": "boom"}),
        (422, b"Failed to deserialize the JSON body"),
    ]:
        server.reply(status, body)
        with pytest.raises(HFServerlessError) as info:
            transport.post(route, {})
        errors.append(info.value)
    server.reply(reset=True)
    with pytest.raises(HFServerlessConnectionError) as conn:
        transport.post(route, {})
    errors.append(conn.value)
    server.reply(200, sse({"error": "Input validation error: x", "error_type": "validation"}))
    with pytest.raises(HFServerlessInvalidRequestError) as in_stream:
        list(transport.stream(route, {"stream": True}))
    errors.append(in_stream.value)
    with pytest.raises(HFServerlessAuthenticationError) as no_token:
        monkeypatch.delenv("HF_TOKEN")
        RouterTransport().chat_route(MODEL)
    errors.append(no_token.value)

    for error in errors:
        chain: BaseException | None = error
        while chain is not None:
            for text in (str(chain), repr(chain)):
                assert TOKEN not in text and AMBIENT not in text
            chain = chain.__cause__ or chain.__context__


# ---------------------------------------- base_url forms


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/chat/completions", "/v1/chat/completions/"])
def test_every_base_url_form_hits_chat_completions(server: LoopbackServer, suffix: str) -> None:
    server.reply(200, OK_BODY)
    transport = RouterTransport(base_url=server.url + suffix, api_key=TOKEN)
    transport.post(transport.chat_route("tgi"), {})
    assert server.requests[0].path == CHAT_PATH


def test_base_url_route_needs_no_model_and_no_token() -> None:
    route = RouterTransport(base_url="http://127.0.0.1:9/v1").chat_route(None)
    assert route.model is None
    assert "authorization" not in route.headers
    assert route.provider == "127.0.0.1:9"


# ---------------------------------------- routing


@pytest.fixture
def no_hub(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every Hub mapping look-up; a test that must make none asserts the list stays empty."""
    looked_up: list[str] = []

    def fetch(model: str) -> list[Any]:
        looked_up.append(model)
        raise AssertionError(f"unexpected Hub request for {model}")

    monkeypatch.setattr("huggingface_hub.inference._providers._common._fetch_inference_provider_mapping", fetch)
    return looked_up


@pytest.mark.parametrize(
    ("model", "provider", "label"),
    [
        (f"{MODEL}:cerebras", "auto", "cerebras"),
        (f"{MODEL}:fastest", "auto", "fastest"),
        (f"{MODEL}:cheapest", "auto", "cheapest"),
        (MODEL, "auto", "auto"),
        (f"{MODEL}:together", "together", "together"),
    ],
)
def test_router_routes_need_no_hub_request(no_hub: list[str], model: str, provider: str, label: str) -> None:
    route = RouterTransport(api_key=TOKEN, provider=provider).chat_route(model)
    assert route.url == ROUTER_CHAT_URL == "https://router.huggingface.co/v1/chat/completions"
    assert route.model == model  # sent as given: the router reads the suffix
    assert route.provider == label
    assert route.headers["authorization"] == f"Bearer {TOKEN}"
    assert no_hub == []


def test_explicit_provider_uses_huggingface_hub_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.hf_api import InferenceProviderMapping

    looked_up: list[str] = []

    def fetch(model: str) -> list[InferenceProviderMapping]:
        looked_up.append(model)
        return [
            InferenceProviderMapping(
                provider="novita",
                hf_model_id=model,
                providerId="meta-llama/llama-3.1-8b-instruct",
                status="live",
                task="conversational",
            ),
            InferenceProviderMapping(
                provider="together",
                hf_model_id=model,
                providerId="meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
                status="live",
                task="conversational",
            ),
        ]

    monkeypatch.setattr("huggingface_hub.inference._providers._common._fetch_inference_provider_mapping", fetch)
    transport = RouterTransport(api_key=TOKEN, provider="together", bill_to="my-org")
    route = transport.chat_route(MODEL)
    assert route.url == "https://router.huggingface.co/together/v1/chat/completions"
    assert route.model == "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"
    assert route.provider == "together"
    assert route.headers["authorization"] == f"Bearer {TOKEN}"
    assert route.headers["X-HF-Bill-To"] == "my-org"
    assert looked_up == [MODEL]
    assert transport.chat_route(MODEL) is route  # cached: one mapping look-up per model
    assert looked_up == [MODEL]


def test_explicit_provider_that_does_not_serve_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "huggingface_hub.inference._providers._common._fetch_inference_provider_mapping", lambda model: []
    )
    with pytest.raises(HFServerlessNotFoundError, match=r"not supported by provider together"):
        RouterTransport(api_key=TOKEN, provider="together").chat_route(MODEL)


@pytest.mark.parametrize("suffix", ["nebius", "fastest"])
def test_conflicting_suffix_and_provider_raise(no_hub: list[str], suffix: str) -> None:
    with pytest.raises(HFServerlessInvalidRequestError, match="keep one"):
        RouterTransport(api_key=TOKEN, provider="together").chat_route(f"{MODEL}:{suffix}")


def test_missing_token_for_the_router_says_what_to_do(no_hub: list[str]) -> None:
    with pytest.raises(HFServerlessAuthenticationError) as info:
        RouterTransport().chat_route(MODEL)
    text = str(info.value)
    assert "api_key" in text and "HF_TOKEN" in text and "hf auth login" in text
    assert MODEL in text


def test_no_model_and_no_base_url_is_a_clear_error() -> None:
    with pytest.raises(HFServerlessInvalidRequestError, match="model id is required"):
        RouterTransport(api_key=TOKEN).chat_route(None)


# ---------------------------------------- streams


def test_stream_yields_events_and_headers(server: LoopbackServer) -> None:
    server.reply(200, sse(DELTA, DELTA), {"X-Inference-Provider": "cerebras", "X-Request-Id": "r-1"})
    transport = make(server)
    meta = StreamMeta()
    events = list(transport.stream(_route(transport), {"stream": True}, meta))
    assert events == [DELTA, DELTA]
    assert meta.headers["x-inference-provider"] == "cerebras"
    assert server.requests[0].json() == {"stream": True}


def test_stream_without_done_and_without_space(server: LoopbackServer) -> None:
    server.reply(200, sse(DELTA, DELTA, DELTA, done=False, space=False))
    transport = make(server)
    assert len(list(transport.stream(_route(transport), {}))) == 3


def test_stream_stops_at_done(server: LoopbackServer) -> None:
    server.reply(200, [*sse(DELTA), b'data: {"after": "done"}\n\n'])
    transport = make(server)
    assert list(transport.stream(_route(transport), {})) == [DELTA]


def test_stream_event_split_across_network_pieces(server: LoopbackServer) -> None:
    whole = b"".join(sse(DELTA))
    pieces = [whole[i : i + 7] for i in range(0, len(whole), 7)]
    server.reply(200, pieces)
    transport = make(server)
    assert list(transport.stream(_route(transport), {})) == [DELTA]


def test_in_stream_error_event_raises(server: LoopbackServer) -> None:
    server.reply(200, sse(DELTA, {"error": "Input validation error: `top_p` must be > 0", "error_type": "validation"}))
    transport = make(server)
    seen = []
    with pytest.raises(HFServerlessInvalidRequestError) as info:
        for event in transport.stream(_route(transport), {}):
            seen.append(event)
    assert seen == [DELTA]
    assert "top_p" in str(info.value) and "inside the stream" in str(info.value)


def test_in_stream_generation_error_is_an_api_error(server: LoopbackServer) -> None:
    server.reply(200, sse({"error": "Request failed during generation: Server error: CUDA out of memory"}))
    transport = make(server)
    with pytest.raises(HFServerlessAPIError, match="CUDA out of memory"):
        list(transport.stream(_route(transport), {}))


def test_truncated_last_event_raises_a_typed_error(server: LoopbackServer) -> None:
    server.reply(200, [*sse(DELTA, done=False), b'data: {"id": "c", "choices": [{"delta": {"cont'])
    transport = make(server)
    with pytest.raises(HFServerlessAPIError, match="broke off"):
        list(transport.stream(_route(transport), {}))


@pytest.fixture
def cut_server() -> Iterator[str]:
    """A raw HTTP server that starts a chunked SSE answer, sends one event, then drops the connection."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def serve_once() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length:  # read the whole request: closing on unread bytes sends RST, not FIN
                body += conn.recv(65536)
            event = b"data: " + b'{"id": "c", "choices": [{"index": 0, "delta": {"content": "yo"}}]}' + b"\n\n"
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                + f"{len(event):x}\r\n".encode()
                + event
                + b"\r\n"
                + b'40\r\ndata: {"id": "c", "cho'  # a chunk announced longer than what is sent
            )
            conn.shutdown(socket.SHUT_WR)  # a clean FIN, so the client reads the first event before the cut

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        thread.join(timeout=10)


def test_stream_cut_mid_way_raises_a_typed_error(cut_server: str, waits: list[float]) -> None:
    transport = RouterTransport(base_url=cut_server, api_key=TOKEN, timeout=10, max_retries=2)
    seen = []
    with pytest.raises(HFServerlessError) as info:
        for event in transport.stream(transport.chat_route("m"), {}):
            seen.append(event)
    assert isinstance(info.value, HFServerlessConnectionError)
    assert "broke off" in str(info.value) and "incomplete chunked read" in str(info.value)
    assert seen == [{"id": "c", "choices": [{"index": 0, "delta": {"content": "yo"}}]}]
    assert waits == []  # nothing is retried once events were handed out


async def test_async_stream_cut_mid_way_raises_a_typed_error(cut_server: str) -> None:
    transport = RouterTransport(base_url=cut_server, api_key=TOKEN, timeout=10, max_retries=0)
    seen = []
    try:
        with pytest.raises(HFServerlessConnectionError, match="broke off"):
            async for event in transport.astream(transport.chat_route("m"), {}):
                seen.append(event)
    finally:
        await transport.aclose()
    assert len(seen) == 1


def test_json_answer_to_a_stream_request_still_yields(server: LoopbackServer) -> None:
    server.reply(200, OK_BODY)
    transport = make(server)
    assert list(transport.stream(_route(transport), {"stream": True})) == [OK_BODY]


def test_json_error_answer_to_a_stream_request_raises(server: LoopbackServer) -> None:
    server.reply(200, {"error": "Template error: unknown role", "error_type": "template_error"})
    transport = make(server)
    with pytest.raises(HFServerlessInvalidRequestError, match="Template error"):
        list(transport.stream(_route(transport), {}))


def test_stream_retries_before_the_first_event(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(503, {"error": "Model X is currently loading", "estimated_time": 0.5})
    server.reply(429, {"error": "busy"}, {"Retry-After": "0"})
    server.reply(200, sse(DELTA))
    transport = make(server, max_retries=2)
    assert list(transport.stream(_route(transport), {})) == [DELTA]
    assert len(server.requests) == 3
    assert waits == [0.5, 0.0]


def test_stream_never_retries_a_400(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(400, {"error": {"message": "bad request", "type": "invalid_request_error"}})
    transport = make(server, max_retries=2)
    with pytest.raises(HFServerlessInvalidRequestError, match="bad request"):
        list(transport.stream(_route(transport), {}))
    assert len(server.requests) == 1


async def test_async_stream(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(502, b"Bad Gateway")
    server.reply(200, sse(DELTA, DELTA, done=False), {"x-inference-provider": "together"})
    transport = make(server, max_retries=1)
    meta = StreamMeta()
    try:
        events = [e async for e in transport.astream(_route(transport), {}, meta)]
    finally:
        await transport.aclose()
    assert events == [DELTA, DELTA]
    assert meta.headers["x-inference-provider"] == "together"
    assert len(server.requests) == 2


async def test_async_in_stream_error(server: LoopbackServer) -> None:
    server.reply(200, sse({"error": "Input validation error: x", "error_type": "validation"}))
    transport = make(server)
    try:
        with pytest.raises(HFServerlessInvalidRequestError):
            _ = [e async for e in transport.astream(_route(transport), {})]
    finally:
        await transport.aclose()


async def test_async_json_answer_to_stream_request(server: LoopbackServer) -> None:
    server.reply(200, OK_BODY)
    transport = make(server)
    try:
        assert [e async for e in transport.astream(_route(transport), {})] == [OK_BODY]
    finally:
        await transport.aclose()


# ---------------------------------------- timeouts


def test_timeout_is_a_typed_error(server: LoopbackServer, waits: list[float]) -> None:
    server.reply(200, OK_BODY, delay=1.0)
    transport = make(server, timeout=0.1, max_retries=2)
    with pytest.raises(HFServerlessTimeoutError) as info:
        transport.post(_route(transport), {})
    assert "timeout=0.1" in str(info.value)
    assert MODEL in str(info.value)
    assert TOKEN not in str(info.value)


async def test_async_timeout_is_a_typed_error(server: LoopbackServer) -> None:
    server.reply(200, OK_BODY, delay=1.0)
    transport = make(server, timeout=0.1, max_retries=0)
    try:
        with pytest.raises(HFServerlessTimeoutError):
            await transport.apost(_route(transport), {})
    finally:
        await transport.aclose()


def test_stream_stalling_between_events_is_a_timeout(server: LoopbackServer) -> None:
    server.reply(200, sse(DELTA, DELTA), piece_delay=1.0)
    transport = make(server, timeout=0.1, max_retries=0)
    with pytest.raises(HFServerlessTimeoutError):
        list(transport.stream(_route(transport), {}))


def test_unreachable_server_is_a_connection_error(waits: list[float]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = RouterTransport(base_url=f"http://127.0.0.1:{port}", api_key=TOKEN, max_retries=1, timeout=5)
    with pytest.raises(HFServerlessConnectionError, match="Could not reach"):
        transport.post(transport.chat_route("m"), {})
    assert len(waits) == 1  # connection failures are retried


@pytest.mark.parametrize("failure", [httpx2.ConnectError("no route to host"), ConnectionError("offline mode")])
def test_a_failed_hub_lookup_is_a_typed_connection_error(monkeypatch: pytest.MonkeyPatch, failure: Exception) -> None:
    def unreachable(model: str) -> None:
        raise failure

    for module in ("huggingface_hub.inference._providers", "huggingface_hub.inference._providers._common"):
        monkeypatch.setattr(f"{module}._fetch_inference_provider_mapping", unreachable)
    transport = RouterTransport(api_key="hf_lookup_token", provider="together")
    with pytest.raises(HFServerlessConnectionError, match="Could not look up which provider") as info:
        transport.chat_route("meta-llama/Llama-3.1-8B-Instruct")
    assert "hf_lookup_token" not in str(info.value)
    auto = RouterTransport(api_key="hf_lookup_token")
    with pytest.raises(HFServerlessConnectionError, match="feature-extraction"):
        auto.task_route("feature-extraction", "sentence-transformers/all-MiniLM-L6-v2", inputs=["a"])


def test_an_overflow_behind_a_retryable_status_is_not_retried(server: LoopbackServer, waits: list[float]) -> None:
    # A gateway may wrap the engine's overflow in a 503; retrying it would fail alike.
    message = "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens."
    server.reply(503, {"error": {"message": message}})
    transport = make(server, max_retries=2)
    with pytest.raises(HFServerlessContextOverflowError):
        transport.post(_route(transport), {})
    assert len(server.requests) == 1
    assert waits == []


_ANSWER = {
    "id": "chatcmpl-1",
    "model": "tiny",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


_SSE = (
    b'data: {"id":"c","model":"tiny","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}\n\n'
    b'data: {"id":"c","model":"tiny","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


class HangUpServer:
    """A raw HTTP/1.1 server on 127.0.0.1 that keeps connections alive and, when ``answers(conn, nth)`` says no,
    reads the ``nth`` request of connection ``conn`` (both from 0) and closes without a byte of answer: what a
    client sees when a server's idle timeout fires just as a kept-alive connection is reused.

    ``seen`` lists ``(conn, nth)`` of every request read.
    """

    def __init__(self, answers: Callable[[int, int], bool]) -> None:
        self.answers = answers
        self.seen: list[tuple[int, int]] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        conn_index = 0
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._handle, args=(conn, conn_index), daemon=True)
            thread.start()
            self._threads.append(thread)
            conn_index += 1

    def _handle(self, conn: socket.socket, index: int) -> None:
        buffer = b""
        nth = 0
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = next(
                    (
                        int(v)
                        for k, _, v in (line.partition(":") for line in lines[1:])
                        if k.lower() == "content-length"
                    ),
                    0,
                )
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                self.seen.append((index, nth))
                if not self.answers(index, nth):
                    conn.shutdown(socket.SHUT_RDWR)  # FIN, no answer
                    return
                nth += 1
                if json.loads(body).get("stream"):
                    payload, kind = _SSE, b"text/event-stream"
                else:
                    payload, kind = json.dumps(_ANSWER).encode(), b"application/json"
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: "
                    + kind
                    + b"\r\ncontent-length: "
                    + str(len(payload)).encode()
                    + b"\r\nconnection: keep-alive\r\n\r\n"
                    + payload
                )

    def close(self) -> None:
        self._stop.set()
        self._accept.join()
        self._sock.close()


@pytest.fixture
def hang_up() -> Iterator[Callable[[Callable[[int, int], bool]], HangUpServer]]:
    servers: list[HangUpServer] = []

    def make(answers: Callable[[int, int], bool]) -> HangUpServer:
        servers.append(HangUpServer(answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _stale_second_request(conn: int, nth: int) -> bool:
    """Connection 0 answers its first request and hangs up on its second; every later connection answers."""
    return not (conn == 0 and nth == 1)


def _call(chat: ChatHFServerless, how: str) -> str:
    if how == "stream":
        return "".join(str(chunk.content) for chunk in chat.stream("hello"))
    return str(chat.invoke("hello").content)


async def _acall(chat: ChatHFServerless, how: str) -> str:
    if how == "stream":
        return "".join([str(chunk.content) async for chunk in chat.astream("hello")])
    return str((await chat.ainvoke("hello")).content)


@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_request_on_a_connection_the_server_closed_is_resent_once(hang_up, how: str) -> None:
    server = hang_up(_stale_second_request)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)

    assert _call(chat, how) == "hi"
    assert _call(chat, how) == "hi"

    # The second call met the stale connection 0, then went on a fresh connection 1.
    assert server.seen == [(0, 0), (0, 1), (1, 0)]


@pytest.mark.parametrize("how", ["invoke", "stream"])
async def test_async_request_on_a_connection_the_server_closed_is_resent_once(hang_up, how: str) -> None:
    server = hang_up(_stale_second_request)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)

    assert await _acall(chat, how) == "hi"
    assert await _acall(chat, how) == "hi"

    assert server.seen == [(0, 0), (0, 1), (1, 0)]


def test_fresh_connection_hung_up_on_is_not_resent(hang_up) -> None:
    server = hang_up(lambda conn, nth: False)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)

    with pytest.raises(HFServerlessConnectionError, match="without sending a response"):
        chat.invoke("hello")
    assert server.seen == [(0, 0)]


async def test_async_fresh_connection_hung_up_on_is_not_resent(hang_up) -> None:
    server = hang_up(lambda conn, nth: False)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)

    with pytest.raises(HFServerlessConnectionError, match="without sending a response"):
        await chat.ainvoke("hello")
    assert server.seen == [(0, 0)]


def test_stale_connection_is_resent_only_once(hang_up) -> None:
    """The fresh connection hangs up too: the error comes out after exactly one resend, not a loop."""
    server = hang_up(lambda conn, nth: conn == 0 and nth == 0)
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=0)
    chat.invoke("hello")

    with pytest.raises(HFServerlessConnectionError):
        chat.invoke("hello")
    assert server.seen == [(0, 0), (0, 1), (1, 0)]


def test_resend_does_not_spend_max_retries(hang_up) -> None:
    """With max_retries=1 a stale connection plus one failing fresh attempt still has its one retry left."""
    server = hang_up(lambda conn, nth: (conn, nth) not in ((0, 1), (1, 0)))
    chat = ChatHFServerless(base_url=server.url, model="tiny", max_retries=1)
    chat.invoke("hello")

    assert chat.invoke("hello").content == "hi"
    assert server.seen == [(0, 0), (0, 1), (1, 0), (2, 0)]


def test_async_chat_looks_the_provider_up_off_the_event_loop(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """provider="together" asks the Hub for the provider's model id: a blocking HTTP call, kept off the loop."""
    from huggingface_hub.hf_api import InferenceProviderMapping
    from huggingface_hub.inference._providers import PROVIDERS, _common

    model = "meta-llama/Llama-3.1-8B-Instruct"
    mapping = InferenceProviderMapping(
        provider="together", hf_model_id=model, providerId="together/llama", task="conversational", status="live"
    )
    lookups: list[int] = []

    def fetch(name: str) -> list[Any]:
        lookups.append(threading.get_ident())
        return [mapping]

    monkeypatch.setattr(_common, "_fetch_inference_provider_mapping", fetch)
    monkeypatch.setattr(PROVIDERS["together"]["conversational"], "base_url", server.url)
    server.reply(body=CHAT_ANSWER)
    server.reply(body=CHAT_STREAM)
    llm = ChatHFServerless(model=model, provider="together", api_key="k", max_retries=0)
    ainvoke = ChatHFServerless(model=model, provider="together", api_key="k", max_retries=0)

    async def main() -> int:
        await ainvoke.ainvoke("x")
        [chunk async for chunk in llm.astream("y")]
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert lookups and loop_thread not in lookups
    assert [r.json()["model"] for r in server.requests] == ["together/llama", "together/llama"]


def test_closed_event_loops_are_released(server: LoopbackServer) -> None:
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def call() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await llm.ainvoke("x")

    for _ in range(3):
        server.reply(body=CHAT_ANSWER)
        asyncio.run(call())
    gc.collect()
    # asyncio.run() closes a loop's pooled client as the loop shuts down: no loop is kept alive by the pool, so
    # the memory held stays bounded however many asyncio.run() calls share the model.
    assert [ref() for ref in loops] == [None, None, None]


def test_undecodable_body_is_a_typed_error(server: LoopbackServer) -> None:
    server.reply(body=b"not gzip at all", headers={"content-type": "application/json", "content-encoding": "gzip"})
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    with pytest.raises(HFServerlessError):
        llm.invoke("x")


def test_redirect_loop_is_a_typed_error(server: LoopbackServer) -> None:
    server.default = None
    for _ in range(30):
        server.reply(302, b"", headers={"location": "/again"})
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    with pytest.raises(HFServerlessError):
        llm.invoke("x")


def _json_default(server: LoopbackServer) -> None:
    import json

    from tests.loopback import Answer

    server.default = Answer(200, {"content-type": "application/json"}, json.dumps(CHAT_ANSWER).encode())


def _hold_first_two(made: list[Any]) -> Any:
    """A constructor hook: the first two callers wait for each other (at most 2 s), so two threads that race to
    build the same lazy object are both caught inside; with a lock, the second never gets there."""
    both_inside = threading.Barrier(2, timeout=2)

    def hold() -> None:
        made.append(None)
        if len(made) <= 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_inside.wait()

    return hold


def test_batch_builds_one_transport(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_hfserverless import _connection

    made: list[Any] = []
    hold = _hold_first_two(made)

    class Counted(_connection.RouterTransport):
        def __init__(self, **kwargs: Any) -> None:
            hold()
            super().__init__(**kwargs)

    monkeypatch.setattr(_connection, "RouterTransport", Counted)
    _json_default(server)
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0)
    llm.batch(["a", "b", "c", "d"], config={"max_concurrency": 4})
    assert len(made) == 1


def test_batch_builds_one_pooled_client(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2

    made: list[Any] = []
    hold = _hold_first_two(made)
    original = httpx2.Client.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        hold()
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx2.Client, "__init__", counted)
    _json_default(server)
    # Pools are shared per process and timeout: a timeout no other test uses makes this batch the pool's first use.
    llm = ChatHFServerless(base_url=server.url, model="m", max_retries=0, timeout=17.25)
    assert llm._transport is not None  # built up front: this test is about the client
    llm.batch(["a", "b", "c", "d"], config={"max_concurrency": 4})
    assert len(made) == 1
