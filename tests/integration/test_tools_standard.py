"""langchain-tests' standard integration suite for every task tool, replayed from cassettes (real answers where a
recording has them, else SYNTHETIC; each says which at its top).

Each tool is built as a new user builds it — default model, ``provider="auto"`` — so every cassette in
``cassettes/tools/`` holds the whole conversation: the Hub's provider mapping, the model info hf-inference checks,
the task call, and any file fetch or job poll. The Hub look-ups are cached by huggingface_hub; the cache is cleared
before each test so each test replays its cassette completely (see ``tests/integration/conftest.py``).
"""

from __future__ import annotations

import base64
import io
import math
import struct
import wave
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_tests.integration_tests import ToolsIntegrationTests

from langchain_hfserverless.tools import (
    ImageClassificationTool,
    ImageToImageTool,
    ImageToTextTool,
    MediaBytes,
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

FAKE_TOKEN = "hf_fake_integration_test_token"


def png(width: int, height: int) -> bytes:
    """The same small gradient PNG the cassettes were built with."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(((x * 4) % 256, (y * 5) % 256, 160)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def wav(seconds: float = 0.25, rate: int = 8000) -> bytes:
    """The same short 440 Hz tone the cassettes were built with."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate)))
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


IMAGE_URL = "data:image/png;base64," + base64.b64encode(png(32, 24)).decode()
AUDIO_B64 = base64.b64encode(wav()).decode()


@pytest.fixture(autouse=True)
def _cassette_fully_played(vcr: Any, request: pytest.FixtureRequest) -> Iterator[None]:
    """As in conftest.py (every interaction must be replayed), except for the suite's one test that makes no
    request at all (it inspects the test class)."""
    yield
    if vcr is None or request.node.originalname == "test_no_overrides_DO_NOT_OVERRIDE":
        return
    unplayed = [request.uri for i, (request, _) in enumerate(vcr.data) if not vcr.play_counts[i]]
    if unplayed:
        pytest.fail(f"{len(unplayed)} cassette request(s) were never sent, first: {unplayed[0]}")


@pytest.fixture(autouse=True)
def _fresh_hub_lookups() -> Iterator[None]:
    """huggingface_hub caches provider mappings and model checks per process: each test asks again."""
    from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping
    from huggingface_hub.inference._providers.hf_inference import _check_supported_task

    _fetch_inference_provider_mapping.cache_clear()
    _check_supported_task.cache_clear()
    yield
    _fetch_inference_provider_mapping.cache_clear()
    _check_supported_task.cache_clear()


class _CassetteTool(ToolsIntegrationTests):
    """Shared settings; each subclass names its tool, its example call and what the cassette answers."""

    tool_class: type
    extra_params: dict[str, Any] = {}
    example: dict[str, Any] = {}
    expected_text: str = ""

    @property
    def tool_constructor(self) -> type:
        return self.tool_class

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_key": FAKE_TOKEN, **self.extra_params}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return dict(self.example)

    def test_cassette_answer_reaches_the_model(self, tool: Any) -> None:
        message = tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": self.example})
        assert isinstance(message, ToolMessage)
        text = message.content if isinstance(message.content, str) else message.content[0]["text"]
        assert self.expected_text in text
        self.check_artifact(message.artifact)

    def check_artifact(self, artifact: Any) -> None:
        assert artifact is not None


MEDIA = {"poll_interval": 0}


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/text-to-image.yaml")
class TestTextToImageTool(_CassetteTool):
    tool_class = TextToImageTool
    extra_params = MEDIA
    example = {"prompt": "A lighthouse on a cliff at dawn, watercolour"}
    expected_text = "32x24 PNG image"

    def check_artifact(self, artifact: Any) -> None:
        assert isinstance(artifact, MediaBytes)
        assert bytes(artifact) == png(32, 24)
        assert artifact.source_url == "https://v3.fal.media/files/rabbit/hb-lighthouse.png"


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/image-to-image.yaml")
class TestImageToImageTool(_CassetteTool):
    tool_class = ImageToImageTool
    extra_params = MEDIA
    example = {"image": IMAGE_URL, "prompt": "make it night"}
    expected_text = "24x32 PNG image"

    def check_artifact(self, artifact: Any) -> None:
        assert bytes(artifact) == png(24, 32)


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/text-to-speech.yaml")
class TestTextToSpeechTool(_CassetteTool):
    tool_class = TextToSpeechTool
    extra_params = MEDIA
    example = {"text": "Hello world"}
    expected_text = "0.2 s WAV audio"

    def check_artifact(self, artifact: Any) -> None:
        assert artifact.mime_type == "audio/wav"
        assert bytes(artifact) == wav()


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/automatic-speech-recognition.yaml")
class TestSpeechRecognitionTool(_CassetteTool):
    tool_class = SpeechRecognitionTool
    example = {"audio": AUDIO_B64}
    expected_text = "A man said to the universe, Sir, I exist."  # fal-ai's recorded answer (to another clip)

    def check_artifact(self, artifact: Any) -> None:
        assert artifact["chunks"][0]["timestamp"] == [0.0, 4.08]


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/image-to-text.yaml")
class TestImageToTextTool(_CassetteTool):
    tool_class = ImageToTextTool
    example = {"image": IMAGE_URL}
    expected_text = "a blue and purple gradient"


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/visual-question-answering.yaml")
class TestVisualQuestionAnsweringTool(_CassetteTool):
    tool_class = VisualQuestionAnsweringTool
    example = {"image": IMAGE_URL, "question": "What colour is it?"}
    expected_text = "woman (score 0.9387). Other candidates: girl (0.3431)"  # recorded answer (to another image)


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/image-classification.yaml")
class TestImageClassificationTool(_CassetteTool):
    tool_class = ImageClassificationTool
    example = {"image": IMAGE_URL}
    expected_text = "brassiere, bra, bandeau (0.1177); sombrero (0.0957)"  # recorded answer (to another image)


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/object-detection.yaml")
class TestObjectDetectionTool(_CassetteTool):
    tool_class = ObjectDetectionTool
    example = {"image": IMAGE_URL}
    expected_text = "3 object(s): person (0.9487) at [59, 39, 420, 510]; umbrella (0.5733)"  # recorded (another image)


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/translation.yaml")
class TestTranslationTool(_CassetteTool):
    tool_class = TranslationTool
    example = {"text": "Hello world", "src_lang": "en_XX", "tgt_lang": "fr_XX"}
    expected_text = "Hello world"  # what mbart really answered to this very request: it did not translate


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/summarization.yaml")
class TestSummarizationTool(_CassetteTool):
    tool_class = SummarizationTool
    example = {
        "text": "The tower is 324 metres tall, about the same height as an 81-storey building, and the tallest "
        "structure in Paris. Its base is square, measuring 125 metres on each side."
    }
    expected_text = "the tallest structure in Paris"


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/zero-shot-classification.yaml")
class TestZeroShotClassificationTool(_CassetteTool):
    tool_class = ZeroShotClassificationTool
    example = {  # the recording's own input
        "text": "A new model offers an explanation for how the Galilean satellites formed around the solar "
        "system'slargest world. Konstantin Batygin did not set out to solve one of the solar system's most puzzling "
        "mysteries when he went for a run up a hill in Nice, France.",
        "candidate_labels": ["space & cosmos", "scientific discovery", "microbiology", "robots", "archeology"],
    }
    expected_text = "scientific discovery (0.7962); space & cosmos (0.1857)"


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/text-classification.yaml")
class TestTextClassificationTool(_CassetteTool):
    tool_class = TextClassificationTool
    example = {"text": "I like you"}
    expected_text = "POSITIVE (0.9999)"


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/token-classification.yaml")
class TestTokenClassificationTool(_CassetteTool):
    tool_class = TokenClassificationTool
    example = {"text": "Ada Lovelace was born in London"}
    expected_text = "PER: Ada Lovelace (0.9987); LOC: London (0.9995)"


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/question-answering.yaml")
class TestQuestionAnsweringTool(_CassetteTool):
    tool_class = QuestionAnsweringTool
    example = {"question": "What is the meaning of life?", "context": "42"}  # the recording's own input
    expected_text = "42 (score 0.0000)"


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/sentence-similarity.yaml")
class TestSentenceSimilarityTool(_CassetteTool):
    tool_class = SentenceSimilarityTool
    example = {  # the recording's own input
        "source_sentence": "Machine learning is so easy.",
        "sentences": [
            "Deep learning is so straightforward.",
            "This is so difficult, like rocket science.",
            "I can't believe how much I struggled with this.",
        ],
    }
    expected_text = "0.7786  Deep learning is so straightforward."

    def check_artifact(self, artifact: Any) -> None:
        assert artifact == [0.7785724997520447, 0.4587624967098236, 0.29062220454216003]
