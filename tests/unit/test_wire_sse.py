"""SSE decoding for every stream dialect of WIRE-FORMAT.md, on hand-made lines and on real recorded bodies.

Also home of the small reader of ``../shared/hf-recordings`` that the other wire tests import: recordings are read
in place (never copied into the repo) and tests skip cleanly when the shared folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from langchain_hfserverless._wire.sse import DONE, SSEDecodeError, SSEDecoder, is_error_event

RECORDINGS = Path(__file__).resolve().parents[2].parent / "shared" / "hf-recordings"
HUB_CASSETTES = "huggingface_hub/tests/cassettes"
TGI_SNAPSHOTS = "text-generation-inference/integration-tests/models/__snapshots__"


class _TolerantLoader(yaml.SafeLoader):
    """Reads vcrpy cassettes, ignoring ``!!python/...`` request bodies we never look at."""


_TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def recording(relative: str) -> Path:
    """Path of a file under ``../shared/hf-recordings``; skips the test when the folder is not there."""
    path = RECORDINGS / relative
    if not path.exists():
        pytest.skip(f"recording {relative} not available (../shared/hf-recordings absent)")
    return path


def recorded_posts(relative: str) -> list[tuple[int, dict[str, str], str]]:
    """``(status, headers, body)`` of every POST answer in a recorded cassette; header names lower-cased."""
    data = yaml.load(recording(relative).read_text(encoding="utf-8"), Loader=_TolerantLoader)
    answers = []
    for interaction in data["interactions"]:
        if interaction["request"]["method"] != "POST":
            continue
        response = interaction["response"]
        body = response["body"].get("string") or ""
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        headers = {k.lower(): (v[0] if isinstance(v, list) else v) for k, v in response["headers"].items()}
        answers.append((response["status"]["code"], headers, body))
    return answers


def recorded_post(relative: str, index: int = 0) -> tuple[int, dict[str, str], str]:
    return recorded_posts(relative)[index]


def tgi_snapshot(relative: str) -> Any:
    return json.loads(recording(f"{TGI_SNAPSHOTS}/{relative}").read_text(encoding="utf-8"))


def lines_of(body: str | bytes) -> list[str]:
    """The lines a transport feeds the decoder, split exactly as httpx2 splits a response body."""
    raw = body.encode() if isinstance(body, str) else body
    return list(httpx2.Response(200, content=raw).iter_lines())


def decode_all(lines: list[str]) -> list[Any]:
    """Every payload of a stream, as the transport reads it: feed each line, stop at ``[DONE]``, then close."""
    decoder = SSEDecoder()
    payloads = []
    for line in lines:
        payload = decoder.feed(line)
        if payload is DONE:
            return payloads
        if payload is not None:
            payloads.append(payload)
    payload = decoder.close()
    if payload is not None and payload is not DONE:
        payloads.append(payload)
    return payloads


# ---------------------------------------- prefixes


@pytest.mark.parametrize("prefix", ["data: ", "data:"])
def test_both_data_prefixes_parse(prefix: str) -> None:
    body = f'{prefix}{{"a": 1}}\n\n{prefix}{{"b": [2]}}\n\n{prefix}[DONE]\n\n'
    assert decode_all(lines_of(body)) == [{"a": 1}, {"b": [2]}]


def test_done_stops_even_if_more_follows() -> None:
    body = 'data: {"a": 1}\n\ndata: [DONE]\n\ndata: {"late": true}\n\n'
    assert decode_all(lines_of(body)) == [{"a": 1}]


def test_done_without_space_and_with_crlf() -> None:
    body = b'data:{"a": 1}\r\n\r\ndata:[DONE]\r\n\r\n'
    assert decode_all(lines_of(body)) == [{"a": 1}]


def test_feed_returns_done_sentinel() -> None:
    decoder = SSEDecoder()
    assert decoder.feed("data: [DONE]") is DONE


def test_plain_end_without_done_yields_everything() -> None:
    body = 'data: {"a": 1}\n\ndata: {"a": 2}\n\n'
    assert decode_all(lines_of(body)) == [{"a": 1}, {"a": 2}]


def test_last_event_without_trailing_blank_line_is_not_lost() -> None:
    assert decode_all(['data: {"a": 1}', "", 'data: {"a": 2}']) == [{"a": 1}, {"a": 2}]


def test_value_keeps_only_one_leading_space() -> None:
    # SSE strips exactly one space after the colon; JSON tolerates the rest.
    assert decode_all(['data:    {"a": 1}', ""]) == [{"a": 1}]


# ---------------------------------------- fields


def test_comments_event_id_retry_lines_are_ignored() -> None:
    body = (
        ": keep-alive\n\n"
        ": OPENROUTER PROCESSING\n\n"
        "retry: 3000\n"
        "id: 7\n"
        "event: message\n"
        'data: {"a": 1}\n\n'
        "event: ping\n\n"
        'data: {"a": 2}\n\n'
    )
    assert decode_all(lines_of(body)) == [{"a": 1}, {"a": 2}]


def test_empty_data_line_is_skipped() -> None:
    assert decode_all(["data:", "", "data: ", "", 'data: {"a": 1}', ""]) == [{"a": 1}]


def test_multi_line_data_is_joined() -> None:
    lines = ["data: {", 'data:   "a": 1,', 'data:   "b": "x"', "data: }", ""]
    assert decode_all(lines) == [{"a": 1, "b": "x"}]


def test_multi_line_data_without_blank_line_at_end_of_stream() -> None:
    assert decode_all(['data: {"a":', "data: 1}"]) == [{"a": 1}]


def test_done_split_over_two_lines_is_not_taken_for_done() -> None:
    decoder = SSEDecoder()
    assert decoder.feed("data: [DONE") is None
    # a broken "[DONE" split over two lines is not JSON: it must not pass silently as a payload
    assert decoder.feed("data: ]") is None
    with pytest.raises(SSEDecodeError):
        decoder.feed("")


def test_event_error_wraps_payload_without_error_key() -> None:
    lines = ["event: error", 'data: {"message": "overloaded", "code": 503}', ""]
    [payload] = decode_all(lines)
    assert payload == {"error": {"message": "overloaded", "code": 503}}
    assert is_error_event(payload)


def test_event_name_does_not_leak_to_next_event() -> None:
    lines = ["event: error", 'data: {"error": "x"}', "", 'data: {"message": "fine"}', ""]
    assert decode_all(lines) == [{"error": "x"}, {"message": "fine"}]


def test_event_name_without_data_is_forgotten_at_blank_line() -> None:
    lines = ["event: error", "", 'data: {"message": "fine"}', ""]
    assert decode_all(lines) == [{"message": "fine"}]


# ---------------------------------------- broken streams


def test_truncated_last_event_is_an_error() -> None:
    lines = ['data: {"a": 1}', "", 'data: {"id": "x", "choices": [{"delta": {"content": "hel']
    with pytest.raises(SSEDecodeError, match="truncated"):
        decode_all(lines)


def test_truncated_event_followed_by_blank_line_is_an_error() -> None:
    with pytest.raises(SSEDecodeError):
        decode_all(['data: {"a": ', ""])


def test_close_on_clean_stream_returns_none() -> None:
    decoder = SSEDecoder()
    assert decoder.feed('data: {"a": 1}') == {"a": 1}
    assert decoder.feed("") is None
    assert decoder.close() is None


def test_unknown_plain_text_lines_are_ignored() -> None:
    assert decode_all(["HTTP/1.1 keepalive", 'data: {"a": 1}', ""]) == [{"a": 1}]


# ---------------------------------------- NDJSON


def test_ndjson_bare_lines() -> None:
    body = '{"a": 1}\n{"a": 2}\n{"a": 3}\n'
    assert decode_all(lines_of(body)) == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_ndjson_with_leading_whitespace() -> None:
    assert decode_all(['  {"a": 1}']) == [{"a": 1}]


def test_ndjson_truncated_line_is_an_error() -> None:
    with pytest.raises(SSEDecodeError, match="Unreadable"):
        decode_all(['{"a": 1}', '{"a": '])


# ---------------------------------------- error events


def test_in_stream_validation_error_event() -> None:
    error = "Input validation error: `temperature` must be strictly positive"
    body = f'data: {{"error": "{error}", "error_type": "validation"}}\n\n'
    [payload] = decode_all(lines_of(body))
    assert payload["error_type"] == "validation"
    assert is_error_event(payload)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"error": "boom"}, True),
        ({"error": {"message": "m", "type": "t"}}, True),
        ({"error": ["a", "b"]}, True),
        ({"error": None, "choices": []}, False),
        ({"error": None}, False),
        ({"choices": [{"delta": {"content": "x"}}]}, False),
        ({"error": "x", "choices": [{"delta": {}}]}, False),
        ([{"error": "x"}], False),
        ("error", False),
    ],
)
def test_is_error_event(payload: Any, expected: bool) -> None:
    assert is_error_event(payload) is expected


# ---------------------------------------- real bodies

STREAM_CASSETTES = [
    f"{HUB_CASSETTES}/TestInferenceClient.test_chat_completion_with_stream[{p},conversational].yaml"
    for p in (
        "centml",
        "cerebras",
        "cohere",
        "fireworks-ai",
        "hf-inference",
        "hyperbolic",
        "nebius",
        "novita",
        "sambanova",
        "together",
    )
] + [
    f"{HUB_CASSETTES}/InferenceClientVCRTest.test_chat_completion_with_stream.yaml",
    f"{HUB_CASSETTES}/test_async_chat_completion_with_stream.yaml",
    "chatlas/tests/_vcr/test_provider_huggingface/test_huggingface_simple_streaming_request.yaml",
    "chatlas/tests/_vcr/test_provider_huggingface/test_huggingface_tools.yaml",
]


@pytest.mark.parametrize("cassette", STREAM_CASSETTES, ids=lambda c: Path(c).stem)
def test_real_stream_bodies_decode_to_every_chunk(cassette: str) -> None:
    status, headers, body = recorded_post(cassette)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = [line for line in body.split("\n") if line.startswith("data:") and "[DONE]" not in line]
    payloads = decode_all(lines_of(body))
    assert len(payloads) == len(events) > 0
    assert all(p.get("object") in ("chat.completion.chunk", "text_completion") for p in payloads)
    assert not any(is_error_event(p) for p in payloads)


def test_real_legacy_tgi_body_uses_no_space_prefix_and_no_done() -> None:
    _, _, body = recorded_post(f"{HUB_CASSETTES}/InferenceClientVCRTest.test_chat_completion_with_stream.yaml")
    assert body.startswith("data:{") and "[DONE]" not in body
    payloads = decode_all(lines_of(body))
    assert payloads[-1]["choices"][0]["finish_reason"] == "length"
    assert "".join(p["choices"][0]["delta"].get("content", "") for p in payloads).startswith("Deep learning is")


def test_real_text_generation_stream_body() -> None:
    _, _, body = recorded_post(f"{HUB_CASSETTES}/test_async_generate_stream_with_details.yaml")
    [payload] = decode_all(lines_of(body))
    assert payload["token"]["text"] == "."
    assert payload["details"]["finish_reason"] == "length"
