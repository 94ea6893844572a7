"""``create_task_tool`` and ``HFServerlessToolkit``: tools by Hub task id, defaults and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from langchain_hfserverless.tools import (
    DEFAULT_MODELS,
    TASK_TOOLS,
    HFServerlessMediaTool,
    HFServerlessToolkit,
    SpeechRecognitionTool,
    TextToImageTool,
    create_task_tool,
)

FIRST_FIFTEEN = {
    "text-to-image",
    "image-to-image",
    "text-to-speech",
    "automatic-speech-recognition",
    "image-to-text",
    "visual-question-answering",
    "image-classification",
    "object-detection",
    "translation",
    "summarization",
    "zero-shot-classification",
    "text-classification",
    "token-classification",
    "question-answering",
    "sentence-similarity",
}
# the nine the Inference API serves besides, and video
NEW_TASKS = {
    "fill-mask",
    "table-question-answering",
    "document-question-answering",
    "zero-shot-image-classification",
    "image-segmentation",
    "audio-classification",
    "audio-to-audio",
    "tabular-classification",
    "tabular-regression",
    "text-to-video",
    "image-to-video",
}
ALL_TASKS = FIRST_FIFTEEN | NEW_TASKS


def test_every_task_of_the_issue_has_a_tool_with_a_default_model() -> None:
    assert set(TASK_TOOLS) == ALL_TASKS
    for task, cls in TASK_TOOLS.items():
        tool = cls()
        assert tool.task == task and tool.model == DEFAULT_MODELS[task]
        assert tool.response_format == "content_and_artifact"
        assert tool.args_schema is not None and len(tool.description) > 60
    names = [cls().name for cls in TASK_TOOLS.values()]
    assert len(set(names)) == len(names)


def test_create_task_tool_by_hub_task_id() -> None:
    tool = create_task_tool(
        "automatic-speech-recognition",
        model="openai/whisper-small",
        provider="hf-inference",
        api_key="hf_x",
        timeout=5,
        max_retries=0,
    )
    assert isinstance(tool, SpeechRecognitionTool)
    assert (tool.model, tool.provider, tool.timeout, tool.max_retries) == ("openai/whisper-small", "hf-inference", 5, 0)
    assert tool.api_key is not None and tool.api_key.get_secret_value() == "hf_x"
    assert "hf_x" not in repr(tool)
    assert create_task_tool("text_to_image").model == DEFAULT_MODELS["text-to-image"]
    assert isinstance(create_task_tool("ASR"), SpeechRecognitionTool)
    endpoint = create_task_tool("summarization", base_url="https://my-endpoint.example/")
    assert endpoint.base_url == "https://my-endpoint.example/" and endpoint.model is None


def test_unknown_tasks_and_fields_are_refused_with_the_list() -> None:
    unknown = r"No task tool for 'image-text-to-text'\. Supported Hub tasks: .*text-to-image"
    with pytest.raises(ValueError, match=unknown):
        create_task_tool("image-text-to-text")
    with pytest.raises(ValidationError, match="output_dri"):
        create_task_tool("text-to-image", output_dri="x")


def test_toolkit_defaults_to_every_task() -> None:
    tools = HFServerlessToolkit().get_tools()
    assert [t.task for t in tools] == list(TASK_TOOLS)  # type: ignore[attr-defined]


def test_toolkit_shares_settings_and_takes_overrides(tmp_path: object) -> None:
    toolkit = HFServerlessToolkit(
        tasks=["text-to-speech", "translation", "text_to_image"],
        models={"text-to-image": "stabilityai/stable-diffusion-xl-base-1.0"},
        provider="fal-ai",
        api_key="hf_shared",
        timeout=30,
        output_dir=str(tmp_path),
        tool_kwargs={"text-to-image": {"parameters": {"num_inference_steps": 4}, "include_image_block": False}},
    )
    speech, translate, draw = toolkit.get_tools()
    assert [speech.name, translate.name, draw.name] == ["text_to_speech", "translate_text", "generate_image"]
    assert isinstance(draw, TextToImageTool)
    assert draw.model == "stabilityai/stable-diffusion-xl-base-1.0"
    assert draw.parameters == {"num_inference_steps": 4} and draw.include_image_block is False
    assert translate.model == DEFAULT_MODELS["translation"]
    for tool in (speech, translate, draw):
        assert tool.provider == "fal-ai" and tool.timeout == 30  # type: ignore[attr-defined]
        assert isinstance(tool.api_key, SecretStr) and tool.api_key.get_secret_value() == "hf_shared"  # type: ignore[attr-defined]
    assert isinstance(speech, HFServerlessMediaTool) and speech.output_dir == str(tmp_path)
    assert not hasattr(translate, "output_dir")


def test_toolkit_refuses_unknown_tasks_at_construction() -> None:
    with pytest.raises(ValidationError, match="No task tool for 'image-captioning'"):
        HFServerlessToolkit(tasks=["image-captioning"])
    with pytest.raises(ValidationError, match="No task tool for 'txt2img'"):
        HFServerlessToolkit(models={"txt2img": "x"})


def test_every_new_task_has_a_described_tool_by_its_id() -> None:
    assert set(TASK_TOOLS) >= NEW_TASKS and len(TASK_TOOLS) == 26
    for task in NEW_TASKS:
        tool = create_task_tool(task, api_key="hf_x")
        assert tool.task == task and tool.model == DEFAULT_MODELS[task]
        assert tool.response_format == "content_and_artifact" and len(tool.description) > 80
        assert tool.model in tool.description
    names = [cls().name for cls in TASK_TOOLS.values()]
    assert len(set(names)) == len(names)


def test_the_toolkit_builds_the_new_tools_and_gives_media_ones_the_output_dir(tmp_path: Path) -> None:
    tools = HFServerlessToolkit(
        tasks=["fill-mask", "text-to-video", "audio-to-audio"], output_dir=str(tmp_path), api_key="hf_x"
    ).get_tools()
    assert [t.name for t in tools] == ["fill_in_the_blank", "generate_video", "transform_audio"]
    assert tools[1].output_dir == str(tmp_path) and tools[2].output_dir == str(tmp_path)
