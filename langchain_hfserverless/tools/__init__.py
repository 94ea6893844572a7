"""The Hub's tasks as LangChain tools: image, speech, vision and NLP models an agent can call."""

from langchain_hfserverless.tools._base import HFServerlessMediaTool, HFServerlessTaskTool
from langchain_hfserverless.tools._media import MediaBytes, MediaInputError
from langchain_hfserverless.tools.audio import SpeechRecognitionTool, TextToSpeechTool
from langchain_hfserverless.tools.images import ImageToImageTool, TextToImageTool
from langchain_hfserverless.tools.text import (
    QuestionAnsweringTool,
    SentenceSimilarityTool,
    SummarizationTool,
    TextClassificationTool,
    TokenClassificationTool,
    TranslationTool,
    ZeroShotClassificationTool,
)
from langchain_hfserverless.tools.toolkit import (
    DEFAULT_MODELS,
    TASK_TOOLS,
    HFServerlessToolkit,
    create_task_tool,
    task_tool_class,
)
from langchain_hfserverless.tools.vision import (
    ImageClassificationTool,
    ImageToTextTool,
    ObjectDetectionTool,
    VisualQuestionAnsweringTool,
)

__all__ = [
    "DEFAULT_MODELS",
    "TASK_TOOLS",
    "HFServerlessMediaTool",
    "HFServerlessTaskTool",
    "HFServerlessToolkit",
    "ImageClassificationTool",
    "ImageToImageTool",
    "ImageToTextTool",
    "MediaBytes",
    "MediaInputError",
    "ObjectDetectionTool",
    "QuestionAnsweringTool",
    "SentenceSimilarityTool",
    "SpeechRecognitionTool",
    "SummarizationTool",
    "TextClassificationTool",
    "TextToImageTool",
    "TextToSpeechTool",
    "TokenClassificationTool",
    "TranslationTool",
    "VisualQuestionAnsweringTool",
    "ZeroShotClassificationTool",
    "create_task_tool",
    "task_tool_class",
]
