"""langchain-tests' standard integration suite for ChatHFServerless, replayed from hand-built cassettes.

Every test in the class runs under VCR (``record_mode="none"``, matching on method, URL and JSON body): the
cassettes in ``cassettes/TestChatHFServerlessStandard/`` stand in for https://router.huggingface.co and are
modelled on real recordings of the router (see the comment at the top of each). Tool calling, structured
output, JSON mode and multimodal inputs are switched off here until those features land with their own
cassettes.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk
from langchain_tests.integration_tests import ChatModelIntegrationTests
from vcr.errors import CannotOverwriteExistingCassetteException

from langchain_hfserverless import ChatHFServerless

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
OVERRIDE_MODEL = "meta-llama/Llama-3.2-3B-Instruct"
FAKE_TOKEN = "hf_fake_integration_test_token"


@pytest.mark.vcr
class TestChatHFServerlessStandard(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatHFServerless]:
        return ChatHFServerless

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": MODEL, "api_key": FAKE_TOKEN}

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return OVERRIDE_MODEL

    # Features that come with their own cassettes later: off for now.
    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_tool_choice(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False

    @property
    def supports_json_mode(self) -> bool:
        return False

    @property
    def supports_image_inputs(self) -> bool:
        return False

    @property
    def supports_image_urls(self) -> bool:
        return False

    @property
    def supports_image_tool_message(self) -> bool:
        return False

    @property
    def supports_pdf_inputs(self) -> bool:
        return False

    @property
    def supports_pdf_tool_message(self) -> bool:
        return False

    @property
    def supports_audio_inputs(self) -> bool:
        return False

    @property
    def supports_anthropic_inputs(self) -> bool:
        return False


# What the router said in those cassettes reaches the caller: who served, the request id, the real model name,
# and usage as the provider's last figure.


def _model(**params: Any) -> ChatHFServerless:
    return ChatHFServerless(**{"model": MODEL, "api_key": FAKE_TOKEN, **params})


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_invoke")
def test_cassette_rejects_a_body_it_did_not_record() -> None:
    """The match is on the JSON body: one extra parameter and the replay refuses the request."""
    with pytest.raises(CannotOverwriteExistingCassetteException):
        _model(temperature=0.5).invoke("Hello")
    with pytest.raises(CannotOverwriteExistingCassetteException):
        _model().invoke("Hello", max_tokens=100)
    with pytest.raises(CannotOverwriteExistingCassetteException):
        _model().invoke("Hello!")
    assert _model().invoke("Hello").content  # the recorded body itself still replays


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_invoke")
def test_invoke_reports_router_metadata() -> None:
    message = _model().invoke("Hello")
    assert message.content == "Hello! How can I assist you today?"
    assert message.response_metadata["inference_provider"] == "cerebras"
    assert message.response_metadata["model_name"] == "llama3.1-8b"
    assert message.response_metadata["request_id"] == "2968642334523e5d-IAD"
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.usage_metadata == {
        "input_tokens": 36,
        "output_tokens": 10,
        "total_tokens": 46,
        "input_token_details": {"cache_read": 0},
    }


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_usage_metadata_streaming")
def test_cumulative_stream_usage_is_the_last_figure() -> None:
    """novita repeats usage on every chunk, cumulatively: the answer is the final figure, never the sum."""
    chunks = list(_model().stream("Write me 2 haikus. Only include the haikus."))
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert isinstance(full, AIMessageChunk)
    assert full.usage_metadata == {"input_tokens": 47, "output_tokens": 32, "total_tokens": 79}
    assert full.response_metadata["inference_provider"] == "novita"
    assert full.response_metadata["model_name"] == "meta-llama/llama-3.1-8b-instruct"
    assert full.text.startswith("Morning sunlight glows\nGolden rays on dewy grass")


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_astream")
async def test_usage_only_chunk_with_empty_choices() -> None:
    """ovhcloud sends usage in a final chunk whose ``choices`` is ``[]``, then ``[DONE]``."""
    chunks = [chunk async for chunk in _model().astream("Hello")]
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata == {"input_tokens": 36, "output_tokens": 9, "total_tokens": 45}
    assert chunks[-1].response_metadata["inference_provider"] == "ovhcloud"
    assert chunks[-1].response_metadata["finish_reason"] == "stop"
    assert "".join(str(c.content) for c in chunks) == "Hello. How can I help you today?"
