"""Strict construction: unknown keywords, model_kwargs that shadow fields, and numeric ranges raise at once."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.rate_limiters import InMemoryRateLimiter
from pydantic import ValidationError

from langchain_hfserverless import (
    ChatHFServerless,
    HFServerlessEmbeddings,
    HFServerlessLLM,
    HFServerlessToolkit,
)
from langchain_hfserverless.tools import TranslationTool
from tests.loopback import LoopbackServer

ADAPTERS: dict[str, Any] = {
    "chat": lambda **kw: ChatHFServerless(model="org/m", **kw),
    "llm": lambda **kw: HFServerlessLLM(model="org/m", **kw),
    "embeddings": lambda **kw: HFServerlessEmbeddings(model="org/m", **kw),
    "toolkit": lambda **kw: HFServerlessToolkit(**kw),
    "task tool": lambda **kw: TranslationTool(**kw),
}
WITH_MODEL_KWARGS = ("chat", "llm", "embeddings")


# ---------------------------------------------------------------------------------------------- unknown keywords


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_unknown_keyword_raises_naming_it_and_the_closest_field(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTERS[name](timout=3, foo=1)
    message = str(caught.value)
    assert "'timout'" in message
    assert "did you mean 'timeout'?" in message
    assert "'foo'" in message


def test_chat_typo_suggests_temperature_and_points_extras_to_model_kwargs() -> None:
    with pytest.raises(ValueError) as caught:
        ChatHFServerless(model="org/m", tempreature=0.1, foo=1)
    message = str(caught.value)
    assert "'tempreature' (did you mean 'temperature'?)" in message
    assert "model_kwargs={'foo': ...}" in message


@pytest.mark.parametrize("name", WITH_MODEL_KWARGS)
def test_adapters_with_model_kwargs_name_it_in_the_message(name: str) -> None:
    with pytest.raises(ValidationError, match=r"model_kwargs=\{'logit_bias': \.\.\.\}"):
        ADAPTERS[name](logit_bias={"50256": -100})  # reasoning_effort is a chat field now


def test_toolkit_has_no_model_kwargs_to_suggest() -> None:
    with pytest.raises(ValidationError) as caught:
        HFServerlessToolkit(colour="red")
    assert "'colour'" in str(caught.value)
    assert "model_kwargs" not in str(caught.value)


def test_documented_aliases_and_langchain_core_fields_still_work(server: LoopbackServer) -> None:
    class Seen(BaseCallbackHandler):
        starts = 0

        def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
            Seen.starts += 1

    llm = ChatHFServerless(
        model_name="org/m",
        base_url=server.url,
        hf_token="hf_explicit",
        stop_sequences=["END"],
        rate_limiter=InMemoryRateLimiter(requests_per_second=100),
        output_version="v1",
        tags=["t"],
        metadata={"k": "v"},
        callbacks=[Seen()],
        disable_streaming=True,
        cache=False,
        verbose=False,
        name="mine",
    )
    server.reply(body={"choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]})
    llm.invoke("hello")
    sent = server.requests[0]
    assert sent.json()["model"] == "org/m"
    assert sent.json()["stop"] == ["END"]
    assert {k.lower(): v for k, v in sent.headers.items()}["authorization"] == "Bearer hf_explicit"
    assert Seen.starts == 1
    HFServerlessLLM(model="org/m", huggingfacehub_api_token="hf_x", tags=["t"], cache=False)
    HFServerlessEmbeddings(model="org/m", hf_token="hf_x")
    HFServerlessToolkit(hf_token="hf_x", tasks=["translation"])


# ---------------------------------------------------------------------------------------------- model_kwargs


@pytest.mark.parametrize(
    ("name", "key"),
    [("chat", "temperature"), ("chat", "max_tokens"), ("llm", "top_k"), ("llm", "stop"), ("embeddings", "normalize")],
)
def test_model_kwargs_key_that_is_a_field_raises(name: str, key: str) -> None:
    with pytest.raises(ValidationError, match=rf"model_kwargs holds '{key}'.*pass {key}=\.\.\. instead"):
        ADAPTERS[name](model_kwargs={key: 1})


def test_model_kwargs_keeps_provider_keys_and_langchain_names(server: LoopbackServer) -> None:
    llm = ChatHFServerless(base_url=server.url, model_kwargs={"top_k": 5, "metadata": {"user": "u1"}})
    server.reply(body={"choices": [{"message": {"role": "assistant", "content": "hi"}}]})
    llm.invoke("hello")
    body = server.requests[0].json()
    assert body["top_k"] == 5
    assert body["metadata"] == {"user": "u1"}


# ---------------------------------------------------------------------------------------------- ranges


@pytest.mark.parametrize("name", list(ADAPTERS))
@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_timeout_must_be_positive(name: str, timeout: float) -> None:
    with pytest.raises(ValidationError, match=r"timeout must be a number of seconds > 0, or None for no limit"):
        ADAPTERS[name](timeout=timeout)


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_timeout_none_and_positive_are_fine(name: str) -> None:
    ADAPTERS[name](timeout=None)
    ADAPTERS[name](timeout=0.5)


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_max_retries_must_not_be_negative(name: str) -> None:
    with pytest.raises(ValidationError, match=r"max_retries must be 0 \(a single attempt\) or more"):
        ADAPTERS[name](max_retries=-1)
    ADAPTERS[name](max_retries=0)


@pytest.mark.parametrize(
    ("name", "field", "bad", "allowed", "good"),
    [
        ("chat", "max_tokens", 0, ">= 1", 1),
        ("chat", "top_logprobs", -1, ">= 0", 0),
        ("chat", "temperature", -0.1, ">= 0", 0),
        ("chat", "top_p", 1.5, ">= 0 and <= 1", 1),
        ("llm", "max_new_tokens", 0, ">= 1", 1),
        ("llm", "temperature", -1, ">= 0", 0),
        ("llm", "top_p", 0, "> 0 and <= 1", 0.9),
        ("llm", "top_k", 0, ">= 1", 1),
        ("llm", "repetition_penalty", 0, "> 0", 1.1),
        ("llm", "max_concurrency", 0, "greater than 0", 1),
        ("embeddings", "batch_size", 0, "greater than 0", 1),
        ("embeddings", "max_concurrency", 0, "greater than 0", 1),
        ("embeddings", "dimensions", 0, "greater than 0", 8),
    ],
)
def test_numeric_ranges_are_checked_at_construction(
    name: str, field: str, bad: float, allowed: str, good: float
) -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTERS[name](**{field: bad})
    assert field in str(caught.value)
    assert allowed in str(caught.value)
    ADAPTERS[name](**{field: good})


def test_timeout_zero_never_reaches_the_server(server: LoopbackServer) -> None:
    with pytest.raises(ValidationError):
        ChatHFServerless(base_url=server.url, timeout=0)
    assert server.requests == []
