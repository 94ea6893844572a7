"""``tools/_jobs.py``: generated media in every provider style (bytes, base64 in JSON, URLs, jobs) and the progress
of a provider's job, read purely; then the same end to end over loopback HTTP: URLs fetched without the token,
jobs polled until they end, fail or time out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessTimeoutError,
)
from langchain_hfserverless.tools import (
    TextToImageTool,
    TextToSpeechTool,
)
from langchain_hfserverless.tools._jobs import AnswerError, Follow, Job, Ready, job_progress, read_media_answer
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.media_samples import B64, FLAC, PNG
from tests.unit.tool_harness import acall, call, header

# The shared fixtures this module uses.
_servers, cdn, server = tool_harness._servers, tool_harness.cdn, tool_harness.server


ROUTER = "https://router.huggingface.co"


def read(payload: object, request_url: str = f"{ROUTER}/x/y") -> object:
    return read_media_answer(json.dumps(payload).encode(), "application/json", request_url=request_url)


# ---------------------------------------------------------------------------------------------- media answers


def test_raw_bytes_are_the_media() -> None:
    assert read_media_answer(PNG, "image/png", request_url=ROUTER) == Ready(PNG, "image/png")
    # Bytes are recognised even when labelled generically.
    assert read_media_answer(PNG, "application/octet-stream", request_url=ROUTER).data == PNG  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "payload",
    [
        {"data": [{"b64_json": B64}]},  # together, nebius, nscale, OpenAI images
        {"images": [{"image": B64, "index": 0}]},  # hyperbolic
        {"images": [{"url": f"data:image/png;base64,{B64}"}]},  # fal-ai sync_mode
        {"image": B64},
        {"b64_json": B64},
        [{"b64_json": B64}],
    ],
)
def test_base64_in_json_is_decoded(payload: object) -> None:
    outcome = read(payload)
    assert isinstance(outcome, Ready)
    assert outcome.data == PNG


@pytest.mark.parametrize(
    ("payload", "url"),
    [
        (
            {"images": [{"url": "https://v3.fal.media/a.png", "content_type": "image/png"}]},
            "https://v3.fal.media/a.png",
        ),
        ({"data": [{"url": "https://cdn.example/b.png"}]}, "https://cdn.example/b.png"),
        ({"output": ["https://replicate.delivery/c.png"], "status": "processing"}, "https://replicate.delivery/c.png"),
        ({"output": "https://replicate.delivery/d.wav", "status": "succeeded"}, "https://replicate.delivery/d.wav"),
        ({"audio": {"url": "https://v3.fal.media/e.wav"}}, "https://v3.fal.media/e.wav"),
        ({"image_result": [{"url": "https://cdn.z.ai/f.png"}], "task_status": "SUCCESS"}, "https://cdn.z.ai/f.png"),
        ({"status": "Ready", "result": {"sample": "https://delivery.bfl.ai/g.jpeg"}}, "https://delivery.bfl.ai/g.jpeg"),
        (
            {"data": {"status": "completed", "outputs": ["https://cdn.wavespeed.ai/h.png"]}},
            "https://cdn.wavespeed.ai/h.png",
        ),
    ],
)
def test_urls_are_followed(payload: object, url: str) -> None:
    assert read(payload) == Follow(url)


def test_black_forest_labs_polling_url_is_a_job() -> None:
    outcome = read({"id": "j1", "polling_url": "https://api.us1.bfl.ai/v1/get_result?id=j1"})
    assert outcome == Job("https://api.us1.bfl.ai/v1/get_result?id=j1")


def test_replicate_job_is_polled_through_the_router_when_the_request_went_through_it() -> None:
    answer = {
        "id": "p1",
        "status": "starting",
        "output": None,
        "urls": {"get": "https://api.replicate.com/v1/predictions/p1"},
    }
    assert read(answer, f"{ROUTER}/replicate/v1/predictions") == Job(f"{ROUTER}/replicate/v1/predictions/p1")
    # Called directly (a replicate key, no router): the URL stays as the provider gave it.
    direct = read(answer, "https://api.replicate.com/v1/predictions")
    assert direct == Job("https://api.replicate.com/v1/predictions/p1")


def test_fal_queue_job_goes_through_the_router_prefix_with_the_request_query() -> None:
    answer = {
        "status": "IN_QUEUE",
        "request_id": "r1",
        "response_url": "https://queue.fal.run/fal-ai/flux-kontext/requests/r1",
        "status_url": "https://queue.fal.run/fal-ai/flux-kontext/requests/r1/status",
    }
    job = read(answer, f"{ROUTER}/fal-ai/fal-ai/flux-kontext/dev?_subdomain=queue")
    assert job == Job(
        f"{ROUTER}/fal-ai/fal-ai/flux-kontext/requests/r1/status?_subdomain=queue",
        f"{ROUTER}/fal-ai/fal-ai/flux-kontext/requests/r1?_subdomain=queue",
    )
    direct = read(answer, "https://queue.fal.run/fal-ai/flux-kontext/dev")
    assert direct == Job(answer["status_url"], answer["response_url"])


def test_wavespeed_and_zai_jobs() -> None:
    wavespeed = {
        "code": 200,
        "data": {
            "id": "w1",
            "status": "created",
            "outputs": [],
            "urls": {"get": "https://api.wavespeed.ai/api/v3/predictions/w1/result"},
        },
    }
    assert read(wavespeed, f"{ROUTER}/wavespeed/api/v3/m") == Job(f"{ROUTER}/wavespeed/api/v3/predictions/w1/result")
    zai = {"id": "z1", "task_status": "PROCESSING", "model": "cogview-4"}
    assert read(zai, f"{ROUTER}/zai-org/api/paas/v4/async/images/generations") == Job(
        f"{ROUTER}/zai-org/api/paas/v4/async-result/z1"
    )


@pytest.mark.parametrize(
    ("content", "ctype", "message"),
    [
        (b"<html>Bad gateway</html>", "text/html", "neither media nor JSON"),
        (json.dumps({"error": "Model too busy"}).encode(), "application/json", "Model too busy"),
        (json.dumps({"seed": 3, "timings": {}}).encode(), "application/json", r"keys: \['seed', 'timings'\]"),
        (json.dumps(42).encode(), "application/json", "expected a JSON object"),
    ],
)
def test_unreadable_answers_say_why(content: bytes, ctype: str, message: str) -> None:
    with pytest.raises(AnswerError, match=message):
        read_media_answer(content, ctype, request_url=ROUTER)


# ----------------------------------------------------------------------------------------------- job progress


@pytest.mark.parametrize(
    "status",
    [
        {"status": "Pending", "result": None},
        {"status": "starting"},
        {"status": "IN_PROGRESS"},
        {"data": {"status": "processing"}},
        {"task_status": "PROCESSING"},
        {"status": "Task not found"},
    ],
)
def test_running_jobs_keep_polling(status: dict) -> None:
    assert job_progress(Job("u"), status, request_url=ROUTER) is None


def test_finished_jobs_lead_to_the_media_or_the_result_url() -> None:
    done = {"status": "Ready", "result": {"sample": "https://delivery.bfl.ai/x.jpeg"}}
    assert job_progress(Job("u"), done, request_url=ROUTER) == Follow("https://delivery.bfl.ai/x.jpeg")
    assert job_progress(Job("s", "r"), {"status": "COMPLETED"}, request_url=ROUTER) == Follow("r")
    replicate = {"status": "succeeded", "output": ["https://replicate.delivery/o.png"]}
    assert job_progress(Job("u"), replicate, request_url=ROUTER) == Follow("https://replicate.delivery/o.png")


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ({"status": "failed", "error": "CUDA out of memory"}, "status 'failed': CUDA out of memory"),
        ({"status": "Content Moderated", "details": {"reason": "nsfw"}}, "content_moderated"),
        ({"data": {"status": "failed", "error": "bad prompt"}}, "bad prompt"),
        ({"status": "succeeded", "output": None}, "finished without media"),
        ("nonsense", "unreadable job status"),
    ],
)
def test_failed_jobs_raise_with_the_providers_reason(status: object, message: str) -> None:
    with pytest.raises(AnswerError, match=message):
        job_progress(Job("u"), status, request_url=ROUTER)


# -------------------------------------------------------------------------------------------------- over HTTP


def test_image_url_answer_is_fetched_without_the_token(server: LoopbackServer, cdn: LoopbackServer) -> None:
    server.reply(body={"images": [{"url": f"{cdn.url}/files/out.png", "content_type": "image/jpeg"}]})
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    message = acall(TextToImageTool(base_url=server.url, api_key="hf_secret"), {"prompt": "p"})
    assert bytes(message.artifact) == PNG
    assert message.artifact.source_url == f"{cdn.url}/files/out.png"
    assert header(cdn.requests[0], "Authorization") is None
    assert header(server.requests[0], "Authorization") == "Bearer hf_secret"


def test_polled_job_black_forest_labs_style(server: LoopbackServer, cdn: LoopbackServer) -> None:
    server.reply(body={"id": "j", "polling_url": f"{server.url}/v1/get_result?id=j"})
    server.reply(body={"id": "j", "status": "Pending", "result": None, "progress": 0.5})
    server.reply(body={"id": "j", "status": "Ready", "result": {"sample": f"{cdn.url}/sample.png"}})
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    tool = TextToImageTool(base_url=f"{server.url}/v1/flux-dev", poll_interval=0)
    assert bytes(call(tool, {"prompt": "p"}).artifact) == PNG
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", "/v1/flux-dev"),
        ("GET", "/v1/get_result?id=j"),
        ("GET", "/v1/get_result?id=j"),
    ]


def test_polled_job_replicate_style_for_speech(server: LoopbackServer, cdn: LoopbackServer, tmp_path: Path) -> None:
    server.reply(
        status=201,
        body={"id": "p", "status": "starting", "output": None, "urls": {"get": f"{server.url}/v1/predictions/p"}},
    )
    server.reply(body={"id": "p", "status": "succeeded", "output": f"{cdn.url}/out.flac"})
    cdn.reply(body=FLAC, headers={"content-type": "audio/flac"})
    tool = TextToSpeechTool(base_url=server.url, poll_interval=0, output_dir=str(tmp_path / "audio"))
    message = acall(tool, {"text": "Hello"})
    assert message.artifact.mime_type == "audio/flac"
    assert isinstance(message.content, str)  # no audio block: tool messages carry text and images only
    assert message.content.startswith("Generated speech (0.5 s FLAC audio")
    saved = next((tmp_path / "audio").iterdir())
    assert saved.read_bytes() == FLAC and str(saved) in message.content


def test_a_failed_job_raises_with_the_providers_reason(server: LoopbackServer) -> None:
    server.reply(body={"id": "p", "status": "starting", "urls": {"get": f"{server.url}/p"}})
    server.reply(body={"id": "p", "status": "failed", "error": "NSFW content detected"})
    with pytest.raises(HFServerlessAPIError, match="status 'failed': NSFW content detected"):
        call(TextToImageTool(base_url=server.url, poll_interval=0), {"prompt": "p"})


def test_a_job_that_never_ends_stops_after_max_polls(server: LoopbackServer) -> None:
    server.reply(body={"id": "j", "polling_url": f"{server.url}/poll"})
    for _ in range(3):
        server.reply(body={"status": "Pending"})
    with pytest.raises(HFServerlessTimeoutError, match="still running after 3 polls"):
        call(TextToImageTool(base_url=server.url, poll_interval=0, max_polls=3), {"prompt": "p"})
    assert len(server.requests) == 4


def test_an_answer_without_media_names_its_keys(server: LoopbackServer) -> None:
    server.reply(body={"seed": 1, "nsfw": True})
    with pytest.raises(HFServerlessAPIError, match=r"Unreadable text-to-image answer .*keys: \['nsfw', 'seed'\]"):
        call(TextToImageTool(base_url=server.url), {"prompt": "p"})
