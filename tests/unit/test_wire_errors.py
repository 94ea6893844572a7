"""Error answers -> typed errors: every body shape, every status class, Retry-After, and what the message says."""

from __future__ import annotations

import email.utils
import json
from typing import Any

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
)

from langchain_hfserverless._wire import errors as wire_errors
from langchain_hfserverless._wire.errors import (
    RETRYABLE_STATUS,
    error_from_event,
    error_from_response,
    retry_after_seconds,
    server_message,
)
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessAuthenticationError,
    HFServerlessContextOverflowError,
    HFServerlessError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
    HFServerlessPaymentRequiredError,
    HFServerlessPermissionDeniedError,
    HFServerlessRateLimitError,
)
from tests.unit.test_wire_sse import HUB_CASSETTES, recorded_post

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
PROVIDER = "together"


def _err(status: int, body: Any, headers: dict[str, str] | None = None) -> HFServerlessError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_from_response(status, headers or {}, raw, model=MODEL, provider=PROVIDER)


# ---------------------------------------- body shapes


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "Model X is currently loading", "estimated_time": 20.0}, "Model X is currently loading"),
        ({"error": ["Error in `inputs.context`: field required"]}, "Error in `inputs.context`: field required"),
        ({"error": ["first problem", "second problem"]}, "first problem; second problem"),
        ({"error": {"message": "Invalid model", "type": "invalid_request_error"}}, "Invalid model"),
        ({"error": {"msg": "bad value"}}, "bad value"),
        (
            {"detail": [{"loc": ["body", "messages", 0, "role"], "msg": "field required", "type": "missing"}]},
            "field required (at body.messages.0.role)",
        ),
        (
            {"detail": [{"loc": ["body", "a"], "msg": "x"}, {"loc": ["body", "b"], "msg": "y"}]},
            "x (at body.a); y (at body.b)",
        ),
        ({"detail": "Not authenticated"}, "Not authenticated"),
        (
            {"type": "about:blank", "title": "Unprocessable Entity", "status": 422, "detail": "max_tokens too big"},
            "max_tokens too big",
        ),
        ({"type": "about:blank", "title": "Too Many Requests", "status": 429}, "Too Many Requests"),
        ({"message": "Please reduce the length of the messages.", "code": "context_length_exceeded"}, None),
        (b"Not Found", "Not Found"),
        (b"  Failed to deserialize the JSON body into the target type: messages: invalid type  ", None),
        (b"<html><body>502 Bad Gateway</body></html>", "<html><body>502 Bad Gateway</body></html>"),
        (["just", "a", "list"], "just; a; list"),
        ("a bare JSON string", "a bare JSON string"),
        (b"", ""),
        (None, ""),
    ],
)
def test_server_message_reads_every_body_shape(body: Any, expected: str | None) -> None:
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    text = server_message(raw)
    if expected is None:  # message with a code, or text stripped of padding
        assert text.strip() == text
        assert text.startswith(("Please reduce", "Failed to deserialize"))
    else:
        assert text == expected


def test_server_message_accepts_dict_and_str() -> None:
    assert server_message({"error": "x"}) == "x"
    assert server_message('{"error": "y"}') == "y"


def test_server_message_names_the_code_when_message_does_not() -> None:
    body = {
        "error": {
            "message": "Please reduce the length.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    assert server_message(json.dumps(body).encode()) == "Please reduce the length. [context_length_exceeded]"


def test_server_message_is_bounded_and_survives_bad_utf8() -> None:
    assert len(server_message(b"x" * 50_000)) == 1_000
    assert "\ufffd" in server_message(b"broken \xff\xfe bytes")


# ---------------------------------------- status classes

STATUS_CASES = [
    (401, {"error": "Invalid username or password."}, HFServerlessAuthenticationError, ModelAuthenticationError),
    (
        402,
        {"error": "You have exceeded your monthly included credits."},
        HFServerlessPaymentRequiredError,
        ModelPermissionDeniedError,
    ),
    (403, {"error": "Access to model X is restricted."}, HFServerlessPermissionDeniedError, ModelPermissionDeniedError),
    (404, b"Not Found", HFServerlessNotFoundError, ModelNotFoundError),
    (404, {"error": "Model org/x does not exist"}, HFServerlessNotFoundError, ModelNotFoundError),
    (400, {"error": ["Error in `parameters`: bad"]}, HFServerlessInvalidRequestError, ModelInvalidRequestError),
    (413, b"Payload Too Large", HFServerlessInvalidRequestError, ModelInvalidRequestError),
    (
        422,
        {"error": "Template error: bad role", "error_type": "template_error"},
        HFServerlessInvalidRequestError,
        ModelInvalidRequestError,
    ),
    (
        422,
        b"Failed to deserialize the JSON body into the target type",
        HFServerlessInvalidRequestError,
        ModelInvalidRequestError,
    ),
    (409, {"error": "conflict"}, HFServerlessInvalidRequestError, ModelInvalidRequestError),
    (429, {"error": "Rate limit reached"}, HFServerlessRateLimitError, ModelRateLimitError),
    (500, {"error": "Internal error"}, HFServerlessAPIError, ModelAPIError),
    (502, b"Bad Gateway", HFServerlessAPIError, ModelAPIError),
    (503, {"error": "overloaded"}, HFServerlessAPIError, ModelAPIError),
    (504, b"Gateway Timeout", HFServerlessAPIError, ModelAPIError),
]


@pytest.mark.parametrize(("status", "body", "cls", "core_cls"), STATUS_CASES)
def test_status_maps_to_typed_error(status: int, body: Any, cls: type, core_cls: type) -> None:
    err = _err(status, body)
    assert type(err) is cls
    assert isinstance(err, core_cls)
    assert isinstance(err, HFServerlessError)
    assert isinstance(err, ModelError)
    assert err.status_code == status
    assert err.model == MODEL
    assert err.provider == PROVIDER


@pytest.mark.parametrize(("status", "body", "cls", "core_cls"), STATUS_CASES)
def test_message_names_status_server_text_model_and_provider(status: int, body: Any, cls: type, core_cls: type) -> None:
    err = _err(status, body)
    text = str(err)
    assert f"HTTP {status}" in text
    assert MODEL in text
    assert PROVIDER in text
    assert err.server_message
    assert err.server_message in text


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        (401, "api_key="),
        (402, "credits"),
        (403, "licence"),
        (404, "model id"),
        (429, "max_retries"),
        (422, "rejected the request"),
        (503, "wait_for_model=True"),
    ],
)
def test_message_says_what_to_do(status: int, advice: str) -> None:
    assert advice in str(_err(status, {"error": "x"}))


def test_no_doubled_full_stop_after_server_sentence() -> None:
    text = str(_err(401, {"error": "Invalid username or password."}))
    assert "password.. " not in text
    assert "Invalid username or password. Check the token" in text


def test_empty_404_body_still_says_not_found() -> None:
    err = error_from_response(404, {}, b"", model=MODEL, provider=PROVIDER)
    assert err.server_message == "Not Found"
    assert "Not Found" in str(err)


def test_empty_500_body_is_said_to_be_empty() -> None:
    assert "(empty body)" in str(error_from_response(500, {}, b"", model=MODEL, provider=PROVIDER))


def test_request_id_is_kept() -> None:
    err = _err(500, {"error": "x"}, {"X-Request-Id": "Root=1-abc"})
    assert err.request_id == "Root=1-abc"


def test_retryable_statuses() -> None:
    assert frozenset({429, 502, 503, 504}) == RETRYABLE_STATUS


# ---------------------------------------- context overflow

OVERFLOW_BODIES = [
    (
        422,
        {
            "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 "
            "`inputs` tokens and 500 `max_new_tokens`",
            "error_type": "validation",
        },
    ),
    (
        400,
        {
            "error": {
                "message": "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
                "type": "BadRequestError",
                "code": 400,
            }
        },
    ),
    (
        400,
        {
            "error": {
                "message": "Please reduce the length of the messages or completion.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
    ),
    (
        400,
        {
            "message": "Please reduce the length of the messages or completion.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        },
    ),
    (413, {"error": "Input is too long for this model"}),
    (400, {"detail": "prompt is too long: 210000 tokens > 200000 maximum"}),
]


@pytest.mark.parametrize(("status", "body"), OVERFLOW_BODIES)
def test_context_overflow_is_its_own_class(status: int, body: Any) -> None:
    err = _err(status, body)
    assert isinstance(err, HFServerlessContextOverflowError)
    assert isinstance(err, ContextOverflowError)
    assert isinstance(err, HFServerlessInvalidRequestError)
    assert isinstance(err, ModelInvalidRequestError)
    assert "Shorten the conversation or lower max_tokens" in str(err)


def test_other_validation_errors_are_not_overflow() -> None:
    err = _err(
        422, {"error": "Input validation error: `temperature` must be strictly positive", "error_type": "validation"}
    )
    assert type(err) is HFServerlessInvalidRequestError


def test_overflow_wording_on_5xx_is_still_an_api_error() -> None:
    assert type(_err(500, {"error": "maximum context length exceeded while batching"})) is HFServerlessAPIError


# Each engine's own words for "the prompt does not fit", with the status it answers with.
ENGINE_OVERFLOWS = [
    pytest.param(
        400,
        {
            "error": {
                "code": 400,
                "message": "request (1100 tokens) exceeds the available context size (1024 tokens), try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 1100,
                "n_ctx": 1024,
            }
        },
        id="llama.cpp-chat",
    ),
    pytest.param(
        400,
        {"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it"}},
        id="llama.cpp-chat-older",
    ),
    pytest.param(
        500,
        {
            "error": {
                "code": 500,
                "message": "input (600 tokens) is too large to process. increase the physical batch size",
                "type": "server_error",
            }
        },
        id="llama.cpp-embeddings-500",
    ),
    pytest.param(
        400,
        {
            "object": "error",
            "message": "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
            "(4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
        id="vllm",
    ),
    pytest.param(
        400,
        {
            "object": "error",
            "message": "The prompt (total length 6287) is too long to fit into the model (context length 4096). Make "
            "sure that `max_model_len` is no smaller than the number of text tokens plus multimodal tokens.",
            "type": "BadRequestError",
            "code": 400,
        },
        id="vllm-multimodal",
    ),
    pytest.param(
        400,
        {"message": "The decoder prompt (length 5951) is longer than the maximum model length of 4096."},
        id="vllm-decoder",
    ),
    pytest.param(
        422,
        {
            "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. Given: 2000 "
            "`inputs` tokens and 100 `max_new_tokens`",
            "error_type": "validation",
        },
        id="tgi-total",
    ),
    pytest.param(
        422,
        {
            "error": "Input validation error: `inputs` must have less than 1024 tokens. Given: 1100",
            "error_type": "validation",
        },
        id="tgi-input",
    ),
    pytest.param(
        413,
        {
            "error": "Input validation error: `inputs` must have less than 512 tokens. Given: 600",
            "error_type": "Validation",
        },
        id="tei",
    ),
    pytest.param(
        400,
        {
            "object": "error",
            "message": "Requested token count exceeds the model's maximum context length of 4096 tokens. You "
            "requested a total of 5000 tokens: 4000 tokens from the input messages and 1000 tokens for the completion.",
            "type": "BadRequestError",
        },
        id="sglang",
    ),
    pytest.param(
        400,
        {"error": {"message": "The input (250000 tokens) is longer than the model's context length (200000 tokens)."}},
        id="together",
    ),
    pytest.param(
        400,
        {
            "message": "Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum "
            "context length"
        },
        id="mistral",
    ),
    pytest.param(
        400,
        {"error": {"message": "This model's maximum prompt length is 131072 but the request contains 537812 tokens"}},
        id="xai",
    ),
    pytest.param(
        400,
        {
            "error": {
                "message": "Please reduce the length of the messages or completion.",
                "type": "invalid_request_error",
                "code": "context_length_exceeded",
            }
        },
        id="groq",
    ),
    pytest.param(
        400,
        {"error": {"message": "The prompt is too long: 50000, model maximum context length: 32768"}},
        id="fireworks",
    ),
    pytest.param(400, {"error": {"message": "Too big.", "type": "exceed_context_size_error"}}, id="type-only"),
    pytest.param(400, {"error": {"message": "Too big.", "code": "model_context_window_exceeded"}}, id="code-only"),
    pytest.param(400, b"Input validation error: `inputs` must have less than 512 tokens. Given: 513", id="text-plain"),
]


@pytest.mark.parametrize(("status", "body"), ENGINE_OVERFLOWS)
def test_every_engine_overflow_is_context_overflow(status: int, body: Any) -> None:
    err = _err(status, body)
    assert isinstance(err, HFServerlessContextOverflowError)
    assert isinstance(err, ContextOverflowError)
    assert err.status_code == status
    text = str(err)
    assert f"HTTP {status}" in text and MODEL in text and PROVIDER in text
    assert "Shorten the conversation or lower max_tokens" in text
    assert "retry later" not in text  # a 500 overflow must not advise what cannot help


@pytest.mark.parametrize(("status", "body"), ENGINE_OVERFLOWS)
def test_every_engine_overflow_in_a_stream(status: int, body: Any) -> None:
    event = body if isinstance(body, dict) else {"error": body.decode()}
    err = error_from_event(event, model=MODEL, provider=PROVIDER)
    assert isinstance(err, HFServerlessContextOverflowError)
    assert "inside the stream" in str(err)


def test_overflow_is_never_a_retryable_status_from_llama_cpp_embeddings() -> None:
    err = _err(
        500,
        {
            "error": {
                "code": 500,
                "message": "input (600 tokens) is too large to process. increase the physical batch size",
            }
        },
    )
    assert isinstance(err, HFServerlessContextOverflowError)
    assert err.status_code not in RETRYABLE_STATUS


@pytest.mark.parametrize(
    "message",
    [
        "Input validation error: `temperature` must be <= 2.0. Given: 3.0",
        "Input validation error: `top_n_tokens` must be >= 0 and <= 5. Given: 10",
        "`n` > 1 is not supported",
        "the context size is fine, but 'messages' is required",
    ],
)
def test_other_bounds_are_not_overflow(message: str) -> None:
    assert type(_err(400, {"error": message})) is HFServerlessInvalidRequestError


@pytest.mark.parametrize("status", [401, 403, 404, 429])
def test_overflow_wording_does_not_hide_a_stronger_cause(status: int) -> None:
    err = _err(status, {"error": "This model's maximum context length is 4096 tokens."})
    assert not isinstance(err, ContextOverflowError)


# ---------------------------------------- Retry-After


def test_retry_after_seconds() -> None:
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after": "0.25"}) == 0.25
    assert retry_after_seconds({"RETRY-AFTER": "0"}) == 0.0
    assert retry_after_seconds({"Retry-After": "-3"}) == 0.0


def test_retry_after_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    now = 1_700_000_000.0
    monkeypatch.setattr(wire_errors.time, "time", lambda: now)
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert retry_after_seconds({"Retry-After": date}) == pytest.approx(42.0)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert retry_after_seconds({"Retry-After": past}) == 0.0


def test_retry_after_asctime_date_is_read_as_gmt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire_errors.time, "time", lambda: 784111717.0)  # 1994-11-06 08:48:37 GMT
    assert retry_after_seconds({"Retry-After": "Sun Nov  6 08:49:37 1994"}) == pytest.approx(60.0)


@pytest.mark.parametrize("value", ["soon", "soon, maybe", "Wed, 99 Foo 2015 07:28:00 GMT", ""])
def test_unreadable_retry_after_never_crashes(value: str) -> None:
    assert retry_after_seconds({"Retry-After": value}) is None
    err = _err(429, {"error": "slow down"}, {"Retry-After": value})
    assert isinstance(err, HFServerlessRateLimitError)
    assert err.retry_after is None


def test_unreadable_retry_after_falls_back_to_estimated_time() -> None:
    assert retry_after_seconds({"Retry-After": "soon"}, b'{"estimated_time": 3}') == 3.0


def test_estimated_time_of_loading_model() -> None:
    body = b'{"error": "Model X is currently loading", "estimated_time": 20.0}'
    assert retry_after_seconds({}, body) == 20.0
    err = error_from_response(503, {}, body, model=MODEL, provider="hf-inference")
    assert err.retry_after == 20.0
    assert "currently loading" in str(err)


def test_retry_after_header_wins_over_estimated_time() -> None:
    assert retry_after_seconds({"Retry-After": "2"}, b'{"estimated_time": 20.0}') == 2.0


@pytest.mark.parametrize("body", [b'{"estimated_time": -1}', b'{"estimated_time": "soon"}', b"[1]", b"nope", None])
def test_bad_estimated_time_is_ignored(body: bytes | None) -> None:
    assert retry_after_seconds({}, body) is None


def test_rate_limit_keeps_retry_after() -> None:
    assert _err(429, {"error": "x"}, {"Retry-After": "5"}).retry_after == 5.0


# ---------------------------------------- in-stream errors


def test_in_stream_validation_error() -> None:
    event = {"error": "Input validation error: `top_p` must be > 0.0 and < 1.0", "error_type": "validation"}
    err = error_from_event(event, model=MODEL, provider=PROVIDER)
    assert type(err) is HFServerlessInvalidRequestError
    assert err.status_code is None
    assert err.server_message == event["error"]
    text = str(err)
    assert event["error"] in text and MODEL in text and PROVIDER in text
    assert "[validation]" in text and "inside the stream" in text


def test_in_stream_template_error() -> None:
    err = error_from_event({"error": "Template error: x", "error_type": "template_error"}, model=MODEL, provider=None)
    assert isinstance(err, HFServerlessInvalidRequestError)


def test_in_stream_context_overflow() -> None:
    event = {
        "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048",
        "error_type": "validation",
    }
    assert isinstance(error_from_event(event, model=MODEL, provider=PROVIDER), HFServerlessContextOverflowError)


def test_in_stream_openai_invalid_request() -> None:
    event = {"error": {"message": "bad tool schema", "type": "invalid_request_error"}}
    err = error_from_event(event, model=MODEL, provider=PROVIDER)
    assert type(err) is HFServerlessInvalidRequestError
    assert "bad tool schema" in str(err)


def test_in_stream_other_error_is_api_error() -> None:
    err = error_from_event(
        {"error": "Request failed during generation: CUDA OOM", "error_type": "generation"},
        model=MODEL,
        provider=PROVIDER,
    )
    assert type(err) is HFServerlessAPIError
    assert isinstance(err, ModelAPIError)


# ---------------------------------------- real answers


def test_real_401_answer() -> None:
    status, headers, body = recorded_post(
        f"{HUB_CASSETTES}/TestInferenceClient.test_chat_completion_unprocessable_entity.yaml"
    )
    err = error_from_response(status, headers, body.encode(), model=MODEL, provider="hf-inference")
    assert isinstance(err, HFServerlessAuthenticationError)
    assert err.server_message == "Invalid username or password."
    assert err.request_id and err.request_id.startswith("Root=")


def test_real_422_text_plain_answer() -> None:
    status, headers, body = recorded_post(
        f"{HUB_CASSETTES}/InferenceClientVCRTest.test_chat_completion_unprocessable_entity.yaml"
    )
    assert headers["content-type"].startswith("text/plain")
    err = error_from_response(status, headers, body.encode(), model=MODEL, provider="hf-inference")
    assert type(err) is HFServerlessInvalidRequestError
    assert err.server_message.startswith("Failed to deserialize the JSON body")
    assert "HTTP 422" in str(err)


def test_real_400_error_list_answer() -> None:
    status, headers, body = recorded_post(f"{HUB_CASSETTES}/InferenceApiTest.test_inference_missing_input.yaml")
    err = error_from_response(status, headers, body.encode(), model="deepset/roberta-base-squad2", provider=None)
    assert type(err) is HFServerlessInvalidRequestError
    assert err.server_message == "Error in `inputs.context`: field required"


def test_real_422_validation_overflow_answer() -> None:
    status, headers, body = recorded_post(
        f"{HUB_CASSETTES}/TestTextGenerationClientVCR.test_generate_validation_error.yaml"
    )
    err = error_from_response(status, headers, body.encode(), model="google/flan-t5-xxl", provider="hf-inference")
    assert isinstance(err, HFServerlessContextOverflowError)
    assert "must be <= 1512" in str(err)
