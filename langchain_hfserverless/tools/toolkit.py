"""Task tools by Hub task id: ``create_task_tool`` and ``HFServerlessToolkit``."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, SecretStr, field_validator

from langchain_hfserverless._connection import HFConnection
from langchain_hfserverless.tools import audio, images, tables, text, video, vision
from langchain_hfserverless.tools._base import HFServerlessMediaTool, HFServerlessTaskTool

TASK_TOOLS: dict[str, type[HFServerlessTaskTool]] = {
    cls.task: cls
    for cls in (
        images.TextToImageTool,
        images.ImageToImageTool,
        audio.TextToSpeechTool,
        audio.SpeechRecognitionTool,
        vision.ImageToTextTool,
        vision.VisualQuestionAnsweringTool,
        vision.ImageClassificationTool,
        vision.ObjectDetectionTool,
        text.TranslationTool,
        text.SummarizationTool,
        text.ZeroShotClassificationTool,
        text.TextClassificationTool,
        text.TokenClassificationTool,
        text.QuestionAnsweringTool,
        text.SentenceSimilarityTool,
        text.FillMaskTool,
        tables.TableQuestionAnsweringTool,
        vision.DocumentQuestionAnsweringTool,
        vision.ZeroShotImageClassificationTool,
        vision.ImageSegmentationTool,
        audio.AudioClassificationTool,
        audio.AudioToAudioTool,
        tables.TabularClassificationTool,
        tables.TabularRegressionTool,
        video.TextToVideoTool,
        video.ImageToVideoTool,
    )
}
"""Tool class per Hub task id."""

DEFAULT_MODELS: dict[str, str] = {task: cls.default_model for task, cls in TASK_TOOLS.items()}
"""The model each task uses unless told otherwise."""

_ALIASES = {
    "asr": "automatic-speech-recognition",
    "speech-recognition": "automatic-speech-recognition",
    "tts": "text-to-speech",
    "ner": "token-classification",
    "vqa": "visual-question-answering",
}


def task_tool_class(task: str) -> type[HFServerlessTaskTool]:
    """The tool class for a Hub task id (``"text-to-image"``); ``_`` and case are forgiven."""
    key = task.strip().lower().replace("_", "-") if isinstance(task, str) else task
    key = _ALIASES.get(key, key)
    if key not in TASK_TOOLS:
        raise ValueError(f"No task tool for {task!r}. Supported Hub tasks: {', '.join(sorted(TASK_TOOLS))}.")
    return TASK_TOOLS[key]


def create_task_tool(
    task: str,
    *,
    model: str | None = None,
    provider: str = "auto",
    base_url: str | None = None,
    api_key: str | SecretStr | None = None,
    **kwargs: Any,
) -> HFServerlessTaskTool:
    """The LangChain tool for a Hub task, e.g. ``create_task_tool("text-to-image")``.

    Args:
        task: Hub task id (``"automatic-speech-recognition"``, ``"zero-shot-classification"``...).
        model: Hub model id (optionally ``:provider``); defaults to ``DEFAULT_MODELS[task]``.
        provider: ``"auto"`` or a provider name (``"fal-ai"``, ``"hf-inference"``, ``"replicate"``...).
        base_url: your own endpoint, sent the request as given (hf-inference form).
        api_key: token; else ``HF_TOKEN`` or the saved login.
        **kwargs: any other field of the tool (``timeout``, ``max_retries``, ``parameters``, ``output_dir``...).

    Example:
        .. code-block:: python

            from langchain_hfserverless import create_task_tool

            asr = create_task_tool("automatic-speech-recognition", provider="fal-ai")
            print(asr.invoke({"audio": "https://huggingface.co/datasets/Narsil/asr_dummy/resolve/main/1.flac"}))
    """
    cls = task_tool_class(task)
    if api_key is not None:
        kwargs["api_key"] = api_key
    return cls(model=model, provider=provider, base_url=base_url, **kwargs)


def _reads_media(cls: type[HFServerlessTaskTool]) -> bool:
    """Whether the tool takes an image or audio argument (which may name a local file)."""
    schema = cls.model_fields["args_schema"].default
    fields = getattr(schema, "model_fields", {})
    return any(Path in typing.get_args(field.annotation) for field in fields.values())


class HFServerlessToolkit(HFConnection, BaseToolkit):
    """The task tools an agent should have, sharing one provider, token, connection settings and connection pool.

    Every connection setting of the adapters is accepted (``provider``, ``api_key``, ``timeout``, ``max_retries``,
    ``default_headers``, ``bill_to``, ``use_cache``, ``wait_for_model``) and given to each tool, except
    ``base_url``: one URL cannot serve many tasks, so give a tool its endpoint with ``tool_kwargs``.

    With ``output_dir``, generated images and audio are saved there, and the tools that read an image or audio
    argument may read files inside that directory (``local_files_dir=output_dir``), so the model can pass one
    tool's file to the next; they read no other local file.

    Example:
        .. code-block:: python

            from langchain_hfserverless import HFServerlessToolkit

            toolkit = HFServerlessToolkit(
                tasks=["text-to-image", "image-to-text", "translation"],
                models={"text-to-image": "stabilityai/stable-diffusion-xl-base-1.0"},
                output_dir="generated",
                wait_for_model=True,
            )
            tools = toolkit.get_tools()
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    tasks: list[str] | None = None
    """Hub task ids to include; ``None`` means every supported task (see ``TASK_TOOLS``)."""
    models: dict[str, str] = Field(default_factory=dict)
    """Model per task, overriding ``DEFAULT_MODELS``."""
    output_dir: str | None = None
    """Where image and audio tools also save what they generate (and tell the model the path); the tools that take
    media inputs may read files there."""
    tool_kwargs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Further fields per task, e.g. ``{"text-to-image": {"parameters": {"num_inference_steps": 4}}}`` or
    ``{"translation": {"base_url": "https://my-endpoint..."}}``; they override the toolkit's."""

    @field_validator("base_url")
    @classmethod
    def _no_base_url(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                f"HFServerlessToolkit takes no base_url ({value!r}): its tools call different tasks and models, "
                "which one URL cannot serve. Give one tool its endpoint with "
                "tool_kwargs={'<task>': {'base_url': ...}}, or use create_task_tool(task, base_url=...)."
            )
        return value

    @field_validator("tasks", "models", "tool_kwargs")
    @classmethod
    def _known_tasks(cls, value: Any) -> Any:
        for task in value or ():
            task_tool_class(task)
        return value

    def _task_ids(self) -> list[str]:
        return [task_tool_class(t).task for t in self.tasks] if self.tasks is not None else list(TASK_TOOLS)

    def get_tools(self) -> list[BaseTool]:
        """One tool per task, in the order of ``tasks``; tools with the same ``timeout`` share one pool."""
        models = {task_tool_class(t).task: m for t, m in self.models.items()}
        extra = {task_tool_class(t).task: kw for t, kw in self.tool_kwargs.items()}
        settings = self._connection_settings()
        tools: list[BaseTool] = []
        for task in self._task_ids():
            cls = TASK_TOOLS[task]
            kwargs: dict[str, Any] = {**settings, "model": models.get(task)}
            if self.output_dir is not None:
                if issubclass(cls, HFServerlessMediaTool):
                    kwargs["output_dir"] = self.output_dir
                if _reads_media(cls):
                    kwargs["local_files_dir"] = self.output_dir
            kwargs.update(extra.get(task, {}))
            tools.append(cls(**kwargs))
        return tools
