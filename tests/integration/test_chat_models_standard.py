"""langchain-tests' standard integration suite for ChatHFServerless, replayed from SYNTHETIC cassettes.

Every test in the class runs under VCR (``record_mode="none"``, matching on method, URL and JSON body): the
cassettes in ``cassettes/TestChatHFServerlessStandard/`` stand in for https://router.huggingface.co and are
modelled on real recordings of the router (see the comment at the top of each). Every feature the router
serves for this model is on: tool calling (sync, async, streamed), ``tool_choice``, structured output (all
three schema kinds), JSON mode, image inputs (base64 and URL; asked of a vision model) and names on messages.
PDF and audio inputs, images inside tool messages and Anthropic-format inputs stay off: no recording shows the
router taking them, so there is nothing faithful to replay.
"""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.utils import function_calling
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.integration_tests.chat_models import magic_function, unicode_customer
from pydantic import BaseModel, Field
from vcr.errors import CannotOverwriteExistingCassetteException

from langchain_hfserverless import ChatHFServerless
from tests.integration.conftest import _PER_VARIANT

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
OVERRIDE_MODEL = "meta-llama/Llama-3.2-3B-Instruct"
VISION_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
IMAGE_URL = (  # the sample image langchain-tests downloads in test_image_inputs
    "https://raw.githubusercontent.com/langchain-ai/docs/4d11d08b6b0e210bd456943f7a22febbd168b543/src/images/"
    "agentic-rag-output.png"
)
FEW_SHOT_CALL_ID = UUID("2f0b6c7e-8d1a-4e3b-9c5f-7a6d4b2e1c90")
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

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

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

    # langchain-tests forbids overriding its tests; the two adjustments below are fixtures.

    @pytest.fixture
    def model(self, request: pytest.FixtureRequest) -> BaseChatModel:
        """The suite's model; ``test_image_inputs`` gets a vision model, since Llama 3.1 8B reads text only
        and no provider would take an image for it."""
        params = {
            **self.standard_chat_model_params,
            **self.chat_model_params,
            **(getattr(request, "param", None) or {}),
        }
        if request.node.originalname == "test_image_inputs":
            params["model"] = VISION_MODEL
        return self.chat_model_class(**params)

    @pytest.fixture(autouse=True)
    def _fixed_example_call_id(self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
        """``tool_example_to_messages`` (``test_structured_few_shot_examples``) names its tool call with a fresh
        ``uuid4()``, and that id is part of the request body the cassette matches: fixed here."""
        if request.node.originalname == "test_structured_few_shot_examples":
            monkeypatch.setattr(function_calling, "uuid", SimpleNamespace(uuid4=lambda: FEW_SHOT_CALL_ID))


# What a cassette's answer says reaches the caller: who served, the request id, the native model name, and usage as
# the last figure. The cassettes are SYNTHETIC (invented answers in real shapes): these tests assert what our code
# makes of them; that providers really answer in these shapes is checked by tests/replay/ on real recordings.


@pytest.mark.vcr
class TestChatHFServerlessStandardV1(TestChatHFServerlessStandard):
    """The same suite with ``output_version="v1"`` (standard content blocks). The requests are the same — the output
    version is not a request parameter — so it replays the same cassettes."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {**super().chat_model_params, "output_version": "v1"}

    @pytest.fixture
    def default_cassette_name(self, request: pytest.FixtureRequest) -> str:
        name = request.node.originalname
        if name in _PER_VARIANT:
            name = request.node.name
        return f"TestChatHFServerlessStandard/{name}"


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


# Tool calls, structured output and images in those cassettes: what the standard suite does not look at.


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


_MAGIC_QUERY = "What is the value of magic_function(3)? Use the tool."


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_tool_calling")
def test_streamed_tool_call_fragments_become_one_call() -> None:
    """together streams the call's id and name once, then the arguments in fragments, all at index 0."""
    llm = _model().bind_tools([magic_function], tool_choice="any")
    message = llm.invoke(_MAGIC_QUERY)
    assert message.tool_calls == [
        {"name": "magic_function", "args": {"input": 3}, "id": "call_ik27msh6q5hkcsrsb1z79c0l", "type": "tool_call"}
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert message.response_metadata["inference_provider"] == "together"
    assert message.response_metadata["model_name"] == "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"

    chunks = list(llm.stream(_MAGIC_QUERY))
    pieces = [piece for chunk in chunks for piece in chunk.tool_call_chunks]
    assert {piece["index"] for piece in pieces} == {0}
    assert [piece["id"] for piece in pieces if piece["id"]] == ["call_6ompav5wetajgqfix3zn5s3l"]
    assert [piece["name"] for piece in pieces if piece["name"]] == ["magic_function"]
    assert "".join(piece["args"] or "" for piece in pieces) == '{"input": 3}'
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert isinstance(full, AIMessageChunk)
    assert full.tool_calls[0]["args"] == {"input": 3}
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert full.usage_metadata == {"input_tokens": 236, "output_tokens": 18, "total_tokens": 254}


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_tool_calling_async")
async def test_async_tool_stream_with_cumulative_usage() -> None:
    """novita repeats usage on every chunk of a tool-call stream too: the answer keeps the last figure."""
    llm = _model().bind_tools([magic_function], tool_choice="any")
    message = await llm.ainvoke(_MAGIC_QUERY)
    assert message.content == ""
    assert message.tool_calls[0]["id"] == "call_yxoy7zkdywbyjirquydavvld"
    assert message.response_metadata["inference_provider"] == "novita"
    chunks = [chunk async for chunk in llm.astream(_MAGIC_QUERY)]
    assert sum(1 for chunk in chunks if chunk.usage_metadata) == 1
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert isinstance(full, AIMessageChunk)
    assert full.tool_calls == [
        {"name": "magic_function", "args": {"input": 3}, "id": "call_kc05zbsgzg6tn9jnbncypthf", "type": "tool_call"}
    ]
    assert full.usage_metadata == {"input_tokens": 243, "output_tokens": 20, "total_tokens": 263}


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_unicode_tool_call_integration")
def test_unicode_arguments_raw_or_escaped() -> None:
    """The first answer carries raw UTF-8, the second ``\\uXXXX`` escapes: both parse to the characters."""
    llm = _model().bind_tools([unicode_customer], tool_choice="any")
    chinese = llm.invoke("Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company")
    japanese = llm.invoke("Create a customer named 'こんにちは株式会社' (Hello Corporation) - a Japanese company")
    assert chinese.tool_calls[0]["args"]["customer_name"] == "你好啊集团"
    assert japanese.tool_calls[0]["args"] == {
        "customer_name": "こんにちは株式会社",
        "description": "A Japanese company",
    }


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_structured_output[pydantic]")
def test_structured_output_keeps_the_raw_answer() -> None:
    """``include_raw=True`` gives the router's message beside the parsed Joke. A stream yields a Joke each time
    the JSON so far validates as one, growing to the complete answer."""
    question = "Tell me a joke about cats."
    out = _model().with_structured_output(Joke, include_raw=True).invoke(question)
    assert out["parsing_error"] is None
    assert out["parsed"] == Joke(
        setup="Why did the cat join a band?", punchline="Because it wanted to be the purr-cussionist."
    )
    assert out["raw"].response_metadata["inference_provider"] == "cerebras"
    assert out["raw"].usage_metadata["output_tokens"] == 27
    streamed = list(_model().with_structured_output(Joke).stream(question))
    assert streamed[-1] == Joke(setup="Why don't cats play poker in the jungle?", punchline="Too many cheetahs.")
    assert [joke.punchline for joke in streamed] == ["T", "Too many", "Too many cheetahs."]


@pytest.mark.vcr
@pytest.mark.default_cassette("TestChatHFServerlessStandard/test_image_inputs")
def test_image_blocks_reach_the_vision_model() -> None:
    """OpenAI ``image_url`` parts and LangChain image blocks (base64 or URL) all go out as ``image_url``."""
    image = httpx.get(IMAGE_URL, timeout=10.0).content  # replayed from the cassette
    assert image.startswith(b"\x89PNG")
    data = base64.b64encode(image).decode()
    text = {"type": "text", "text": "Give a concise description of this image."}
    llm = _model(model=VISION_MODEL)
    answers = [
        llm.invoke(
            [HumanMessage([text, {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}])]
        ),
        llm.invoke([HumanMessage([text, {"type": "image", "base64": data, "mime_type": "image/png"}])]),
        llm.invoke([HumanMessage([text, {"type": "image", "url": IMAGE_URL}])]),
    ]
    assert "flowchart" in answers[0].text
    assert all(a.response_metadata["inference_provider"] == "ovhcloud" for a in answers)
    assert answers[2].usage_metadata["input_tokens"] == 1243
