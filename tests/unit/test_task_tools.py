"""The task tools end to end over real HTTP on loopback: bodies sent, answers read, media, jobs, errors, retries."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessAuthenticationError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
    HFServerlessTimeoutError,
)
from langchain_hfserverless.tools import (
    ImageClassificationTool,
    ImageToImageTool,
    ImageToTextTool,
    MediaBytes,
    MediaInputError,
    ObjectDetectionTool,
    QuestionAnsweringTool,
    SentenceSimilarityTool,
    SpeechRecognitionTool,
    SummarizationTool,
    TextClassificationTool,
    TextToImageTool,
    TextToSpeechTool,
    TokenClassificationTool,
    TranslationTool,
    VisualQuestionAnsweringTool,
    ZeroShotClassificationTool,
)
from tests.loopback import LoopbackServer, serve


def png(width: int = 4, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x40\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = png()
B64 = base64.b64encode(PNG).decode()
FLAC = (
    b"fLaC\x80\x00\x00\x22"
    + b"\x10\x00\x10\x00"
    + b"\x00" * 6
    + ((8000 << 44) | 4000).to_bytes(8, "big")
    + b"\x00" * 16
)


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    """Two servers for the module (stopping one takes half a second); each test gets them freshly reset."""
    for main in serve():
        for other in serve():
            yield main, other


def _fresh(server: LoopbackServer) -> LoopbackServer:
    server.requests.clear()
    server.queue.clear()
    server.default = None
    return server


@pytest.fixture
def server(_servers: tuple[LoopbackServer, LoopbackServer]) -> LoopbackServer:
    """The model's server (base_url, or the router stand-in)."""
    return _fresh(_servers[0])


@pytest.fixture
def cdn(_servers: tuple[LoopbackServer, LoopbackServer]) -> LoopbackServer:
    """A second server on another port: a provider's file host, which must never see the token."""
    return _fresh(_servers[1])


def header(seen: Any, name: str) -> str | None:
    return next((v for k, v in seen.headers.items() if k.lower() == name.lower()), None)


def call(tool: Any, args: dict[str, Any]) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


def acall(tool: Any, args: dict[str, Any]) -> ToolMessage:
    message = asyncio.run(tool.ainvoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": args}))
    assert isinstance(message, ToolMessage)
    return message


# Tool, call arguments, the server's answer, the exact JSON body expected, the content and the artifact expected.
JSON_CASES = [
    (
        TextClassificationTool,
        {"text": "I like you"},
        [[{"label": "POSITIVE", "score": 0.9998}, {"label": "NEGATIVE", "score": 0.0002}]],
        {"inputs": "I like you"},
        "POSITIVE (0.9998); NEGATIVE (0.0002)",
        [{"label": "POSITIVE", "score": 0.9998}, {"label": "NEGATIVE", "score": 0.0002}],
    ),
    (
        ZeroShotClassificationTool,
        {"text": "t", "candidate_labels": ["a", "b"], "multi_label": True},
        [{"label": "b", "score": 0.8}, {"label": "a", "score": 0.1}],
        {"inputs": "t", "parameters": {"candidate_labels": ["a", "b"], "multi_label": True}},
        "b (0.8000); a (0.1000)",
        [{"label": "b", "score": 0.8}, {"label": "a", "score": 0.1}],
    ),
    (
        TranslationTool,
        {"text": "Hello world", "src_lang": "en_XX", "tgt_lang": "fr_XX"},
        [{"translation_text": "Bonjour le monde"}],
        {"inputs": "Hello world", "parameters": {"src_lang": "en_XX", "tgt_lang": "fr_XX"}},
        "Bonjour le monde",
        {"translation_text": "Bonjour le monde"},
    ),
    (
        SummarizationTool,
        {"text": "long text"},
        [{"summary_text": " short "}],
        {"inputs": "long text"},
        "short",
        {"summary_text": " short "},
    ),
    (
        TokenClassificationTool,
        {"text": "Ada in Paris"},
        [{"entity_group": "PER", "word": "Ada", "score": 0.99, "start": 0, "end": 3}],
        {"inputs": "Ada in Paris"},
        "PER: Ada (0.9900)",
        [{"entity_group": "PER", "word": "Ada", "score": 0.99, "start": 0, "end": 3}],
    ),
    (
        QuestionAnsweringTool,
        {"question": "Where?", "context": "In Paris."},
        {"answer": "Paris", "score": 0.9, "start": 3, "end": 8},
        {"inputs": {"question": "Where?", "context": "In Paris."}},
        "Paris (score 0.9000)",
        [{"answer": "Paris", "score": 0.9, "start": 3, "end": 8}],
    ),
    (
        SentenceSimilarityTool,
        {"source_sentence": "cats", "sentences": ["kittens", "tax"]},
        [0.8, 0.1],
        {"inputs": {"source_sentence": "cats", "sentences": ["kittens", "tax"]}},
        "0.8000  kittens",
        [0.8, 0.1],
    ),
]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("cls", "args", "answer", "body", "content", "artifact"), JSON_CASES, ids=[c[0].__name__ for c in JSON_CASES]
)
def test_json_tasks_send_exactly_their_inputs_and_read_the_answer(
    server: LoopbackServer,
    use_async: bool,
    cls: type,
    args: dict,
    answer: Any,
    body: dict,
    content: str,
    artifact: Any,
) -> None:
    server.reply(body=answer)
    tool = cls(base_url=f"{server.url}/models/m", api_key="hf_explicit")
    message = (acall if use_async else call)(tool, args)
    assert content in message.content
    assert message.artifact == artifact
    seen = server.requests[0]
    assert seen.path == "/models/m"
    assert seen.json() == body
    assert header(seen, "Authorization") == "Bearer hf_explicit"  # an explicit key goes to base_url


IMAGE_CASES = [
    (ImageToTextTool, {}, [{"generated_text": "a cat"}], "a cat", {"generated_text": "a cat"}),
    (
        ImageClassificationTool,
        {},
        [{"label": "tabby", "score": 0.5}],
        "tabby (0.5000)",
        [{"label": "tabby", "score": 0.5}],
    ),
    (
        ObjectDetectionTool,
        {},
        [{"label": "cat", "score": 0.9, "box": {"xmin": 0, "ymin": 0, "xmax": 4, "ymax": 2}}],
        "cat (0.9000) at [0, 0, 4, 2]",
        None,
    ),
]


@pytest.mark.parametrize(
    ("cls", "extra", "answer", "content", "artifact"), IMAGE_CASES, ids=[c[0].__name__ for c in IMAGE_CASES]
)
def test_image_tasks_post_the_raw_image_with_its_type(
    server: LoopbackServer, cls: type, extra: dict, answer: Any, content: str, artifact: Any
) -> None:
    server.reply(body=answer)
    message = call(cls(base_url=server.url), {"image": f"data:image/png;base64,{B64}", **extra})
    assert content in message.content
    assert message.artifact == (artifact if artifact is not None else answer)
    assert server.requests[0].body == PNG
    assert header(server.requests[0], "content-type") == "image/png"


def test_image_parameters_travel_as_base64_json_not_dropped(server: LoopbackServer) -> None:
    server.reply(body=[{"label": "cat", "score": 0.9, "box": {}}])
    call(ObjectDetectionTool(base_url=server.url), {"image": B64, "threshold": 0.8})
    assert server.requests[0].json() == {"inputs": B64, "parameters": {"threshold": 0.8}}


def test_visual_question_answering_sends_question_and_image(server: LoopbackServer) -> None:
    server.reply(body=[{"answer": "blue", "score": 0.8}, {"answer": "red", "score": 0.1}])
    message = call(VisualQuestionAnsweringTool(base_url=server.url), {"image": PNG, "question": "Colour?"})
    assert message.content == "blue (score 0.8000). Other candidates: red (0.1000)"
    assert server.requests[0].json() == {"inputs": B64, "question": "Colour?", "image": B64}


def test_speech_recognition_reads_text_and_keeps_chunks(server: LoopbackServer, tmp_path: Path) -> None:
    answer = {"text": " hello there", "chunks": [{"timestamp": [0.0, 0.5], "text": " hello there"}]}
    server.reply(body=answer)
    audio = tmp_path / "note.flac"
    audio.write_bytes(FLAC)
    tool = SpeechRecognitionTool(base_url=server.url, local_files_dir=str(tmp_path))
    message = call(tool, {"audio": str(audio)})
    assert message.content == "hello there"
    assert message.artifact == answer
    assert server.requests[0].body == FLAC
    assert header(server.requests[0], "content-type") == "audio/flac"


def test_speech_recognition_reads_replicate_output(server: LoopbackServer) -> None:
    server.reply(body={"status": "succeeded", "output": {"transcription": "bonjour"}})
    assert call(SpeechRecognitionTool(base_url=server.url), {"audio": FLAC}).content == "bonjour"


def test_an_input_url_is_fetched_then_sent(server: LoopbackServer, cdn: LoopbackServer) -> None:
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    server.reply(body=[{"generated_text": "a tiny picture"}])
    tool = ImageToTextTool(base_url=server.url, api_key="hf_secret", allow_private_urls=True)  # cdn is on loopback
    assert call(tool, {"image": f"{cdn.url}/pic.png"}).content == "a tiny picture"
    assert cdn.requests[0].method == "GET" and cdn.requests[0].path == "/pic.png"
    assert header(cdn.requests[0], "Authorization") is None  # the token never goes to another host
    assert server.requests[0].body == PNG


def test_an_input_url_that_is_not_an_image_is_refused(server: LoopbackServer, cdn: LoopbackServer) -> None:
    cdn.reply(body=b"<html>login</html>", headers={"content-type": "text/html"})
    with pytest.raises(MediaInputError, match=r"declared as text/html\) is not a recognised image"):
        call(ImageToTextTool(base_url=server.url, allow_private_urls=True), {"image": f"{cdn.url}/login"})
    assert server.requests == []  # nothing was sent to the model


def test_an_input_url_that_fails_is_a_tool_error_naming_it(server: LoopbackServer, cdn: LoopbackServer) -> None:
    cdn.reply(status=404, body="Not Found", headers={"content-type": "text/plain"})
    tool = ImageToTextTool(base_url=server.url, handle_tool_error=True, allow_private_urls=True)
    message = call(tool, {"image": f"{cdn.url}/gone.png"})
    assert message.status == "error"
    assert message.content == (
        f"Could not fetch '{cdn.url}/gone.png': the server answered 404. Check the URL, or send the image as base64 "
        "or a data: URL."
    )
    assert server.requests == []


def test_bad_media_becomes_a_tool_error_the_agent_can_read(server: LoopbackServer) -> None:
    tool = ImageToTextTool(base_url=server.url, handle_tool_error=True, allow_local_files=True)
    message = call(tool, {"image": "/nope/missing.png"})
    assert message.status == "error"
    assert "No such file: '/nope/missing.png'" in message.content
    assert server.requests == []


# ------------------------------------------------------------------------------------------- generated media


def test_raw_image_bytes_become_content_block_and_artifact(server: LoopbackServer) -> None:
    server.reply(body=PNG, headers={"content-type": "image/png"})
    message = call(TextToImageTool(base_url=server.url), {"prompt": "a cat", "width": 512, "height": 256})
    assert server.requests[0].json() == {"inputs": "a cat", "parameters": {"width": 512, "height": 256}}
    text, block = message.content
    assert text == {"type": "text", "text": "Generated the image (4x2 PNG image, " + f"{len(PNG)} B)."}
    assert block == {"type": "image", "base64": B64, "mime_type": "image/png"}
    assert isinstance(message.artifact, MediaBytes) and bytes(message.artifact) == PNG


def test_tool_parameters_are_sent_and_call_arguments_win(server: LoopbackServer) -> None:
    server.reply(body={"data": [{"b64_json": B64}]})
    tool = TextToImageTool(base_url=server.url, parameters={"num_inference_steps": 4, "width": 64})
    call(tool, {"prompt": "p", "width": 128})
    assert server.requests[0].json() == {"inputs": "p", "parameters": {"num_inference_steps": 4, "width": 128}}


def test_image_url_answer_is_fetched_without_the_token(server: LoopbackServer, cdn: LoopbackServer) -> None:
    server.reply(body={"images": [{"url": f"{cdn.url}/files/out.png", "content_type": "image/jpeg"}]})
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    message = acall(TextToImageTool(base_url=server.url, api_key="hf_secret"), {"prompt": "p"})
    assert bytes(message.artifact) == PNG
    assert message.artifact.source_url == f"{cdn.url}/files/out.png"
    assert header(cdn.requests[0], "Authorization") is None
    assert header(server.requests[0], "Authorization") == "Bearer hf_secret"


def test_polled_job_black_forest_labs_style(server: LoopbackServer, cdn: LoopbackServer) -> None:
    server.reply(body={"id": "j", "polling_url": f"{server.url}/v1/get_result?id=j"})
    server.reply(body={"id": "j", "status": "Pending", "result": None, "progress": 0.5})
    server.reply(body={"id": "j", "status": "Ready", "result": {"sample": f"{cdn.url}/sample.png"}})
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    tool = TextToImageTool(base_url=f"{server.url}/v1/flux-dev", poll_interval=0)
    assert bytes(call(tool, {"prompt": "p"}).artifact) == PNG
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", "/v1/flux-dev"),
        ("GET", "/v1/get_result?id=j"),
        ("GET", "/v1/get_result?id=j"),
    ]


def test_polled_job_replicate_style_for_speech(server: LoopbackServer, cdn: LoopbackServer, tmp_path: Path) -> None:
    server.reply(
        status=201,
        body={"id": "p", "status": "starting", "output": None, "urls": {"get": f"{server.url}/v1/predictions/p"}},
    )
    server.reply(body={"id": "p", "status": "succeeded", "output": f"{cdn.url}/out.flac"})
    cdn.reply(body=FLAC, headers={"content-type": "audio/flac"})
    tool = TextToSpeechTool(base_url=server.url, poll_interval=0, output_dir=str(tmp_path / "audio"))
    message = acall(tool, {"text": "Hello"})
    assert message.artifact.mime_type == "audio/flac"
    assert isinstance(message.content, str)  # no audio block: tool messages carry text and images only
    assert message.content.startswith("Generated speech (0.5 s FLAC audio")
    saved = next((tmp_path / "audio").iterdir())
    assert saved.read_bytes() == FLAC and str(saved) in message.content


def test_a_failed_job_raises_with_the_providers_reason(server: LoopbackServer) -> None:
    server.reply(body={"id": "p", "status": "starting", "urls": {"get": f"{server.url}/p"}})
    server.reply(body={"id": "p", "status": "failed", "error": "NSFW content detected"})
    with pytest.raises(HFServerlessAPIError, match="status 'failed': NSFW content detected"):
        call(TextToImageTool(base_url=server.url, poll_interval=0), {"prompt": "p"})


def test_a_job_that_never_ends_stops_after_max_polls(server: LoopbackServer) -> None:
    server.reply(body={"id": "j", "polling_url": f"{server.url}/poll"})
    for _ in range(3):
        server.reply(body={"status": "Pending"})
    with pytest.raises(HFServerlessTimeoutError, match="still running after 3 polls"):
        call(TextToImageTool(base_url=server.url, poll_interval=0, max_polls=3), {"prompt": "p"})
    assert len(server.requests) == 4


def test_an_answer_without_media_names_its_keys(server: LoopbackServer) -> None:
    server.reply(body={"seed": 1, "nsfw": True})
    with pytest.raises(HFServerlessAPIError, match=r"Unreadable text-to-image answer .*keys: \['nsfw', 'seed'\]"):
        call(TextToImageTool(base_url=server.url), {"prompt": "p"})


def test_audio_where_an_image_was_expected_is_an_error(server: LoopbackServer) -> None:
    server.reply(body=FLAC, headers={"content-type": "audio/flac"})
    with pytest.raises(HFServerlessAPIError, match="expected image bytes"):
        call(TextToImageTool(base_url=server.url), {"prompt": "p"})


def test_image_to_image_sends_image_and_prompt(server: LoopbackServer, tmp_path: Path) -> None:
    server.reply(body=png(2, 2), headers={"content-type": "image/png"})
    source = tmp_path / "in.png"
    source.write_bytes(PNG)
    tool = ImageToImageTool(
        base_url=server.url, include_image_block=False, output_dir=str(tmp_path / "out"), local_files_dir=str(tmp_path)
    )
    message = call(tool, {"image": str(source), "prompt": "night"})
    assert server.requests[0].json() == {"inputs": B64, "parameters": {"prompt": "night"}}
    assert isinstance(message.content, str) and "2x2 PNG image" in message.content
    assert "Saved to " + str(tmp_path / "out") in message.content


# ------------------------------------------------------------------------------------------- errors and retries


def test_retries_a_loading_model_then_answers(server: LoopbackServer) -> None:
    server.reply(status=503, body={"error": "Model m is currently loading", "estimated_time": 0})
    server.reply(body=[[{"label": "POSITIVE", "score": 1.0}]])
    assert call(TextClassificationTool(base_url=server.url), {"text": "x"}).content == "POSITIVE (1.0000)"
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, {"error": "Model m does not exist"}, HFServerlessNotFoundError),
        (401, {"error": "Invalid username or password."}, HFServerlessAuthenticationError),
        (422, "Failed to deserialize the JSON body into the target type", HFServerlessInvalidRequestError),
    ],
)
def test_http_errors_are_typed_and_not_retried(server: LoopbackServer, status: int, body: Any, error: type) -> None:
    server.reply(status=status, body=body)
    with pytest.raises(error, match=f"HTTP {status}"):
        call(SummarizationTool(base_url=server.url, max_retries=3), {"text": "x"})
    assert len(server.requests) == 1


def test_an_error_inside_a_200_is_raised(server: LoopbackServer) -> None:
    server.reply(body={"error": "Input validation error: too long", "error_type": "validation"})
    with pytest.raises(HFServerlessInvalidRequestError, match="too long"):
        call(TranslationTool(base_url=server.url), {"text": "x"})


def test_an_unexpected_shape_is_an_api_error_naming_model(server: LoopbackServer) -> None:
    server.reply(body={"weird": True})
    with pytest.raises(HFServerlessAPIError, match="Unreadable translation answer from model None"):
        call(TranslationTool(base_url=server.url), {"text": "x"})


def test_no_token_for_the_router_is_a_clear_error_before_any_request() -> None:
    with pytest.raises(HFServerlessAuthenticationError, match=r"pass api_key=\.\.\., set HF_TOKEN"):
        call(TextClassificationTool(), {"text": "x"})


def test_bad_arguments_are_rejected_by_the_schema(server: LoopbackServer) -> None:
    tool = ZeroShotClassificationTool(base_url=server.url)
    with pytest.raises(ValueError, match="candidate_labels"):
        tool.invoke({"text": "x", "candidate_labels": []})
    with pytest.raises(ValueError, match="prompt"):
        TextToImageTool(base_url=server.url).invoke({"prompt": ""})
    assert server.requests == []


# ------------------------------------------------------------------------------------------- routing through a provider


@pytest.fixture
def router(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """The loopback server stands in for both the Hub API and router.huggingface.co."""
    from huggingface_hub import constants
    from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping

    monkeypatch.setattr(constants, "INFERENCE_PROXY_TEMPLATE", server.url + "/{provider}")
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    _fetch_inference_provider_mapping.cache_clear()
    yield server
    _fetch_inference_provider_mapping.cache_clear()


def test_provider_helpers_shape_the_request(router: LoopbackServer, cdn: LoopbackServer) -> None:
    model = "black-forest-labs/FLUX.1-schnell"
    router.reply(
        body={
            "id": model,
            "inferenceProviderMapping": {
                "fal-ai": {"status": "live", "providerId": "fal-ai/flux/schnell", "task": "text-to-image"}
            },
        }
    )
    router.reply(body={"images": [{"url": f"{cdn.url}/x.png"}]})
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    tool = TextToImageTool(provider="fal-ai", api_key="hf_test", parameters={"seed": 7})
    message = call(tool, {"prompt": "a fox", "width": 512, "height": 384})
    assert bytes(message.artifact) == PNG
    mapping, post = router.requests
    assert mapping.path == f"/api/models/{model}?expand=inferenceProviderMapping"
    assert post.path == "/fal-ai/fal-ai/flux/schnell"
    assert post.json() == {"prompt": "a fox", "seed": 7, "image_size": {"width": 512, "height": 384}}
    assert header(post, "Authorization") == "Bearer hf_test"


def test_a_provider_that_does_not_serve_the_task_is_a_not_found_error(router: LoopbackServer) -> None:
    with pytest.raises(HFServerlessNotFoundError, match="not supported for provider 'groq'"):
        call(TextToImageTool(provider="groq", api_key="hf_test"), {"prompt": "p"})


def test_description_names_the_model_unless_given() -> None:
    assert "stabilityai/sdxl" in TextToImageTool(model="stabilityai/sdxl").description
    assert TextToImageTool(description="Draw things.").description == "Draw things."
    assert "the model behind base_url" in TextToImageTool(base_url="http://x").description
    assert TextToImageTool(base_url="http://x").model is None
    assert TextToImageTool().model == "black-forest-labs/FLUX.1-schnell"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="modle"):
        TextToImageTool(modle="x")


def test_schema_shows_media_as_a_plain_string() -> None:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    schema = convert_to_openai_tool(ImageToTextTool())["function"]["parameters"]
    assert schema["properties"]["image"]["type"] == "string"
    assert "base64" in schema["properties"]["image"]["description"]
    assert json.dumps(schema).count("binary") == 0
