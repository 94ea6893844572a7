"""langchain-tests' standard unit suite (``ToolsUnitTests``) for every task tool."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ToolsUnitTests

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

IMAGE = "https://huggingface.co/datasets/huggingface/documentation-images/resolve/main/cat.png"
AUDIO = "https://huggingface.co/datasets/Narsil/asr_dummy/resolve/main/1.flac"


class _StandardTool(ToolsUnitTests):
    tool_class: type
    example: dict[str, Any] = {}

    @property
    def tool_constructor(self) -> type:
        return self.tool_class

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_key": "hf_fake_unit_test_token"}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return dict(self.example)

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        # As ChatHFServerless: HF_TOKEN is read when a request is made, never copied onto the object.
        return {"HF_TOKEN": "hf_from_env"}, {}, {"api_key": None, "model": self.tool_class.default_model}


class TestTextToImageToolUnit(_StandardTool):
    tool_class = TextToImageTool
    example = {"prompt": "A red fox in the snow, photograph"}


class TestImageToImageToolUnit(_StandardTool):
    tool_class = ImageToImageTool
    example = {"image": IMAGE, "prompt": "make it night"}


class TestTextToSpeechToolUnit(_StandardTool):
    tool_class = TextToSpeechTool
    example = {"text": "Hello world"}


class TestSpeechRecognitionToolUnit(_StandardTool):
    tool_class = SpeechRecognitionTool
    example = {"audio": AUDIO}


class TestImageToTextToolUnit(_StandardTool):
    tool_class = ImageToTextTool
    example = {"image": IMAGE}


class TestVisualQuestionAnsweringToolUnit(_StandardTool):
    tool_class = VisualQuestionAnsweringTool
    example = {"image": IMAGE, "question": "What animal is this?"}


class TestImageClassificationToolUnit(_StandardTool):
    tool_class = ImageClassificationTool
    example = {"image": IMAGE, "top_k": 3}


class TestObjectDetectionToolUnit(_StandardTool):
    tool_class = ObjectDetectionTool
    example = {"image": IMAGE, "threshold": 0.9}


class TestTranslationToolUnit(_StandardTool):
    tool_class = TranslationTool
    example = {"text": "Hello world", "src_lang": "en_XX", "tgt_lang": "fr_XX"}


class TestSummarizationToolUnit(_StandardTool):
    tool_class = SummarizationTool
    example = {"text": "A long article about the Eiffel Tower."}


class TestZeroShotClassificationToolUnit(_StandardTool):
    tool_class = ZeroShotClassificationTool
    example = {"text": "My card was charged twice", "candidate_labels": ["billing", "bug"], "multi_label": False}


class TestTextClassificationToolUnit(_StandardTool):
    tool_class = TextClassificationTool
    example = {"text": "I love it"}


class TestTokenClassificationToolUnit(_StandardTool):
    tool_class = TokenClassificationTool
    example = {"text": "Ada Lovelace was born in London"}


class TestQuestionAnsweringToolUnit(_StandardTool):
    tool_class = QuestionAnsweringTool
    example = {"question": "Where?", "context": "In Paris."}


class TestSentenceSimilarityToolUnit(_StandardTool):
    tool_class = SentenceSimilarityTool
    example = {"source_sentence": "cats", "sentences": ["kittens", "taxes"]}


class TestFillMaskToolUnit(_StandardTool):
    tool_class = FillMaskTool
    example = {"text": "Paris is the [MASK] of France.", "top_k": 3}


class TestTableQuestionAnsweringToolUnit(_StandardTool):
    tool_class = TableQuestionAnsweringTool
    example = {"table": {"Repository": ["Transformers", "Datasets"], "Stars": [36542, 4512]}, "query": "Most stars?"}


class TestDocumentQuestionAnsweringToolUnit(_StandardTool):
    tool_class = DocumentQuestionAnsweringTool
    example = {"image": IMAGE, "question": "What is the total?"}


class TestZeroShotImageClassificationToolUnit(_StandardTool):
    tool_class = ZeroShotImageClassificationTool
    example = {"image": IMAGE, "candidate_labels": ["cat", "dog"]}


class TestImageSegmentationToolUnit(_StandardTool):
    tool_class = ImageSegmentationTool
    example = {"image": IMAGE, "threshold": 0.9}


class TestAudioClassificationToolUnit(_StandardTool):
    tool_class = AudioClassificationTool
    example = {"audio": AUDIO, "top_k": 3}


class TestAudioToAudioToolUnit(_StandardTool):
    tool_class = AudioToAudioTool
    example = {"audio": AUDIO}


class TestTabularClassificationToolUnit(_StandardTool):
    tool_class = TabularClassificationTool
    example = {"table": [{"fixed_acidity": "7.4", "alcohol": "9.4"}]}


class TestTabularRegressionToolUnit(_StandardTool):
    tool_class = TabularRegressionTool
    example = {"table": {"Height": ["11.52"], "Species": ["Bream"]}}


class TestTextToVideoToolUnit(_StandardTool):
    tool_class = TextToVideoTool
    example = {"prompt": "A red fox running through snow"}


class TestImageToVideoToolUnit(_StandardTool):
    tool_class = ImageToVideoTool
    example = {"image": IMAGE, "prompt": "the cat turns its head"}
