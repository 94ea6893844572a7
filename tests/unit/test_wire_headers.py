"""One case-insensitive header lookup for every holder of headers: httpx2 answers, cassettes, routes."""

from __future__ import annotations

import httpx2
import pytest

from langchain_hfserverless._wire.errors import error_from_response
from langchain_hfserverless._wire.headers import header
from langchain_hfserverless._wire.responses import response_metadata


@pytest.mark.parametrize(
    "headers",
    [
        {"x-inference-provider": "novita"},
        {"X-Inference-Provider": "novita"},
        {"X-INFERENCE-PROVIDER": "novita"},
        httpx2.Headers({"X-Inference-Provider": "novita"}),
    ],
    ids=["lower", "title", "upper", "httpx2"],
)
def test_any_case_any_holder(headers: dict[str, str] | httpx2.Headers) -> None:
    assert header(headers, "x-inference-provider") == "novita"
    assert header(headers, "X-Inference-Provider") == "novita"
    assert header(headers, "x-request-id") is None


def test_empty_headers_have_nothing() -> None:
    assert header({}, "authorization") is None


def test_any_text_in_a_plain_dict_reads_back_as_given() -> None:
    assert header({"X-Inference-Provider": "\x80é"}, "x-inference-provider") == "\x80é"


def test_answer_metadata_and_errors_read_headers_in_any_case() -> None:
    meta = response_metadata({}, {"X-INFERENCE-PROVIDER": "together", "X-Request-ID": "r-1"})
    assert meta["inference_provider"] == "together" and meta["request_id"] == "r-1"
    error = error_from_response(
        429, {"RETRY-AFTER": "7", "X-REQUEST-ID": "r-2"}, b'{"error": "slow down"}', model="m", provider="p"
    )
    assert error.retry_after == 7.0 and error.request_id == "r-2"
