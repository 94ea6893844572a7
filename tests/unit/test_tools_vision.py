"""``tools/vision.py``: the image-understanding task tools end to end over loopback HTTP (what is sent, what comes
back), then langchain-tests' standard unit suite for each.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from langchain_hfserverless.tools import (
    DocumentQuestionAnsweringTool,
    ImageClassificationTool,
    ImageSegmentationTool,
    ImageToTextTool,
    MediaBytes,
    ObjectDetectionTool,
    VisualQuestionAnsweringTool,
    ZeroShotImageClassificationTool,
)
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.media_samples import B64, PNG, png
from tests.unit.tool_harness import IMAGE, StandardToolUnit, call, header, mapping

# The shared fixtures this module uses.
_servers, cdn, router, server = tool_harness._servers, tool_harness.cdn, tool_harness.router, tool_harness.server


IMAGE_CASES = [
    (ImageToTextTool, {}, [{"generated_text": "a cat"}], "a cat", {"generated_text": "a cat"}),
    (
        ImageClassificationTool,
        {},
        [{"label": "tabby", "score": 0.5}],
        "tabby (0.5000)",
        [{"label": "tabby", "score": 0.5}],
    ),
    (
        ObjectDetectionTool,
        {},
        [{"label": "cat", "score": 0.9, "box": {"xmin": 0, "ymin": 0, "xmax": 4, "ymax": 2}}],
        "cat (0.9000) at [0, 0, 4, 2]",
        None,
    ),
]


@pytest.mark.parametrize(
    ("cls", "extra", "answer", "content", "artifact"), IMAGE_CASES, ids=[c[0].__name__ for c in IMAGE_CASES]
)
def test_image_tasks_post_the_raw_image_with_its_type(
    server: LoopbackServer, cls: type, extra: dict, answer: Any, content: str, artifact: Any
) -> None:
    server.reply(body=answer)
    message = call(cls(base_url=server.url), {"image": f"data:image/png;base64,{B64}", **extra})
    assert content in message.content
    assert message.artifact == (artifact if artifact is not None else answer)
    assert server.requests[0].body == PNG
    assert header(server.requests[0], "content-type") == "image/png"


def test_image_parameters_travel_as_base64_json_not_dropped(server: LoopbackServer) -> None:
    server.reply(body=[{"label": "cat", "score": 0.9, "box": {}}])
    call(ObjectDetectionTool(base_url=server.url), {"image": B64, "threshold": 0.8})
    assert server.requests[0].json() == {"inputs": B64, "parameters": {"threshold": 0.8}}


def test_visual_question_answering_sends_question_and_image(server: LoopbackServer) -> None:
    server.reply(body=[{"answer": "blue", "score": 0.8}, {"answer": "red", "score": 0.1}])
    message = call(VisualQuestionAnsweringTool(base_url=server.url), {"image": PNG, "question": "Colour?"})
    assert message.content == "blue (score 0.8000). Other candidates: red (0.1000)"
    assert server.requests[0].json() == {"inputs": B64, "question": "Colour?", "image": B64}


def test_document_question_answering_sends_the_page_question_and_word_boxes(server: LoopbackServer) -> None:
    server.reply(body=[{"answer": "us-001", "score": 0.99, "start": 16, "end": 16}])
    server.reply(body=[{"answer": "$1,000"}])
    tool = DocumentQuestionAnsweringTool(base_url=server.url)
    message = call(
        tool,
        {
            "image": B64,
            "question": "Invoice number?",
            "words": ["INV", "us-001"],
            "boxes": [[0, 0, 10, 10], [20, 0, 40, 10]],
        },
    )
    assert server.requests[0].json() == {
        "inputs": {"question": "Invoice number?", "image": B64},
        "parameters": {"word_boxes": [["INV", [0, 0, 10, 10]], ["us-001", [20, 0, 40, 10]]]},
    }
    assert message.content == "us-001 (score 0.9900)"
    assert call(tool, {"image": B64, "question": "Total?"}).content == "$1,000"  # no score: none made up
    assert server.requests[1].json() == {"inputs": {"question": "Total?", "image": B64}}
    with pytest.raises(ValidationError, match="one box per word"):
        call(tool, {"image": B64, "question": "q", "words": ["a", "b"], "boxes": [[0, 0, 1, 1]]})


def test_zero_shot_image_classification_sends_base64_and_the_labels(server: LoopbackServer) -> None:
    server.reply(body=[{"label": "dog", "score": 0.97}, {"label": "cat", "score": 0.03}])
    message = call(
        ZeroShotImageClassificationTool(base_url=server.url), {"image": PNG, "candidate_labels": ["dog", "cat"]}
    )
    assert server.requests[0].json() == {"inputs": B64, "parameters": {"candidate_labels": ["dog", "cat"]}}
    assert message.content == "dog (0.9700); cat (0.0300)"
    with pytest.raises(ValidationError):
        call(ZeroShotImageClassificationTool(base_url=server.url), {"image": PNG, "candidate_labels": ["dog"]})


def test_image_segmentation_returns_masks_as_images_and_summarises_them(server: LoopbackServer, tmp_path: Path) -> None:
    mask = png(8, 6)
    server.reply(body=[{"label": "person", "score": 0.99, "mask": base64.b64encode(mask).decode()}])
    message = call(ImageSegmentationTool(base_url=server.url, output_dir=str(tmp_path)), {"image": PNG})
    assert server.requests[0].body == PNG
    (segment,) = message.artifact
    assert isinstance(segment["mask"], MediaBytes) and segment["mask"].mime_type == "image/png"
    assert bytes(segment["mask"]) == mask and segment["label"] == "person"
    assert message.content.startswith("1 segment(s): person (0.9900, 8x6 mask). Masks saved to ")
    assert [p.read_bytes() for p in tmp_path.iterdir()] == [mask]


def test_image_segmentation_reads_a_fal_queue_job_as_one_mask(router: LoopbackServer, cdn: LoopbackServer) -> None:
    model = "briaai/RMBG-2.0"
    router.reply(body=mapping(model, "fal-ai", "fal-ai/bria/background/remove", "image-segmentation"))
    queue = f"{router.url}/fal-ai/fal-ai/bria/requests/r1"
    router.reply(
        body={"request_id": "r1", "status": "IN_QUEUE", "status_url": f"{queue}/status", "response_url": queue}
    )
    router.reply(body={"status": "COMPLETED"})
    router.reply(body={"image": {"url": f"{cdn.url}/mask.png"}})
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    tool = ImageSegmentationTool(model=model, provider="fal-ai", api_key="hf_test", poll_interval=0)
    message = call(tool, {"image": PNG})
    assert router.requests[1].json()["sync_mode"] is True  # the request fal-ai's helper builds
    assert message.artifact[0]["label"] == "mask" and bytes(message.artifact[0]["mask"]) == PNG
    assert "authorization" not in {k.lower() for k in cdn.requests[0].headers}  # no token to the file host


# --------------------------------------------------------------------------------------------- standard suite


class TestImageToTextToolUnit(StandardToolUnit):
    tool_class = ImageToTextTool
    example = {"image": IMAGE}


class TestVisualQuestionAnsweringToolUnit(StandardToolUnit):
    tool_class = VisualQuestionAnsweringTool
    example = {"image": IMAGE, "question": "What animal is this?"}


class TestImageClassificationToolUnit(StandardToolUnit):
    tool_class = ImageClassificationTool
    example = {"image": IMAGE, "top_k": 3}


class TestObjectDetectionToolUnit(StandardToolUnit):
    tool_class = ObjectDetectionTool
    example = {"image": IMAGE, "threshold": 0.9}


class TestDocumentQuestionAnsweringToolUnit(StandardToolUnit):
    tool_class = DocumentQuestionAnsweringTool
    example = {"image": IMAGE, "question": "What is the total?"}


class TestZeroShotImageClassificationToolUnit(StandardToolUnit):
    tool_class = ZeroShotImageClassificationTool
    example = {"image": IMAGE, "candidate_labels": ["cat", "dog"]}


class TestImageSegmentationToolUnit(StandardToolUnit):
    tool_class = ImageSegmentationTool
    example = {"image": IMAGE, "threshold": 0.9}
