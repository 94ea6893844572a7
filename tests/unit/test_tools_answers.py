"""Pure readers of task answers: generated media in every provider style, jobs, and the JSON tasks' answers."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import pytest

from langchain_hfserverless.tools._answers import (
    answers_answer,
    detection_answer,
    entities_answer,
    labels_answer,
    similarity_answer,
    text_answer,
)
from langchain_hfserverless.tools._jobs import AnswerError, Follow, Job, Ready, job_progress, read_media_answer

ROUTER = "https://router.huggingface.co"


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 14))
        + chunk(b"IEND", b"")
    )


PNG = png()
B64 = base64.b64encode(PNG).decode()


def read(payload: object, request_url: str = f"{ROUTER}/x/y") -> object:
    return read_media_answer(json.dumps(payload).encode(), "application/json", request_url=request_url)


# ------------------------------------------------------------------------------------------- media answers


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


# ------------------------------------------------------------------------------------------- job progress


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


# ------------------------------------------------------------------------------------------- JSON task answers


def test_labels_from_batches_lists_and_legacy_zero_shot() -> None:
    nested = [[{"label": "POSITIVE", "score": 0.99987}, {"label": "NEGATIVE", "score": 0.00013}]]
    text, items = labels_answer(nested)
    assert text == "POSITIVE (0.9999); NEGATIVE (0.0001)"
    assert items == nested[0]
    legacy = {"sequence": "s", "labels": ["a", "b"], "scores": [0.7, 0.3]}
    assert labels_answer(legacy)[1] == [{"label": "a", "score": 0.7}, {"label": "b", "score": 0.3}]
    many = [{"label": str(i), "score": 0.1} for i in range(8)]
    assert labels_answer(many)[0].endswith("(+3 more)")
    assert labels_answer([]) == ("The model returned no labels.", [])
    with pytest.raises(AnswerError, match="labels and scores"):
        labels_answer({"labels": ["a"], "scores": []})
    with pytest.raises(AnswerError, match="'label'"):
        labels_answer([{"answer": "x"}])


def test_detections_entities_and_answers() -> None:
    boxes = [{"score": 0.9, "label": "cat", "box": {"xmin": 1, "ymin": 2, "xmax": 3, "ymax": 4}}]
    assert detection_answer(boxes) == ("1 object(s): cat (0.9000) at [1, 2, 3, 4]", boxes)
    assert detection_answer([])[0] == "No objects detected."
    entities = [
        {"entity_group": "PER", "word": " Ada", "score": 0.99},
        {"entity": "B-LOC", "word": "Paris", "score": 0.5},
    ]
    assert entities_answer(entities)[0] == "PER: Ada (0.9900); B-LOC: Paris (0.5000)"
    assert answers_answer({"answer": "42", "score": 0.5, "start": 0, "end": 2}) == (
        "42 (score 0.5000)",
        [{"answer": "42", "score": 0.5, "start": 0, "end": 2}],
    )
    text, _ = answers_answer([{"answer": "woman", "score": 0.9}, {"answer": "girl", "score": 0.3}])
    assert text == "woman (score 0.9000). Other candidates: girl (0.3000)"


def test_generated_text_and_similarity() -> None:
    assert text_answer([{"translation_text": " Hallo Welt "}], "translation_text") == (
        "Hallo Welt",
        {"translation_text": " Hallo Welt "},
    )
    assert text_answer({"summary_text": "s"}, "summary_text")[0] == "s"
    with pytest.raises(AnswerError, match="expected a 'generated_text' string, got keys"):
        text_answer([{"text": "x"}], "generated_text")
    with pytest.raises(AnswerError, match="no 'text' answers"):
        text_answer([], "text")
    text, scores = similarity_answer([0.5, 0.25], ["a", "b"])
    assert scores == [0.5, 0.25]
    assert text.splitlines()[1:] == ["0.5000  a", "0.2500  b"]
    with pytest.raises(AnswerError, match="got 1 scores for 2 sentences"):
        similarity_answer([0.5], ["a", "b"])
    with pytest.raises(AnswerError, match="expected a list of scores"):
        similarity_answer({"x": 1}, ["a"])
