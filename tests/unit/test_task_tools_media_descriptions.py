"""What a model is told it may send in a media argument: the forms every tool accepts (an http(s) URL, a data: URL,
base64), and a local file path only as the exception it is (refused unless the tool is set up to read files).

Read from the tool-call schema a chat model receives (``convert_to_openai_tool``), for every tool with a media
argument, so a new media tool is checked too.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_hfserverless.tools import TASK_TOOLS

MEDIA_ARGUMENTS = ("image", "audio")


def _media_arguments() -> list[tuple[str, str]]:
    found = []
    for task, cls in sorted(TASK_TOOLS.items()):
        tool = cls(api_key="hf_fake_description_token")
        properties = convert_to_openai_tool(tool)["function"]["parameters"]["properties"]
        found += [(task, name) for name in properties if name in MEDIA_ARGUMENTS]
    return found


MEDIA = _media_arguments()


def _description(task: str, argument: str, **settings: Any) -> str:
    tool = TASK_TOOLS[task](api_key="hf_fake_description_token", **settings)
    return str(convert_to_openai_tool(tool)["function"]["parameters"]["properties"][argument]["description"])


def test_every_media_reading_tool_is_checked() -> None:
    tasks = {task for task, _ in MEDIA}
    assert {"image-to-text", "automatic-speech-recognition", "image-to-image", "image-to-video"} <= tasks
    assert {"document-question-answering", "audio-to-audio", "image-segmentation"} <= tasks
    assert len(MEDIA) == 12


@pytest.mark.parametrize(("task", "argument"), MEDIA, ids=[f"{t}.{a}" for t, a in MEDIA])
def test_a_media_argument_offers_what_every_tool_accepts(task: str, argument: str) -> None:
    text = _description(task, argument)
    assert "http(s) URL" in text and "data: URL" in text and "base64" in text


@pytest.mark.parametrize(("task", "argument"), MEDIA, ids=[f"{t}.{a}" for t, a in MEDIA])
def test_a_file_path_is_offered_only_as_the_exception(task: str, argument: str) -> None:
    """Local paths are refused by default: the model must not be told a path is the first thing to send."""
    for settings in ({}, {"allow_local_files": True}, {"local_files_dir": "."}):
        text = _description(task, argument, **settings)
        path = text.find("file path")
        assert path > text.find("base64") >= 0, text  # after the forms always accepted
        sentence = text[text.rfind(".", 0, path) + 1 :]
        assert "only where this tool is set up to read local files" in sentence, text
