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
    AudioClassificationTool,
    AudioToAudioTool,
    DocumentQuestionAnsweringTool,
    FillMaskTool,
    ImageClassificationTool,
    ImageSegmentationTool,
    ImageToImageTool,
    ImageToTextTool,
    ImageToVideoTool,
    MediaBytes,
    ObjectDetectionTool,
    QuestionAnsweringTool,
    SentenceSimilarityTool,
    SpeechRecognitionTool,
    SummarizationTool,
    TableQuestionAnsweringTool,
    TabularClassificationTool,
    TabularRegressionTool,
    TextClassificationTool,
    TextToImageTool,
    TextToSpeechTool,
    TextToVideoTool,
    TokenClassificationTool,
    TranslationTool,
    VisualQuestionAnsweringTool,
    ZeroShotClassificationTool,
    ZeroShotImageClassificationTool,
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


def mp4(seconds: int = 2, scale: int = 1000) -> bytes:
    """The same tiny MP4 the video cassettes were built with: an ``ftyp`` box and a ``moov`` holding its ``mvhd``."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    mvhd = box(b"mvhd", struct.pack(">IIIII", 0, 0, 0, scale, seconds * scale) + b"\x00" * 80)
    return ftyp + box(b"moov", mvhd)


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


# ------------------------------------------------------------------------------------------- the tools added later


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/fill-mask.yaml")
class TestFillMaskTool(_CassetteTool):
    tool_class = FillMaskTool
    example = {"text": "Hi, I think [MASK]\u00a0is cool"}  # the recording's own input
    expected_text = "0.8001  hi, i think this is cool"

    def check_artifact(self, artifact: Any) -> None:
        assert [item["token_str"] for item in artifact] == ["this", "that", "it", "everything", "he"]


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/table-question-answering.yaml")
class TestTableQuestionAnsweringTool(_CassetteTool):
    tool_class = TableQuestionAnsweringTool
    example = {  # the recording's own input (TAPAS reads every cell as text)
        "query": "How many stars does the transformers repository have?",
        "table": {
            "Repository": ["Transformers", "Datasets", "Tokenizers"],
            "Stars": ["36542", "4512", "3934"],
            "Contributors": ["651", "77", "34"],
            "Programming language": ["Python", "Python", "Rust, Python and NodeJS"],
        },
    }
    expected_text = "Answer: AVERAGE > 36542. Cells used: 36542. Aggregation: AVERAGE"

    def check_artifact(self, artifact: Any) -> None:
        assert artifact["coordinates"] == [[0, 1]]


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/document-question-answering.yaml")
class TestDocumentQuestionAnsweringTool(_CassetteTool):
    tool_class = DocumentQuestionAnsweringTool
    extra_params = {"model": "naver-clova-ix/donut-base-finetuned-docvqa"}  # the recorded model
    example = {"image": IMAGE_URL, "question": "What is the purchase amount?"}
    expected_text = "$1,0000,000,00"  # donut's recorded answer (to the recording's receipt, not this image)

    def check_artifact(self, artifact: Any) -> None:
        assert artifact == [{"answer": "$1,0000,000,00"}]


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/zero-shot-image-classification.yaml")
class TestZeroShotImageClassificationTool(_CassetteTool):
    tool_class = ZeroShotImageClassificationTool
    example = {"image": IMAGE_URL, "candidate_labels": ["tree", "woman", "cat"]}
    expected_text = "woman (0.9986); cat (0.0012); tree (0.0002)"  # recorded answer (to another image)


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/image-segmentation.yaml")
class TestImageSegmentationTool(_CassetteTool):
    tool_class = ImageSegmentationTool
    example = {"image": IMAGE_URL}
    expected_text = "2 segment(s): LABEL_199 (0.9151, 512x512 mask); person (0.9938, 512x512 mask)"  # recorded

    def check_artifact(self, artifact: Any) -> None:
        assert [segment["label"] for segment in artifact] == ["LABEL_199", "person"]
        assert all(isinstance(segment["mask"], MediaBytes) for segment in artifact)
        assert artifact[0]["mask"].mime_type == "image/png"


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/audio-classification.yaml")
class TestAudioClassificationTool(_CassetteTool):
    tool_class = AudioClassificationTool
    extra_params = {"model": "alefiury/wav2vec2-large-xlsr-53-gender-recognition-librispeech"}  # the recorded model
    example = {"audio": AUDIO_B64}
    expected_text = "male (0.9987); female (0.0013)"  # recorded answer (to another clip)


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/audio-to-audio.yaml")
class TestAudioToAudioTool(_CassetteTool):
    tool_class = AudioToAudioTool
    example = {"audio": AUDIO_B64}
    expected_text = "Produced 2 audio clip(s):\nlabel_0: FLAC audio, 85 KB"  # sepformer's recorded separation

    def check_artifact(self, artifact: Any) -> None:
        assert [clip.mime_type for clip in artifact] == ["audio/flac", "audio/flac"]


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/tabular-classification.yaml")
class TestTabularClassificationTool(_CassetteTool):
    tool_class = TabularClassificationTool
    example = {
        "table": {
            "fixed_acidity": ["7.4", "7.8"],
            "volatile_acidity": ["0.7", "0.88"],
            "citric_acid": ["0", "0"],
            "residual_sugar": ["1.9", "2.6"],
            "chlorides": ["0.076", "0.098"],
            "free_sulfur_dioxide": ["11", "25"],
            "total_sulfur_dioxide": ["34", "67"],
            "density": ["0.9978", "0.9968"],
            "pH": ["3.51", "3.2"],
            "sulphates": ["0.56", "0.68"],
            "alcohol": ["9.4", "9.8"],
        }
    }
    expected_text = "row 1: 5\nrow 2: 6"  # SYNTHETIC answer

    def check_artifact(self, artifact: Any) -> None:
        assert artifact == [5, 6]


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/tabular-regression.yaml")
class TestTabularRegressionTool(_CassetteTool):
    tool_class = TabularRegressionTool
    extra_params = {"base_url": "https://fish-weight.endpoints.huggingface.cloud"}  # no router provider serves it
    example = {
        "table": [
            {
                "Species": "Bream",
                "Length1": "23.2",
                "Length2": "25.4",
                "Length3": "30",
                "Height": "11.52",
                "Width": "4.02",
            },
            {
                "Species": "Roach",
                "Length1": "20.5",
                "Length2": "22.5",
                "Length3": "25.3",
                "Height": "7.03",
                "Width": "3.82",
            },
        ]
    }
    expected_text = "row 1: 242.0\nrow 2: 149.5"  # SYNTHETIC answer

    def check_artifact(self, artifact: Any) -> None:
        assert artifact == [242.0, 149.5]


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/text-to-video.yaml")
class TestTextToVideoTool(_CassetteTool):
    tool_class = TextToVideoTool
    extra_params = MEDIA
    example = {"prompt": "A red fox running through fresh snow, slow motion"}
    expected_text = (
        "Generated the video (2.0 s MP4 video, 144 B). URL: https://v3.fal.media/files/panda/hb-fox-0001.mp4"
    )

    def check_artifact(self, artifact: Any) -> None:
        assert isinstance(artifact, MediaBytes)
        assert artifact.mime_type == "video/mp4"
        assert bytes(artifact) == mp4()


@pytest.mark.vcr
@pytest.mark.default_cassette("tools/image-to-video.yaml")
class TestImageToVideoTool(_CassetteTool):
    tool_class = ImageToVideoTool
    extra_params = MEDIA
    example = {"image": IMAGE_URL, "prompt": "the colours slowly drift"}
    expected_text = "Generated the video (2.0 s MP4 video, 144 B)."

    def check_artifact(self, artifact: Any) -> None:
        assert artifact.mime_type == "video/mp4"
        assert bytes(artifact) == mp4()
