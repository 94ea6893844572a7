"""The Hub's tasks as LangChain tools: image, speech, vision and NLP models an agent can call."""

from langchain_hfserverless.tools._base import HFServerlessMediaTool, HFServerlessTaskTool
from langchain_hfserverless.tools._media import MediaBytes, MediaInputError
from langchain_hfserverless.tools.audio import (
    AudioClassificationTool,
    AudioToAudioTool,
    SpeechRecognitionTool,
    TextToSpeechTool,
)
from langchain_hfserverless.tools.images import ImageToImageTool, TextToImageTool
from langchain_hfserverless.tools.tables import (
    TableQuestionAnsweringTool,
    TabularClassificationTool,
    TabularRegressionTool,
)
from langchain_hfserverless.tools.text import (
    FillMaskTool,
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
from langchain_hfserverless.tools.video import ImageToVideoTool, TextToVideoTool
from langchain_hfserverless.tools.vision import (
    DocumentQuestionAnsweringTool,
    ImageClassificationTool,
    ImageSegmentationTool,
    ImageToTextTool,
    ObjectDetectionTool,
    VisualQuestionAnsweringTool,
    ZeroShotImageClassificationTool,
)

__all__ = [
    "DEFAULT_MODELS",
    "TASK_TOOLS",
    "AudioClassificationTool",
    "AudioToAudioTool",
    "DocumentQuestionAnsweringTool",
    "FillMaskTool",
    "HFServerlessMediaTool",
    "HFServerlessTaskTool",
    "HFServerlessToolkit",
    "ImageClassificationTool",
    "ImageSegmentationTool",
    "ImageToImageTool",
    "ImageToTextTool",
    "ImageToVideoTool",
    "MediaBytes",
    "MediaInputError",
    "ObjectDetectionTool",
    "QuestionAnsweringTool",
    "SentenceSimilarityTool",
    "SpeechRecognitionTool",
    "SummarizationTool",
    "TableQuestionAnsweringTool",
    "TabularClassificationTool",
    "TabularRegressionTool",
    "TextClassificationTool",
    "TextToImageTool",
    "TextToSpeechTool",
    "TextToVideoTool",
    "TokenClassificationTool",
    "TranslationTool",
    "VisualQuestionAnsweringTool",
    "ZeroShotClassificationTool",
    "ZeroShotImageClassificationTool",
    "create_task_tool",
    "task_tool_class",
]
