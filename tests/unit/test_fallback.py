"""Capability-aware provider fallback: the pure policy, then invoke/ainvoke/stream/astream against a real server."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_hfserverless import (
    ChatHFServerless,
    HFServerlessAuthenticationError,
    HFServerlessInvalidRequestError,
    HFServerlessPaymentRequiredError,
)
from langchain_hfserverless._wire.errors import error_from_event, error_from_response
from langchain_hfserverless._wire.fallback import Attempt, FallbackPlan, fallback_reason
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessConnectionError,
    HFServerlessContextOverflowError,
    HFServerlessTimeoutError,
)
from tests.loopback import LoopbackServer, sse

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


# ---------------------------------------------------------------------------- the pure policy


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


# ---------------------------------------------------------------------------- through the router


@pytest.fixture
def router(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> LoopbackServer:
    """The loopback server standing in for router.huggingface.co (``HF_ROUTER_URL``, the router_url default)."""
    monkeypatch.setenv("HF_ROUTER_URL", server.url)
    return server


def llm(**kw: Any) -> ChatHFServerless:
    kw.setdefault("fallback_providers", ["together", "nebius"])
    kw.setdefault("model", MODEL)
    kw.setdefault("capability_routing", False)  # these tests are about fallback_providers alone
    return ChatHFServerless(api_key="hf_test", max_retries=0, **kw)


def completion(text: str = "Paris.") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1767213635,
        "model": "llama-3.3-70b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }


def chunks(*pieces: str, done: bool = True) -> list[bytes]:
    events = [{"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    return sse(*events, done=done)


def sent_models(server: LoopbackServer) -> list[str]:
    return [r.json()["model"] for r in server.requests]


def test_unsupported_parameter_falls_back_and_names_the_provider(router: LoopbackServer) -> None:
    router.reply(400, UNSUPPORTED)
    router.reply(body=completion())  # no X-Inference-Provider header: the routed provider is reported
    message = llm().invoke("Capital of France?")
    assert message.content == "Paris."
    assert message.response_metadata["inference_provider"] == "together"
    assert sent_models(router) == [MODEL, f"{MODEL}:together"]
    assert router.requests[1].json()["messages"] == router.requests[0].json()["messages"]


def test_router_header_wins_over_the_routed_name(router: LoopbackServer) -> None:
    router.reply(402, {"error": "You have exceeded your monthly included credits for Inference Providers."})
    router.reply(body=completion(), headers={"x-inference-provider": "together-ai-eu"})
    assert llm().invoke("hi").response_metadata["inference_provider"] == "together-ai-eu"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, b"Not Found"),
        (400, {"error": {"message": "Model not supported by provider", "code": "model_not_supported"}}),
        (429, {"error": "Too many requests"}),
        (503, {"error": "Model meta-llama/Llama-3.3-70B-Instruct is currently loading", "estimated_time": 0.0}),
    ],
)
def test_each_capability_failure_moves_on(router: LoopbackServer, status: int, body: Any) -> None:
    router.reply(status, body)
    router.reply(body=completion())
    assert llm().invoke("hi").content == "Paris."
    assert sent_models(router) == [MODEL, f"{MODEL}:together"]


def test_auth_errors_never_fall_back(router: LoopbackServer) -> None:
    router.reply(401, {"error": "Invalid username or password."})
    with pytest.raises(HFServerlessAuthenticationError):
        llm().invoke("hi")
    assert len(router.requests) == 1


def test_plain_bad_request_never_falls_back(router: LoopbackServer) -> None:
    router.reply(422, {"error": "Input validation error: `temperature` must be strictly positive"})
    with pytest.raises(HFServerlessInvalidRequestError, match="temperature"):
        llm().invoke("hi", temperature=0.0)
    assert len(router.requests) == 1


def test_all_failing_raises_the_last_error_listing_everyone(router: LoopbackServer) -> None:
    router.reply(400, UNSUPPORTED)
    router.reply(404, b"Not Found", headers={"content-type": "text/plain"})
    router.reply(402, {"error": "out of credits"})
    with pytest.raises(HFServerlessPaymentRequiredError) as info:
        llm().invoke("hi")
    text = str(info.value)
    assert "auto: does not support the request" in text
    assert "together: does not serve the model" in text
    assert "nebius: out of credits" in text
    assert sent_models(router) == [MODEL, f"{MODEL}:together", f"{MODEL}:nebius"]


def test_without_fallbacks_the_error_is_unchanged(router: LoopbackServer) -> None:
    router.reply(402, {"error": "out of credits"})
    with pytest.raises(HFServerlessPaymentRequiredError) as info:
        llm(fallback_providers=None).invoke("hi")
    assert "Every provider failed" not in str(info.value)
    assert len(router.requests) == 1


def test_suffix_model_and_duplicate_providers(router: LoopbackServer) -> None:
    router.reply(503, {"error": "overloaded"})
    router.reply(body=completion())
    model = llm(model=f"{MODEL}:together", fallback_providers=["together", "nebius"]).invoke("hi")
    assert sent_models(router) == [f"{MODEL}:together", f"{MODEL}:nebius"]
    assert model.response_metadata["inference_provider"] == "nebius"


def test_tools_and_response_format_go_to_every_provider(router: LoopbackServer) -> None:
    router.reply(400, UNSUPPORTED)
    router.reply(body=completion('{"city": "Paris"}'))

    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "sunny"

    bound = llm().bind_tools([get_weather], tool_choice="auto", response_format={"type": "json_object"})
    bound.invoke("hi")
    first, second = (r.json() for r in router.requests)
    for key in ("tools", "tool_choice", "response_format", "messages"):
        assert first[key] == second[key]


async def test_ainvoke_falls_back(router: LoopbackServer) -> None:
    router.reply(400, UNSUPPORTED)
    router.reply(402, {"error": "no credits"})
    router.reply(body=completion())
    message = await llm().ainvoke("hi")
    assert message.response_metadata["inference_provider"] == "nebius"
    assert sent_models(router) == [MODEL, f"{MODEL}:together", f"{MODEL}:nebius"]


def test_stream_falls_back_before_the_first_chunk(router: LoopbackServer) -> None:
    router.reply(400, UNSUPPORTED)
    router.reply(body=sse({"error": "Model is overloaded", "error_type": "overloaded"}))  # 200 stream, error first
    router.reply(body=chunks("Par", "is."))
    parts = list(llm().stream("hi"))
    assert "".join(str(p.content) for p in parts) == "Paris."
    assert parts[-1].response_metadata["inference_provider"] == "nebius"
    assert [r.json()["stream"] for r in router.requests] == [True, True, True]


def test_stream_never_falls_back_after_a_chunk(router: LoopbackServer) -> None:
    error = {"error": "Model is overloaded", "error_type": "overloaded"}
    router.reply(body=chunks("Par", done=False) + sse(error, done=False))
    router.reply(body=chunks("never"))
    seen = []
    with pytest.raises(HFServerlessAPIError, match="overloaded"):
        for part in llm().stream("hi"):
            seen.append(part.content)
    assert seen == ["Par"]
    assert len(router.requests) == 1


async def test_astream_falls_back(router: LoopbackServer) -> None:
    router.reply(404, b"Not Found")
    router.reply(body=chunks("Bon", "jour"), headers={"x-inference-provider": "together"})
    parts = [p async for p in llm().astream("hi")]
    assert "".join(str(p.content) for p in parts) == "Bonjour"
    assert parts[-1].response_metadata["inference_provider"] == "together"


def test_streaming_invoke_uses_the_same_fallback(router: LoopbackServer) -> None:
    router.reply(503, {"error": "overloaded"})
    router.reply(body=chunks("ok"))
    assert llm(streaming=True).invoke("hi").content == "ok"


def test_explicit_provider_without_header_is_reported(router: LoopbackServer) -> None:
    router.reply(body=completion())
    message = llm(model=f"{MODEL}:cerebras", fallback_providers=None).invoke("hi")
    assert message.response_metadata["inference_provider"] == "cerebras"


def test_auto_without_header_reports_nothing_invented(router: LoopbackServer) -> None:
    router.reply(body=completion())
    assert "inference_provider" not in llm(fallback_providers=None).invoke("hi").response_metadata


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_url": "http://127.0.0.1:1", "fallback_providers": ["together"]}, "needs the Hugging Face router"),
        ({"model": MODEL, "fallback_providers": [""]}, "provider names"),
        ({"model": MODEL, "fallback_providers": ["together:fast"]}, "provider names"),
    ],
)
def test_bad_fallback_configuration(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ChatHFServerless(**kwargs)
