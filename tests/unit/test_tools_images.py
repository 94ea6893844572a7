"""``tools/images.py``: text-to-image and image-to-image end to end over loopback HTTP (what is sent, the image
that comes back as a content block, an artifact and a file), then langchain-tests' standard unit suite for each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_hfserverless.errors import (
    HFServerlessAPIError,
)
from langchain_hfserverless.tools import (
    ImageToImageTool,
    MediaBytes,
    TextToImageTool,
)
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.media_samples import B64, FLAC, PNG, png
from tests.unit.tool_harness import IMAGE, StandardToolUnit, call

# The shared fixtures this module uses.
_servers, server = tool_harness._servers, tool_harness.server


def test_raw_image_bytes_become_content_block_and_artifact(server: LoopbackServer) -> None:
    server.reply(body=PNG, headers={"content-type": "image/png"})
    message = call(TextToImageTool(base_url=server.url), {"prompt": "a cat", "width": 512, "height": 256})
    assert server.requests[0].json() == {"inputs": "a cat", "parameters": {"width": 512, "height": 256}}
    text, block = message.content
    assert text == {"type": "text", "text": "Generated the image (4x2 PNG image, " + f"{len(PNG)} B)."}
    assert block == {"type": "image", "base64": B64, "mime_type": "image/png"}
    assert isinstance(message.artifact, MediaBytes) and bytes(message.artifact) == PNG


def test_tool_parameters_are_sent_and_call_arguments_win(server: LoopbackServer) -> None:
    server.reply(body={"data": [{"b64_json": B64}]})
    tool = TextToImageTool(base_url=server.url, parameters={"num_inference_steps": 4, "width": 64})
    call(tool, {"prompt": "p", "width": 128})
    assert server.requests[0].json() == {"inputs": "p", "parameters": {"num_inference_steps": 4, "width": 128}}


def test_audio_where_an_image_was_expected_is_an_error(server: LoopbackServer) -> None:
    server.reply(body=FLAC, headers={"content-type": "audio/flac"})
    with pytest.raises(HFServerlessAPIError, match="expected image bytes"):
        call(TextToImageTool(base_url=server.url), {"prompt": "p"})


def test_image_to_image_sends_image_and_prompt(server: LoopbackServer, tmp_path: Path) -> None:
    server.reply(body=png(2, 2), headers={"content-type": "image/png"})
    source = tmp_path / "in.png"
    source.write_bytes(PNG)
    tool = ImageToImageTool(
        base_url=server.url, include_image_block=False, output_dir=str(tmp_path / "out"), local_files_dir=str(tmp_path)
    )
    message = call(tool, {"image": str(source), "prompt": "night"})
    assert server.requests[0].json() == {"inputs": B64, "parameters": {"prompt": "night"}}
    assert isinstance(message.content, str) and "2x2 PNG image" in message.content
    assert "Saved to " + str(tmp_path / "out") in message.content


# --------------------------------------------------------------------------------------------- standard suite


class TestTextToImageToolUnit(StandardToolUnit):
    tool_class = TextToImageTool
    example = {"prompt": "A red fox in the snow, photograph"}


class TestImageToImageToolUnit(StandardToolUnit):
    tool_class = ImageToImageTool
    example = {"image": IMAGE, "prompt": "make it night"}
