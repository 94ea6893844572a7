"""Side by side: ``ChatOpenAI(use_responses_api=True)`` and ours against the same responses.js and recordings.

Each test pins what langchain-openai gets right or wrong here (README "Responses API" sums it up), so a change in
either package shows. Skipped when langchain-openai is not installed (it is a test extra).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from langchain_hfserverless.errors import HFServerlessAuthenticationError
from tests.loopback import LoopbackServer
from tests.responses_api.recordings import MODEL, SSE, chatlas, synthetic_reasoning, tgi_stream, unauthorized
from tests.responses_api.test_responses_js import (
    KEY,
    TERSE,
    TGI_TOOLS,
    ArticleSummary,
    get_current_weather,
    responses_route,
)

pytestmark = pytest.mark.responses_js
langchain_openai = pytest.importorskip("langchain_openai")


def openai(url: str) -> Any:
    return langchain_openai.ChatOpenAI(
        model=MODEL, base_url=f"{url}/v1", api_key=KEY, use_responses_api=True, max_retries=0
    )


def total(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    result = chunks[0]
    for chunk in chunks[1:]:
        result = result + chunk
    return result


def test_both_get_text_usage_tools_and_structured_output(upstream: LoopbackServer, responses_js: str) -> None:
    text = chatlas("test_huggingface_simple_streaming_request.yaml", 0)
    for _ in range(2):
        upstream.reply(200, text, headers=SSE)
    theirs, ours = openai(responses_js).invoke(TERSE), responses_route(responses_js).invoke(TERSE)
    assert theirs.text == ours.text == "2"
    assert theirs.usage_metadata["total_tokens"] == ours.usage_metadata["total_tokens"] == 53  # type: ignore[index]
    assert isinstance(theirs.content, list) and ours.content == "2"  # theirs: Responses blocks even in v0
    assert "inference_provider" not in theirs.response_metadata

    for _ in range(2):
        upstream.reply(200, tgi_stream(TGI_TOOLS), headers=SSE)
    theirs = openai(responses_js).bind_tools([get_current_weather]).invoke("weather?")
    ours = responses_route(responses_js).bind_tools([get_current_weather]).invoke("weather?")
    assert theirs.tool_calls == ours.tool_calls

    extraction = chatlas("test_huggingface_data_extraction.yaml", 0)
    for _ in range(2):
        upstream.reply(200, extraction, headers=SSE)
    assert openai(responses_js).with_structured_output(ArticleSummary).invoke("x") == responses_route(
        responses_js
    ).with_structured_output(ArticleSummary).invoke("x")


def test_streamed_reasoning_theirs_is_garbled(upstream: LoopbackServer, responses_js: str) -> None:
    for _ in range(2):
        upstream.reply(200, synthetic_reasoning(), headers=SSE)
    theirs = total(list(openai(responses_js).stream(TERSE)))
    ours = total(list(responses_route(responses_js).stream(TERSE)))
    assert ours.content == "2" and ours.additional_kwargs["reasoning_content"] == "The user asks 1 + 1. That is 2."
    # langchain-openai merges the reasoning and text blocks that responses.js numbers alike: the answer lands in the
    # reasoning block and the reasoning itself is lost.
    reasoning = [b for b in theirs.content if isinstance(b, dict) and b.get("type") == "reasoning"]
    assert "That is 2" not in str(reasoning)


def test_failed_response_theirs_is_an_untyped_value_error(upstream: LoopbackServer, responses_js: str) -> None:
    for _ in range(2):
        upstream.reply(401, unauthorized(), headers={"content-type": "application/json"})
    with pytest.raises(ValueError) as theirs:
        openai(responses_js).invoke(TERSE)
    assert not isinstance(theirs.value, langchain_openai.chat_models.base.openai.AuthenticationError)
    with pytest.raises(HFServerlessAuthenticationError):
        responses_route(responses_js).invoke(TERSE)


def test_stop_theirs_is_dropped_silently_ours_refused(upstream: LoopbackServer, responses_js: str) -> None:
    upstream.reply(200, chatlas("test_huggingface_simple_streaming_request.yaml", 0), headers=SSE)
    assert openai(responses_js).invoke(TERSE, stop=["2"]).text == "2"  # the stop never applied
    assert "stop" not in upstream.requests[-1].json()
    with pytest.raises(ValueError, match="stop"):
        responses_route(responses_js).invoke(TERSE, stop=["2"])
