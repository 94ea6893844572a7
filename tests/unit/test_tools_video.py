"""``tools/video.py``: text-to-video and image-to-video through the providers' job styles (together, novita, fal-ai
queue) end to end over loopback HTTP, then langchain-tests' standard unit suite for each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessTimeoutError,
)
from langchain_hfserverless.tools import (
    ImageToVideoTool,
    MediaBytes,
    TextToVideoTool,
)
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.media_samples import B64, MP4, PNG, WEBM, mp4
from tests.unit.tool_harness import IMAGE, StandardToolUnit, call, mapping

# The shared fixtures this module uses.
_servers, cdn, router, server = tool_harness._servers, tool_harness.cdn, tool_harness.router, tool_harness.server


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


# --------------------------------------------------------------------------------------------- standard suite


class TestTextToVideoToolUnit(StandardToolUnit):
    tool_class = TextToVideoTool
    example = {"prompt": "A red fox running through snow"}


class TestImageToVideoToolUnit(StandardToolUnit):
    tool_class = ImageToVideoTool
    example = {"image": IMAGE, "prompt": "the cat turns its head"}
