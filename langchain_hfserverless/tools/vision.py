"""Image understanding tools: captioning, visual question answering, classification, object detection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from langchain_hfserverless.tools._answers import answers_answer, detection_answer, labels_answer, text_answer
from langchain_hfserverless.tools._base import HFServerlessTaskTool, MediaInput, Plan, hub_bytes
from langchain_hfserverless.tools._jobs import AnswerError
from langchain_hfserverless.tools._media import MediaBytes

_IMAGE = "The image: a local file path, an http(s) URL, a data: URL, or base64 bytes (PNG, JPEG, GIF, WEBP...)."


class ImageInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)


class _ImageJSONTool(HFServerlessTaskTool):
    """A tool that sends one image (plus parameters) and reads the JSON answer with ``read``."""

    def _image_plan(
        self,
        image: Any,
        parameters: dict[str, Any],
        read: Callable[[Any], tuple[Any, Any]],
        extra: Callable[[MediaBytes], dict[str, Any]] | None = None,
    ) -> Plan:
        media = yield from self._media_input(image, "image")
        payload, route = yield from self._call_json(hub_bytes(media), parameters, extra(media) if extra else None)
        try:
            return read(payload)
        except AnswerError as exc:
            raise self._unreadable(route, exc) from None


class ImageToTextTool(_ImageJSONTool):
    """Caption an image (Hub task ``image-to-text``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import ImageToTextTool

            print(ImageToTextTool().invoke({"image": "https://example.com/cat.png"}))
    """

    name: str = "caption_image"
    task = "image-to-text"
    default_model = "Salesforce/blip-image-captioning-large"
    summary = (
        "Write a short caption saying what an image shows (image captioning, model {model}). Use it to learn what "
        "is in a picture; for a specific question about the picture use ask_about_image instead."
    )
    args_schema: type[BaseModel] = ImageInput

    def _plan(self, **kwargs: Any) -> Plan:
        return self._image_plan(
            ImageInput(**kwargs).image, self._parameters(), lambda p: text_answer(p, "generated_text")
        )


class VisualQuestionInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)
    question: str = Field(min_length=1, description="A short question about the image, e.g. 'What colour is the car?'")


class VisualQuestionAnsweringTool(_ImageJSONTool):
    """Answer a question about an image (Hub task ``visual-question-answering``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import VisualQuestionAnsweringTool

            tool = VisualQuestionAnsweringTool()
            print(tool.invoke({"image": "street.jpg", "question": "How many people are there?"}))
    """

    name: str = "ask_about_image"
    task = "visual-question-answering"
    default_model = "dandelin/vilt-b32-finetuned-vqa"
    summary = (
        "Answer a short factual question about an image: what, who, how many, which colour "
        "(visual question answering, model {model}). Answers are a word or two."
    )
    args_schema: type[BaseModel] = VisualQuestionInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = VisualQuestionInput(**kwargs)
        # As huggingface_hub sends it: the question and the image (base64) beside the inputs.
        return self._image_plan(
            args.image,
            self._parameters(),
            answers_answer,
            lambda media: {"question": args.question, "image": media.to_base64()},
        )


class ImageClassificationInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)
    top_k: int | None = Field(default=None, ge=1, le=100, description="How many labels to return (optional).")


class ImageClassificationTool(_ImageJSONTool):
    """Label an image with the classes of a classifier (Hub task ``image-classification``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import ImageClassificationTool

            print(ImageClassificationTool().invoke({"image": "dog.jpg"}))
    """

    name: str = "classify_image"
    task = "image-classification"
    default_model = "google/vit-base-patch16-224"
    summary = (
        "Classify an image into the fixed label set of model {model} (e.g. ImageNet object classes), with a "
        "confidence score per label. Use it to identify the main object or category of a picture."
    )
    args_schema: type[BaseModel] = ImageClassificationInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = ImageClassificationInput(**kwargs)
        return self._image_plan(args.image, self._parameters(top_k=args.top_k), labels_answer)


class ObjectDetectionInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="Minimum confidence of a detection, 0-1 (optional)."
    )


class ObjectDetectionTool(_ImageJSONTool):
    """Find objects in an image with their boxes (Hub task ``object-detection``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import ObjectDetectionTool

            print(ObjectDetectionTool().invoke({"image": "street.jpg", "threshold": 0.8}))
    """

    name: str = "detect_objects"
    task = "object-detection"
    default_model = "facebook/detr-resnet-50"
    summary = (
        "Detect and locate objects in an image (object detection, model {model}): returns each object's label, "
        "confidence and bounding box in pixels [xmin, ymin, xmax, ymax]. Use it to count or locate things."
    )
    args_schema: type[BaseModel] = ObjectDetectionInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = ObjectDetectionInput(**kwargs)
        return self._image_plan(args.image, self._parameters(threshold=args.threshold), detection_answer)
