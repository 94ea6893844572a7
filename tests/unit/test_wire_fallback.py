"""``_wire/fallback.py``: capability-aware provider fallback, the pure policy: which failure moves on to the next
provider, and the error that lists every attempt."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_hfserverless import (
    HFServerlessInvalidRequestError,
)
from langchain_hfserverless._wire.errors import error_from_event, error_from_response
from langchain_hfserverless._wire.fallback import Attempt, FallbackPlan, fallback_reason
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessConnectionError,
    HFServerlessContextOverflowError,
    HFServerlessTimeoutError,
)

MODEL = "meta-llama/Llama-3.3-70B-Instruct"


UNSUPPORTED = {
    "error": {
        "message": "together does not support the following parameters: response_format",
        "type": "invalid_request_error",
        "code": "UNSUPPORTED_OPENAI_PARAMS",
    }
}


def err(status: int, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else __import__("json").dumps(body).encode()
    return error_from_response(status, {}, raw, model=MODEL, provider="auto")


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (err(400, UNSUPPORTED), "does not support the request"),
        (err(422, {"error": "Model does not support tool_choice 'required'"}), "does not support the request"),
        (err(400, {"error": "Function calling is not supported for this model"}), "does not support the request"),
        (err(400, {"error": {"message": "bad model", "code": "model_not_supported"}}), "does not serve the model"),
        (err(402, {"error": "You have exceeded your monthly included credits"}), "out of credits"),
        (err(404, b"Not Found"), "does not serve the model"),
        (err(429, {"error": "rate limit"}), "rate limited after retries"),
        (err(503, {"error": "overloaded"}), "server error 503 after retries"),
        (err(500, {"error": "boom"}), "server error 500 after retries"),
        (HFServerlessConnectionError("refused"), "unreachable"),
        (HFServerlessTimeoutError("slow"), "timed out"),
        (error_from_event({"error": "overloaded"}, model=MODEL, provider="x"), "failed before answering"),
        # Not reasons: the same request would fail everywhere, or the caller must act.
        (err(401, {"error": "Invalid username or password."}), None),
        (err(403, {"error": "gated"}), None),
        (err(400, {"error": "temperature must be positive"}), None),
        (err(422, {"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"}), None),
        (ValueError("not ours"), None),
    ],
)
def test_fallback_reason(exc: BaseException, reason: str | None) -> None:
    assert fallback_reason(exc) == reason


def test_context_overflow_is_never_a_reason() -> None:
    exc = err(400, {"error": "This model's maximum context length is 8192 tokens, not supported"})
    assert isinstance(exc, HFServerlessContextOverflowError)
    assert fallback_reason(exc) is None


def test_plan_raises_the_unchanged_error_without_fallbacks() -> None:
    plan = FallbackPlan([])
    exc = err(503, {"error": "overloaded"})
    with pytest.raises(HFServerlessAPIError) as info:
        plan.after(plan.first, exc)
    assert info.value is exc


def test_plan_summary_lists_every_provider() -> None:
    plan = FallbackPlan(["together", "nebius"])
    errors = [err(400, UNSUPPORTED), err(402, {"error": "no credits"}), err(503, {"error": "overloaded"})]
    attempt = plan.first
    with pytest.raises(HFServerlessAPIError) as info:
        for exc in errors:
            attempt = plan.after(attempt, exc)
    text = str(info.value)
    assert "auto: does not support the request" in text
    assert "together: out of credits (402: no credits)" in text
    assert "nebius: server error 503 after retries" in text
    assert info.value.status_code == 503 and info.value.__cause__ is errors[-1]


def test_plan_retries_once_in_grammar_form_when_learning() -> None:
    plan = FallbackPlan([], learn_grammar=True)
    rejection = err(422, b"Failed to deserialize the JSON body: response_format: unknown variant `json_schema`")
    assert plan.after(plan.first, rejection) == Attempt(None, grammar=True)
    with pytest.raises(HFServerlessInvalidRequestError):
        plan.after(Attempt(None, grammar=True), rejection)  # learnt once; the same rejection again is final
