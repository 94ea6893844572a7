"""What llama-server answers when something is wrong, and what the package makes of it: auth, context overflow
(never retried: a counting proxy shows the server got exactly one request), and the engine's other 4xx/5xx."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelInvalidRequestError,
)
from langchain_core.messages import HumanMessage

from langchain_hfserverless import ChatHFServerless, HFServerlessEmbeddings
from langchain_hfserverless.errors import (
    HFServerlessAuthenticationError,
    HFServerlessContextOverflowError,
    HFServerlessInvalidRequestError,
)
from tests.real_servers.conftest import API_KEY, CHAT_MODEL, N_CTX, CountingProxy

pytestmark = pytest.mark.real_server

# Far over the 1024-token context whatever the tokenizer makes of it (about a token a word).
TOO_LONG = "word " * (3 * N_CTX)


def _chat(url: str, **kwargs: Any) -> ChatHFServerless:
    kwargs.setdefault("api_key", API_KEY)
    kwargs.setdefault("max_tokens", 8)
    return ChatHFServerless(base_url=url, model=CHAT_MODEL, timeout=120, **kwargs)


# ---------------------------------------- auth


@pytest.mark.parametrize("key", [None, "wrong-key"], ids=["no-key", "wrong-key"])
def test_missing_or_wrong_key_is_an_authentication_error(chat_proxy: CountingProxy, key: str | None) -> None:
    chat = _chat(chat_proxy.url, api_key=key, max_retries=2)

    with pytest.raises(HFServerlessAuthenticationError) as caught:
        chat.invoke("hi")
    assert isinstance(caught.value, ModelAuthenticationError)
    assert caught.value.status_code == 401
    assert "Check the token" in str(caught.value)
    if key:
        assert key not in str(caught.value)
    assert chat_proxy.count() == 1  # a 401 is not retried


async def test_wrong_key_when_streaming(chat_url: str) -> None:
    with pytest.raises(ModelAuthenticationError):
        async for _ in _chat(chat_url, api_key="wrong-key", max_retries=0).astream("hi"):
            pass


def test_right_key_works(chat_url: str) -> None:
    assert isinstance(_chat(chat_url).invoke("hi").content, str)


# ---------------------------------------- context overflow


def _assert_overflow(exc: BaseException) -> None:
    assert isinstance(exc, HFServerlessContextOverflowError)
    assert isinstance(exc, ContextOverflowError)
    assert exc.status_code == 400
    assert "exceeds the available context size" in (exc.server_message or "")
    assert "Shorten the conversation or lower max_tokens" in str(exc)


def test_prompt_over_the_context_is_context_overflow_and_not_retried(chat_proxy: CountingProxy) -> None:
    chat = _chat(chat_proxy.url, max_retries=2)

    with pytest.raises(ContextOverflowError) as caught:
        chat.invoke(TOO_LONG)
    _assert_overflow(caught.value)
    assert chat_proxy.count() == 1


def test_streamed_prompt_over_the_context_is_context_overflow(chat_proxy: CountingProxy) -> None:
    chat = _chat(chat_proxy.url, max_retries=2)

    with pytest.raises(ContextOverflowError) as caught:
        for _ in chat.stream(TOO_LONG):
            pass
    _assert_overflow(caught.value)
    assert chat_proxy.count() == 1


async def test_async_overflow_is_context_overflow_and_not_retried(chat_proxy: CountingProxy) -> None:
    chat = _chat(chat_proxy.url, max_retries=2)

    with pytest.raises(ContextOverflowError) as caught:
        await chat.ainvoke(TOO_LONG)
    _assert_overflow(caught.value)
    with pytest.raises(ContextOverflowError):
        async for _ in chat.astream(TOO_LONG):
            pass
    assert chat_proxy.count() == 2


def test_embedding_input_over_the_batch_is_context_overflow_and_not_retried(embed_proxy: CountingProxy) -> None:
    """llama.cpp's embeddings server says it with a 500: still an overflow, still not retried."""
    embeddings = HFServerlessEmbeddings(base_url=f"{embed_proxy.url}/v1/embeddings", max_retries=2, timeout=120)

    with pytest.raises(ContextOverflowError) as caught:
        embeddings.embed_query(TOO_LONG)
    assert isinstance(caught.value, HFServerlessContextOverflowError)
    assert caught.value.status_code == 500
    assert "too large to process" in (caught.value.server_message or "")
    assert embed_proxy.count("/v1/embeddings") == 1


# ---------------------------------------- the engine's other errors


def test_n_over_one_is_an_invalid_request(chat_proxy: CountingProxy) -> None:
    chat = _chat(chat_proxy.url, max_retries=2, model_kwargs={"n": 2})

    with pytest.raises(HFServerlessInvalidRequestError) as caught:
        chat.invoke("hi")
    assert not isinstance(caught.value, ContextOverflowError)
    assert isinstance(caught.value, ModelInvalidRequestError)
    assert caught.value.status_code == 400
    assert caught.value.server_message
    assert chat_proxy.count() == 1


_BAD_TOOL = {
    "type": "function",
    "function": {"name": "x", "parameters": {"type": "object", "properties": {"a": {"type": "nonsense"}}}},
}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param({"response_format": {"type": "no-such-format"}}, "response_format type", id="response-format"),
        pytest.param({"logprobs": False, "top_logprobs": 5}, "top_logprobs requires logprobs", id="top-logprobs"),
        pytest.param(
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "nonsense"}}}},
            "unrecognized type",
            id="json-schema-unknown-type",
        ),
        pytest.param({"tools": [_BAD_TOOL]}, "unrecognized type", id="tool-schema-unknown-type"),
    ],
)
def test_malformed_ish_requests_are_invalid_requests_and_not_retried(
    chat_proxy: CountingProxy, body: dict[str, Any], says: str
) -> None:
    chat = _chat(chat_proxy.url, max_retries=2)

    with pytest.raises(HFServerlessInvalidRequestError) as caught:
        chat.invoke("hi", **body)  # call-time keys go into the body as given
    assert type(caught.value) is HFServerlessInvalidRequestError
    assert caught.value.status_code == 400
    assert says in (caught.value.server_message or "")
    assert "the message above says which parameter" in str(caught.value)
    assert chat_proxy.count() == 1


def test_image_to_a_text_only_model_is_a_500_api_error_not_retried(chat_proxy: CountingProxy) -> None:
    """llama-server says "image input is not supported" with a 500: a server error, but not a retryable one."""
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    chat = _chat(chat_proxy.url, max_retries=2)

    with pytest.raises(ModelAPIError) as caught:
        chat.invoke([HumanMessage(content=[{"type": "text", "text": "What is it?"}, image])])
    assert caught.value.status_code == 500  # type: ignore[attr-defined]
    assert "image input is not supported" in (caught.value.server_message or "")  # type: ignore[attr-defined]
    assert chat_proxy.count() == 1


def test_embeddings_on_the_chat_server_is_a_501_api_error(chat_proxy: CountingProxy) -> None:
    embeddings = HFServerlessEmbeddings(base_url=f"{chat_proxy.url}/v1/embeddings", api_key=API_KEY, max_retries=2)

    with pytest.raises(ModelAPIError) as caught:
        embeddings.embed_query("hi")
    assert caught.value.status_code == 501  # type: ignore[attr-defined]
    assert "--embeddings" in (caught.value.server_message or "")  # type: ignore[attr-defined]
    assert chat_proxy.count("/v1/embeddings") == 1
