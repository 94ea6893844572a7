"""Image understanding tools: captioning, visual and document question answering, classification (fixed and
zero-shot), object detection, segmentation."""

from __future__ import annotations

import base64
from collections.abc import Generator, Mapping
from typing import Any

import orjson
from pydantic import BaseModel, Field, model_validator

from langchain_hfserverless._transport import Reply, Route
from langchain_hfserverless._wire.errors import error_from_event
from langchain_hfserverless._wire.sse import is_error_event
from langchain_hfserverless.tools._answers import answers_answer, detection_answer, labels_answer, text_answer
from langchain_hfserverless.tools._base import (
    HFServerlessMediaTool,
    HFServerlessTaskTool,
    MediaInput,
    Open,
    Plan,
    Post,
    Step,
    hub_bytes,
)
from langchain_hfserverless.tools._jobs import AnswerError
from langchain_hfserverless.tools._media import image_size, media_output

# What a model may send: media tools refuse local paths unless configured (allow_local_files, local_files_dir).
_IMAGE = (
    "The image (PNG, JPEG, GIF, WEBP...) as an http(s) URL, a data: URL, or base64. A local file path works only "
    "where this tool is set up to read local files."
)


class ImageInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)


class ImageToTextTool(HFServerlessTaskTool):
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
        return self._read_media_json(
            ImageInput(**kwargs).image, "image", self._parameters(), lambda p: text_answer(p, "generated_text")
        )


class VisualQuestionInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)
    question: str = Field(min_length=1, description="A short question about the image, e.g. 'What colour is the car?'")


class VisualQuestionAnsweringTool(HFServerlessTaskTool):
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
        return self._read_media_json(
            args.image,
            "image",
            self._parameters(),
            answers_answer,
            lambda media: {"question": args.question, "image": media.to_base64()},
        )


class ImageClassificationInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)
    top_k: int | None = Field(default=None, ge=1, le=100, description="How many labels to return (optional).")


class ImageClassificationTool(HFServerlessTaskTool):
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
        return self._read_media_json(args.image, "image", self._parameters(top_k=args.top_k), labels_answer)


class ObjectDetectionInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="Minimum confidence of a detection, 0-1 (optional)."
    )


class ObjectDetectionTool(HFServerlessTaskTool):
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
        return self._read_media_json(args.image, "image", self._parameters(threshold=args.threshold), detection_answer)


class ZeroShotImageInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)
    candidate_labels: list[str] = Field(
        min_length=2, description="The labels to choose from (at least two), e.g. ['dog', 'cat', 'horse']."
    )
    hypothesis_template: str | None = Field(
        default=None, description="How each label is phrased for the model (optional), e.g. 'a photo of a {}.'"
    )


class ZeroShotImageClassificationTool(HFServerlessTaskTool):
    """Classify an image into labels you choose at call time (Hub task ``zero-shot-image-classification``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import ZeroShotImageClassificationTool

            tool = ZeroShotImageClassificationTool()
            print(tool.invoke({"image": "pet.jpg", "candidate_labels": ["dog", "cat", "horse"]}))
    """

    name: str = "classify_image_with_labels"
    task = "zero-shot-image-classification"
    default_model = "openai/clip-vit-base-patch32"
    summary = (
        "Score how well an image matches each of the candidate labels you provide (zero-shot image "
        "classification, model {model}). Use it to sort or tag pictures into categories of your choosing."
    )
    args_schema: type[BaseModel] = ZeroShotImageInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = ZeroShotImageInput(**kwargs)
        parameters = self._parameters(
            candidate_labels=args.candidate_labels, hypothesis_template=args.hypothesis_template
        )
        return self._read_media_json(args.image, "image", parameters, labels_answer)


class DocumentQuestionInput(BaseModel):
    image: MediaInput = Field(
        description="An image of the document page (scan, photo, screenshot of an invoice, form, receipt...) as an "
        "http(s) URL, a data: URL, or base64. A local file path works only where this tool is set up to read local "
        "files."
    )
    question: str = Field(min_length=1, description="The question about the document, e.g. 'What is the total?'")
    words: list[str] | None = Field(
        default=None, description="The page's words, if already known (optional; then boxes is required too)."
    )
    boxes: list[list[float]] | None = Field(
        default=None,
        description="One box per word, [x0, y0, x1, y1] normalised to 0-1000 (optional; skips the model's OCR).",
    )
    top_k: int | None = Field(default=None, ge=1, le=20, description="How many candidate answers (optional).")

    @model_validator(mode="after")
    def _words_match_boxes(self) -> DocumentQuestionInput:
        if (self.words is None) != (self.boxes is None):
            raise ValueError("Give both words and boxes (one box per word), or neither.")
        if self.words is not None and self.boxes is not None:
            if len(self.words) != len(self.boxes):
                raise ValueError(f"Got {len(self.words)} words but {len(self.boxes)} boxes: give one box per word.")
            if any(len(box) != 4 for box in self.boxes):
                raise ValueError("Each box must be [x0, y0, x1, y1].")
        return self


class DocumentQuestionAnsweringTool(HFServerlessTaskTool):
    """Answer a question about a document image (Hub task ``document-question-answering``).

    The artifact is the server's list of answers (``answer``, and ``score``/``start``/``end`` when the model
    gives them). With ``words`` and ``boxes`` the model skips OCR and reads the page's words as given.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import DocumentQuestionAnsweringTool

            tool = DocumentQuestionAnsweringTool()
            print(tool.invoke({"image": "invoice.png", "question": "What is the invoice number?"}))
    """

    name: str = "ask_about_document"
    task = "document-question-answering"
    default_model = "impira/layoutlm-document-qa"
    summary = (
        "Read an image of a document page (invoice, receipt, form, letter) and answer a question about it with "
        "text found on the page (document question answering, model {model})."
    )
    args_schema: type[BaseModel] = DocumentQuestionInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = DocumentQuestionInput(**kwargs)
        media = yield from self._media_input(args.image, "image")
        word_boxes = (
            [[word, box] for word, box in zip(args.words, args.boxes, strict=True)]
            if args.words is not None and args.boxes is not None
            else None
        )
        # As huggingface_hub sends it: the question and the page (base64) as the inputs.
        inputs = {"question": args.question, "image": media.to_base64()}
        parameters = self._parameters(top_k=args.top_k, word_boxes=word_boxes)
        return (yield from self._read_json(inputs, parameters, answers_answer))


class ImageSegmentationInput(BaseModel):
    image: MediaInput = Field(description=_IMAGE)
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="Minimum confidence of a segment, 0-1 (optional)."
    )
    subtask: str | None = Field(
        default=None, description="'semantic', 'instance' or 'panoptic', for models that do several (optional)."
    )


def segments_of(payload: Any) -> list[dict[str, Any]]:
    """``[{"label", "score", "mask": <base64 PNG>}]`` with each mask as image :class:`MediaBytes`."""
    if isinstance(payload, Mapping):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(item, Mapping) for item in payload):
        raise AnswerError(f"expected a list of segments, got {str(payload)[:120]}")
    segments = []
    for item in payload:
        encoded = item.get("mask")
        if not isinstance(encoded, str):
            raise AnswerError(f"a segment has no base64 'mask' (keys: {sorted(item)})")
        encoded = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded
        try:
            mask = media_output(base64.b64decode(encoded), "image")
        except ValueError:
            mask = None
        if mask is None:
            raise AnswerError(f"the mask of segment {item.get('label')!r} is not an image")
        segments.append({**item, "mask": mask})
    return segments


def segments_text(segments: list[dict[str, Any]]) -> str:
    if not segments:
        return "No segments found."
    parts = []
    for segment in segments[:10]:
        size = image_size(segment["mask"])
        score = segment.get("score")
        shown = f"{float(score):.4f}, " if isinstance(score, (int, float)) else ""
        parts.append(f"{segment.get('label')} ({shown}{f'{size[0]}x{size[1]} ' if size else ''}mask)")
    more = f" (+{len(segments) - 10} more)" if len(segments) > 10 else ""
    return f"{len(segments)} segment(s): " + "; ".join(parts) + more


class ImageSegmentationTool(HFServerlessMediaTool):
    """Split an image into labelled regions (Hub task ``image-segmentation``).

    The artifact is a list of ``{"label", "score", "mask"}`` with each mask a black-and-white image as
    :class:`MediaBytes`; the model reads a summary (labels, scores, mask sizes). Providers that answer with one
    mask (fal-ai) give one segment labelled ``"mask"``, as huggingface_hub reads it.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import ImageSegmentationTool

            message = ImageSegmentationTool().invoke(
                {"type": "tool_call", "id": "1", "name": "segment_image", "args": {"image": "street.jpg"}}
            )
            for segment in message.artifact:
                segment["mask"].save(f"{segment['label']}.png")
    """

    name: str = "segment_image"
    task = "image-segmentation"
    default_model = "facebook/detr-resnet-50-panoptic"
    summary = (
        "Segment an image into regions (image segmentation, model {model}): returns each region's label and "
        "confidence, with a mask image per region. Use it to find which parts of a picture are which object."
    )
    args_schema: type[BaseModel] = ImageSegmentationInput
    include_image_block: bool = False
    """Also put the masks in the tool message as image blocks (off: the model reads a summary)."""

    def _plan(self, **kwargs: Any) -> Plan:
        args = ImageSegmentationInput(**kwargs)
        media = yield from self._media_input(args.image, "image")
        parameters = self._parameters(threshold=args.threshold, subtask=args.subtask)
        route: Route = yield Open(hub_bytes(media), parameters or None)
        reply: Reply = yield Post(route)
        segments = yield from self._segments(route, reply)
        return self._segments_result(segments)

    def _segments(self, route: Route, reply: Reply) -> Generator[Step, Any, list[dict[str, Any]]]:
        try:
            payload = orjson.loads(reply.content)
        except orjson.JSONDecodeError:
            payload = None
        if is_error_event(payload):
            raise error_from_event(payload, model=route.model, provider=route.provider)
        if isinstance(payload, list) or (isinstance(payload, Mapping) and "mask" in payload):
            try:
                return segments_of(payload)
            except AnswerError as exc:
                raise self._unreadable(route, exc) from None
        mask = yield from self._answer_media(route, reply, "image")  # a provider's job, then one mask image
        return [{"label": "mask", "score": 1.0, "mask": mask}]

    def _segments_result(self, segments: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
        text = segments_text(segments)
        directory = self._output_directory() if segments else None
        if directory is not None:
            text += ". Masks saved to " + ", ".join(str(s["mask"].save(directory)) for s in segments)
        if self.include_image_block and segments:
            return [{"type": "text", "text": text}, *(s["mask"].to_content_block() for s in segments)], segments
        return text, segments
