"""Map an error answer (status, headers, body) or an in-stream error event to the package's typed errors.

Pure: takes bytes and dicts, returns exceptions. Every shape of WIRE-FORMAT.md "Errors" is read here: ``error`` as a
string, a list or an object, ``detail`` lists, ``application/problem+json``, and text/plain bodies.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

import orjson

from langchain_hfserverless._wire.headers import header
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

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})

# How each engine says "the prompt does not fit". Precise enough to trust on any status: llama.cpp's embeddings
# server says it with a 500, and an overflow is never worth a retry (the same request overflows again).
_OVERFLOW_WORDING = re.compile(
    "|".join(
        (
            r"exceeds? the available context size",  # llama.cpp: "request (N tokens) exceeds the available ..."
            r"too large to process\. increase the physical batch size",  # llama.cpp embeddings (500)
            r"maximum context length is \d+",  # vLLM, OpenAI-compatible servers, Bedrock
            r"is longer than the maximum model length",  # vLLM: "The decoder prompt (length N) is longer than ..."
            r"is too long to fit into the model",  # vLLM >= 0.7: "The prompt (total length N) is too long to fit ..."
            r"`inputs` tokens \+ `max_new_tokens` must be <=",  # TGI (and Together, which runs it)
            r"`max_new_tokens` must be <=",  # TGI: the completion alone exceeds the window
            r"`inputs` must have less than \d+ tokens",  # TEI and TGI
            r"longer than the model's context length",  # SGLang, Together: "The input (N tokens) is longer than ..."
            r"exceeds the model's maximum context length",  # SGLang: "Requested token count exceeds ..."
            r"too large for model with \d+ maximum context length",  # Mistral
            r"maximum prompt length is \d+",  # xAI
            r"prompt is too long",  # Anthropic, Fireworks
            r"please reduce the length of the messages",  # OpenAI, Groq, Cerebras, vLLM
            r"context_length_exceeded|context_window_exceeded",  # error codes quoted in the text
        )
    ),
    re.IGNORECASE,
)
# Error ``type`` / ``code`` values that name an overflow without saying it in the message.
_OVERFLOW_CODES = frozenset(
    {"context_length_exceeded", "exceed_context_size_error", "model_context_window_exceeded", "context_window_exceeded"}
)
# Looser wording, trusted only on a 4xx: on a 5xx "maximum context" may be the server's own batching failure.
_CONTEXT_OVERFLOW_MARKERS = (
    "context length",
    "context window",
    "maximum context",
    "too many tokens",
    "input is too long",
    "maximum input length",
    "exceeds the maximum",
)

_MAX_QUOTED = 1_000


def _with_code(text: str, value: Mapping[str, Any]) -> str:
    """OpenAI-style bodies may name the cause only in ``code`` (e.g. ``"context_length_exceeded"``)."""
    code = value.get("code")
    return f"{text} [{code}]" if isinstance(code, str) and code and code not in text else text


def _text_of(value: Any) -> str:
    """Flatten whatever a server put in its error field into one readable line."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(filter(None, (_text_of(v) for v in value)))
    if isinstance(value, Mapping):
        for key in ("message", "msg", "error", "detail", "title"):
            if value.get(key):
                text = _text_of(value[key])
                loc = value.get("loc")
                if isinstance(loc, list):
                    text = f"{text} (at {'.'.join(map(str, loc))})"
                return _with_code(text, value)
        return orjson.dumps(value).decode()
    return str(value)


def server_message(body: bytes | str | Mapping[str, Any] | None) -> str:
    """The server's own error text, from any body shape seen in production."""
    if body is None:
        return ""
    if isinstance(body, Mapping):
        data: Any = body
    else:
        raw = body.encode() if isinstance(body, str) else body
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw.decode("utf-8", "replace").strip()[:_MAX_QUOTED]
    if isinstance(data, Mapping):
        for key in ("error", "detail", "message", "title"):
            if data.get(key):
                return _with_code(_text_of(data[key]), data)[:_MAX_QUOTED]
    return _text_of(data)[:_MAX_QUOTED]


def _body_dict(body: bytes | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def retry_after_seconds(headers: Mapping[str, str], body: bytes | None = None) -> float | None:
    """Seconds the server asked for: ``Retry-After`` (seconds or HTTP date), else a 503's ``estimated_time``."""
    value = header(headers, "retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None  # unreadable: fall back to estimated_time or our own backoff, never crash
        if parsed is not None:
            if parsed.tzinfo is None:  # asctime form: HTTP dates are always GMT
                parsed = parsed.replace(tzinfo=datetime.timezone.utc)
            return max(0.0, parsed.timestamp() - time.time())
    estimated = _body_dict(body).get("estimated_time")
    if isinstance(estimated, (int, float)) and estimated >= 0:
        return float(estimated)
    return None


def _error_codes(body: Mapping[str, Any]) -> set[str]:
    """The ``type`` and ``code`` strings of an error body, at its top level and inside ``error``."""
    found: set[str] = set()
    for where in (body, body.get("error")):
        if isinstance(where, Mapping):
            found.update(v for k in ("type", "code", "error_type") if isinstance(v := where.get(k), str))
    return found


def is_context_overflow(status: int | None, message: str, body: Mapping[str, Any] | None = None) -> bool:
    """Whether an error says the prompt (plus ``max_tokens``) does not fit the model's context window.

    Reads every engine's wording (llama.cpp, vLLM, TGI, TEI, SGLang, the router's providers) and the error codes
    ``context_length_exceeded`` / ``exceed_context_size_error``. Any status counts for the precise wording (llama.cpp's
    embeddings server answers an overflow with a 500); the looser phrases only on a 4xx or an in-stream error.
    """
    if _OVERFLOW_WORDING.search(message) or (body and _error_codes(body) & _OVERFLOW_CODES):
        return True
    if status is not None and not 400 <= status < 500:
        return False
    lowered = message.lower()
    return any(marker in lowered for marker in _CONTEXT_OVERFLOW_MARKERS)


_OVERFLOW_ADVICE = (
    "Shorten the conversation or lower max_tokens (for embeddings: shorten the input); a retry would fail alike."
)


def _advice(status: int, message: str) -> str:
    if status == 401:
        return "Check the token: pass api_key=, set HF_TOKEN, or run `hf auth login`."
    if status == 402:
        return "The account has no inference credits left: add credits, set bill_to=, or pick another provider."
    if status == 403:
        return "The token lacks permission: accept the model's licence on the Hub or enable 'Inference' on the token."
    if status in (404, 410):  # 410: the router's "model is deprecated and no longer supported by provider"
        return "Check the model id, and that the provider serves it (see the model page's Inference Providers)."
    if status == 429:
        return "Rate limited: lower concurrency, raise max_retries, or wait before retrying."
    if status in (400, 413, 422):
        return "The server rejected the request; the message above says which parameter."
    if status >= 500:
        return "The provider failed; retry later, set wait_for_model=True for a loading model, or try another provider."
    return ""


def describe(
    status: int | None, message: str, *, model: str | None, provider: str | None, overflow: bool = False
) -> str:
    where = f"model {model!r}" + (f" via provider {provider!r}" if provider else "")
    head = f"HTTP {status} from {where}" if status is not None else f"Error from {where}"
    advice = _OVERFLOW_ADVICE if overflow else (_advice(status, message) if status is not None else "")
    text = f"{head}: {message or '(empty body)'}"
    if not advice:
        return text
    return f"{text} {advice}" if text.endswith((".", "!", "?")) else f"{text}. {advice}"


def _overflow_status(status: int) -> bool:
    """Statuses an overflow may come with: any 4xx that names no other cause, and a 5xx (llama.cpp embeddings)."""
    return status not in (401, 402, 403, 404, 410, 429) and status >= 400


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    model: str | None,
    provider: str | None,
) -> HFServerlessError:
    """The typed error for a non-2xx answer.

    A prompt over the context window is :class:`HFServerlessContextOverflowError` whatever the engine calls it and
    whatever status it comes with (llama.cpp's embeddings server says it with a 500); it is never retried.
    """
    message = server_message(body)
    if not message and status == 404:
        message = "Not Found"
    overflow = _overflow_status(status) and is_context_overflow(status, message, _body_dict(body))
    kwargs: dict[str, Any] = {
        "status_code": status,
        "server_message": message,
        "model": model,
        "provider": provider,
        "retry_after": retry_after_seconds(headers, body),
        "request_id": header(headers, "x-request-id"),
    }
    text = describe(status, message, model=model, provider=provider, overflow=overflow)
    cls: type[HFServerlessError]
    if overflow:
        cls = HFServerlessContextOverflowError
    elif status == 401:
        cls = HFServerlessAuthenticationError
    elif status == 402:
        cls = HFServerlessPaymentRequiredError
    elif status == 403:
        cls = HFServerlessPermissionDeniedError
    elif status in (404, 410):
        cls = HFServerlessNotFoundError
    elif status == 429:
        cls = HFServerlessRateLimitError
    elif 400 <= status < 500:
        cls = HFServerlessInvalidRequestError
    else:
        cls = HFServerlessAPIError
    return cls(text, **kwargs)


def error_from_event(event: Mapping[str, Any], *, model: str | None, provider: str | None) -> HFServerlessError:
    """The typed error for ``data: {"error": ...}`` inside a 200 stream (or a 200 JSON body that is an error)."""
    message = server_message(event)
    error_type = event.get("error_type")
    overflow = is_context_overflow(None, message, event)
    cls: type[HFServerlessError]
    if overflow:
        cls = HFServerlessContextOverflowError
    elif error_type in ("validation", "template_error") or (
        isinstance(event.get("error"), Mapping) and event["error"].get("type") == "invalid_request_error"
    ):
        cls = HFServerlessInvalidRequestError
    else:
        cls = HFServerlessAPIError
    suffix = f" [{error_type}]" if error_type else ""
    text = describe(None, message + suffix, model=model, provider=provider, overflow=overflow)
    return cls(text + " (reported inside the stream)", server_message=message, model=model, provider=provider)
