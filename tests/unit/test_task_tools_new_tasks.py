"""The ten task tools added after the first fifteen, end to end over loopback HTTP: what is sent, what comes back.

fill-mask, table / document question answering, zero-shot image classification, image segmentation, audio
classification, audio-to-audio, tabular classification / regression, and text / image-to-video through the
providers' job styles (together, novita, fal-ai queue, replicate).
"""

from __future__ import annotations

import asyncio
import base64
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import ToolException
from pydantic import ValidationError

from langchain_hfserverless import HFServerlessToolkit, create_task_tool
from langchain_hfserverless.errors import HFServerlessAPIError, HFServerlessTimeoutError
from langchain_hfserverless.tools import (
    DEFAULT_MODELS,
    TASK_TOOLS,
    AudioClassificationTool,
    AudioToAudioTool,
    DocumentQuestionAnsweringTool,
    FillMaskTool,
    ImageSegmentationTool,
    ImageToVideoTool,
    MediaBytes,
    TableQuestionAnsweringTool,
    TabularClassificationTool,
    TabularRegressionTool,
    TextToVideoTool,
    ZeroShotImageClassificationTool,
)
from langchain_hfserverless.tools._media import sniff_video, summarise_media, video_seconds
from tests.loopback import LoopbackServer, serve


def png(width: int = 4, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x40\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(seconds: float = 4.2, brand: bytes = b"isom", version: int = 0) -> bytes:
    """A minimal ISO-BMFF file: ftyp, an mdat before the moov (as most encoders write it), mvhd in moov."""
    if version == 0:
        mvhd = bytes([0, 0, 0, 0]) + struct.pack(">IIII", 0, 0, 1000, int(seconds * 1000)) + b"\x00" * 80
    else:
        mvhd = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, 1000, int(seconds * 1000)) + b"\x00" * 80
    return (
        box(b"ftyp", brand + b"\x00\x00\x02\x00isomiso2")
        + box(b"mdat", b"\x00" * 64)
        + box(b"moov", box(b"mvhd", mvhd))
    )


PNG = png()
B64 = base64.b64encode(PNG).decode()
FLAC = (
    b"fLaC\x80\x00\x00\x22"
    + b"\x10\x00\x10\x00"
    + b"\x00" * 6
    + ((8000 << 44) | 4000).to_bytes(8, "big")
    + b"\x00" * 16
)
MP4 = mp4()
WEBM = b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webm" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _no_agent_registry_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub >= 2.4 fetches an agent registry from ENDPOINT once per process: not from our servers."""
    try:
        from huggingface_hub.utils import _detect_agent
    except ImportError:
        return
    monkeypatch.setattr(_detect_agent, "_registry", {"standardEnvVars": [], "harnesses": {}})


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    for main in serve():
        for other in serve():
            yield main, other


def _fresh(server: LoopbackServer) -> LoopbackServer:
    server.requests.clear()
    server.queue.clear()
    server.default = None
    return server


@pytest.fixture
def server(_servers: tuple[LoopbackServer, LoopbackServer]) -> LoopbackServer:
    return _fresh(_servers[0])


@pytest.fixture
def cdn(_servers: tuple[LoopbackServer, LoopbackServer]) -> LoopbackServer:
    """A provider's file host."""
    return _fresh(_servers[1])


@pytest.fixture
def router(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """The loopback server stands in for both the Hub API and router.huggingface.co."""
    from huggingface_hub import constants
    from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping

    monkeypatch.setattr(constants, "INFERENCE_PROXY_TEMPLATE", server.url + "/{provider}")
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    _fetch_inference_provider_mapping.cache_clear()
    yield server
    _fetch_inference_provider_mapping.cache_clear()


def call(tool: Any, args: dict[str, Any], use_async: bool = False) -> ToolMessage:
    request = {"type": "tool_call", "id": "1", "name": tool.name, "args": args}
    message = asyncio.run(tool.ainvoke(request)) if use_async else tool.invoke(request)
    assert isinstance(message, ToolMessage)
    return message


def mapping(model: str, provider: str, provider_id: str, task: str) -> dict[str, Any]:
    return {
        "id": model,
        "inferenceProviderMapping": {provider: {"status": "live", "providerId": provider_id, "task": task}},
    }


# ---------------------------------------------------------------------------------------------- registry


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


# ---------------------------------------------------------------------------------------------- text and tables


def test_fill_mask_sends_the_text_and_set_parameters_only(server: LoopbackServer) -> None:
    server.reply(
        body=[{"sequence": "paris is the capital of france.", "score": 0.9, "token": 1, "token_str": "capital"}]
    )
    server.reply(body=[{"sequence": "x", "score": 0.1, "token": 2, "token_str": "x"}])
    tool = FillMaskTool(base_url=server.url)
    message = call(tool, {"text": "Paris is the [MASK] of France."})
    assert server.requests[0].json() == {"inputs": "Paris is the [MASK] of France."}
    assert "0.9000  paris is the capital of france." in message.content
    assert message.artifact[0]["token_str"] == "capital"
    call(tool, {"text": "Paris is the [MASK] of France.", "top_k": 2, "targets": ["capital"]}, use_async=True)
    assert server.requests[1].json()["parameters"] == {"top_k": 2, "targets": ["capital"]}


def test_fill_mask_rewrites_masks_to_the_models_token_and_refuses_a_text_without_one(server: LoopbackServer) -> None:
    server.reply(body=[{"sequence": "a b", "score": 0.5}])
    call(FillMaskTool(base_url=server.url, mask_token="<mask>"), {"text": "a [MASK]"})
    assert server.requests[0].json() == {"inputs": "a <mask>"}
    with pytest.raises(ToolException, match=r"write the missing word as \[MASK\]"):
        call(FillMaskTool(base_url=server.url), {"text": "no blank here"})
    assert len(server.requests) == 1


def test_table_question_answering_takes_rows_and_sends_columns_of_text(server: LoopbackServer) -> None:
    answer = {
        "answer": "SUM > 4512, 3934",
        "coordinates": [[1, 1], [2, 1]],
        "cells": ["4512", "3934"],
        "aggregator": "SUM",
    }
    server.reply(body=answer)
    rows = [
        {"Repo": "Transformers", "Stars": 36542},
        {"Repo": "Datasets", "Stars": 4512},
        {"Repo": "Tok", "Stars": 3934},
    ]
    message = call(TableQuestionAnsweringTool(base_url=server.url), {"table": rows, "query": "Total stars?"})
    assert server.requests[0].json() == {
        "inputs": {
            "query": "Total stars?",
            "table": {"Repo": ["Transformers", "Datasets", "Tok"], "Stars": ["36542", "4512", "3934"]},
        }
    }
    assert message.artifact == answer
    assert message.content == "Answer: SUM > 4512, 3934. Cells used: 4512, 3934. Aggregation: SUM"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"a": [1, 2], "b": [1]}, "column 'b' has 1 value"),
        ([{"a": 1, "b": 2}, {"a": 3}], r"row 2 does not have the columns of row 1 \(missing \['b'\]\)"),
        ([{"a": 1}, {"a": 2, "c": 3}], r"unexpected \['c'\]"),
        ({"a": "not a list"}, "Column 'a' is not a list"),
        ([], "no rows"),
    ],
)
def test_ragged_tables_are_refused_with_what_is_wrong(server: LoopbackServer, table: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        call(TableQuestionAnsweringTool(base_url=server.url), {"table": table, "query": "q"})
    with pytest.raises(ValidationError, match=message):
        call(TabularClassificationTool(base_url=server.url), {"table": table})
    assert server.requests == []


def test_tabular_tools_send_the_table_beside_inputs_and_answer_one_prediction_per_row(server: LoopbackServer) -> None:
    server.reply(body=["5", "6"])
    rows = [{"acidity": "7.4", "alcohol": "9.4"}, {"acidity": "7.8", "alcohol": "9.8"}]
    message = call(TabularClassificationTool(base_url=server.url), {"table": rows})
    assert server.requests[0].json() == {
        "inputs": None,
        "table": {"acidity": ["7.4", "7.8"], "alcohol": ["9.4", "9.8"]},
    }
    assert message.artifact == ["5", "6"]
    assert message.content == "Predictions, one per row:\nrow 1: 5\nrow 2: 6"
    server.reply(body=[110.5])
    with pytest.raises(HFServerlessAPIError, match="got 1 predictions for 2 rows"):
        call(TabularRegressionTool(base_url=server.url), {"table": rows}, use_async=True)


# ---------------------------------------------------------------------------------------------- vision


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


# ---------------------------------------------------------------------------------------------- audio


def test_audio_classification_posts_the_raw_audio(server: LoopbackServer) -> None:
    server.reply(body=[{"label": "Speech", "score": 0.8}, {"label": "Music", "score": 0.1}])
    message = call(AudioClassificationTool(base_url=server.url), {"audio": FLAC})
    assert server.requests[0].body == FLAC
    assert message.content == "Speech (0.8000); Music (0.1000)"


def test_audio_to_audio_returns_every_clip_as_media(server: LoopbackServer, tmp_path: Path) -> None:
    blob = base64.b64encode(FLAC).decode()
    server.reply(
        body=[
            {"label": "label_0", "blob": blob, "content-type": "audio/flac"},
            {"label": "label_1", "blob": blob, "content-type": "audio/flac"},
        ]
    )
    message = call(AudioToAudioTool(base_url=server.url, output_dir=str(tmp_path)), {"audio": FLAC}, use_async=True)
    assert [bytes(clip) for clip in message.artifact] == [FLAC, FLAC]
    assert all(clip.mime_type == "audio/flac" for clip in message.artifact)
    assert message.content.startswith("Produced 2 audio clip(s):\nlabel_0: 0.5 s FLAC audio")
    server.reply(body=[{"label": "x", "blob": "not base64!"}])
    with pytest.raises(HFServerlessAPIError, match="is not base64"):
        call(AudioToAudioTool(base_url=server.url), {"audio": FLAC})


# ---------------------------------------------------------------------------------------------- video


def test_video_bytes_are_typed_and_summarised() -> None:
    assert sniff_video(MP4) == "video/mp4"
    assert sniff_video(mp4(brand=b"qt  ")) == "video/quicktime"
    assert sniff_video(WEBM) == "video/webm"
    assert sniff_video(PNG) is None and sniff_video(mp4(brand=b"M4A ")) is None
    assert video_seconds(MP4) == 4.2 and video_seconds(mp4(7.5, version=1)) == 7.5
    assert video_seconds(MP4[:40]) is None
    assert summarise_media(MediaBytes(MP4, "video/mp4")) == f"4.2 s MP4 video, {len(MP4)} B"
    assert summarise_media(MediaBytes(WEBM, "video/webm")) == f"WEBM video, {len(WEBM)} B"


@pytest.mark.parametrize("use_async", [False, True])
def test_text_to_video_polls_a_together_job_then_fetches_the_video(
    router: LoopbackServer, cdn: LoopbackServer, tmp_path: Path, use_async: bool
) -> None:
    model = "Wan-AI/Wan2.2-T2V-A14B"
    router.reply(body=mapping(model, "together", "Wan-AI/Wan2.2-T2V-A14B", "text-to-video"))
    router.reply(body={"id": "job-1", "status": "queued"})
    router.reply(body={"id": "job-1", "status": "in_progress"})
    router.reply(body={"id": "job-1", "status": "completed", "outputs": {"video_url": f"{cdn.url}/v.mp4"}})
    cdn.reply(body=MP4, headers={"content-type": "application/octet-stream"})
    tool = TextToVideoTool(provider="together", api_key="hf_test", poll_interval=0, output_dir=str(tmp_path))
    message = call(tool, {"prompt": "a fox in the snow", "seed": 3}, use_async)
    post = router.requests[1]
    assert post.path == "/together/v2/videos"
    assert post.json() == {"prompt": "a fox in the snow", "model": model, "seed": 3}
    assert [r.path for r in router.requests[2:]] == ["/together/v2/videos/job-1"] * 2
    assert isinstance(message.artifact, MediaBytes) and message.artifact.mime_type == "video/mp4"
    assert bytes(message.artifact) == MP4
    assert message.content.startswith("Generated the video (4.2 s MP4 video, ")
    saved = next(tmp_path.iterdir())
    assert saved.suffix == ".mp4" and str(saved) in message.content


def test_text_to_video_reads_novita_and_a_failed_together_job(router: LoopbackServer, cdn: LoopbackServer) -> None:
    model = "Wan-AI/Wan2.1-T2V-14B"
    router.reply(body=mapping(model, "novita", "wan-t2v", "text-to-video"))
    router.reply(body={"video": {"video_url": f"{cdn.url}/v.webm"}})
    cdn.reply(body=WEBM)
    message = call(TextToVideoTool(model=model, provider="novita", api_key="hf_test"), {"prompt": "waves"})
    assert router.requests[1].path == "/novita/v3/hf/wan-t2v"
    assert message.artifact.mime_type == "video/webm"

    from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping

    _fetch_inference_provider_mapping.cache_clear()
    router.reply(body=mapping(model, "together", model, "text-to-video"))
    router.reply(body={"id": "job-2", "status": "queued"})
    router.reply(body={"id": "job-2", "status": "failed", "error": {"message": "content policy"}})
    tool = TextToVideoTool(model=model, provider="together", api_key="hf_test", poll_interval=0)
    with pytest.raises(HFServerlessAPIError, match=r"'failed'.*content policy"):
        call(tool, {"prompt": "waves"})


def test_a_video_job_that_never_finishes_times_out_after_max_polls(router: LoopbackServer) -> None:
    model = "Wan-AI/Wan2.2-T2V-A14B"
    router.reply(body=mapping(model, "together", model, "text-to-video"))
    router.reply(body={"id": "job-3", "status": "queued"})
    router.default = None
    for _ in range(3):
        router.reply(body={"id": "job-3", "status": "in_progress"})
    tool = TextToVideoTool(provider="together", api_key="hf_test", poll_interval=0, max_polls=3)
    with pytest.raises(HFServerlessTimeoutError, match="still running after 3 polls"):
        call(tool, {"prompt": "waves"})
    assert len(router.requests) == 5


def test_image_to_video_sends_the_image_through_fal_and_follows_the_queue(
    router: LoopbackServer, cdn: LoopbackServer
) -> None:
    model = "Wan-AI/Wan2.2-I2V-A14B"
    router.reply(body=mapping(model, "fal-ai", "fal-ai/wan/v2.2-a14b/image-to-video", "image-to-video"))
    queue = f"{router.url}/fal-ai/fal-ai/wan/requests/r9"
    router.reply(
        body={"request_id": "r9", "status": "IN_QUEUE", "status_url": f"{queue}/status", "response_url": queue}
    )
    router.reply(body={"status": "IN_PROGRESS"})
    router.reply(body={"status": "COMPLETED"})
    router.reply(body={"video": {"url": f"{cdn.url}/out.mov"}})
    cdn.reply(body=mp4(2.0, brand=b"qt  "), headers={"content-type": "video/quicktime"})
    tool = ImageToVideoTool(provider="fal-ai", api_key="hf_test", poll_interval=0)
    message = call(tool, {"image": B64, "prompt": "the cat turns its head"}, use_async=True)
    body = router.requests[1].json()
    assert body == {"image_url": f"data:image/png;base64,{B64}", "prompt": "the cat turns its head"}
    assert [r.path.split("?")[0] for r in router.requests[2:]] == [
        "/fal-ai/fal-ai/wan/requests/r9/status",
        "/fal-ai/fal-ai/wan/requests/r9/status",
        "/fal-ai/fal-ai/wan/requests/r9",
    ]
    assert message.artifact.mime_type == "video/quicktime"
    assert message.content.startswith("Generated the video (2.0 s MOV video")


def test_a_video_answer_that_is_not_a_video_is_a_typed_error(router: LoopbackServer, cdn: LoopbackServer) -> None:
    model = "Wan-AI/Wan2.1-T2V-14B"
    router.reply(body=mapping(model, "novita", "wan-t2v", "text-to-video"))
    router.reply(body={"video": {"video_url": f"{cdn.url}/v.png"}})
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    with pytest.raises(HFServerlessAPIError, match="expected video bytes"):
        call(TextToVideoTool(model=model, provider="novita", api_key="hf_test"), {"prompt": "waves"})
