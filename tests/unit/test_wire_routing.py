"""Routing rules as pure string work: Hugging Face hosts, ``model:provider`` suffixes, chat URLs."""

from __future__ import annotations

import pytest

from langchain_hfserverless._wire.routing import ROUTING_SUFFIXES, chat_completions_url, is_hf_url, split_model


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://router.huggingface.co/v1", True),
        ("https://huggingface.co/api", True),
        ("https://abc.endpoints.huggingface.cloud", True),
        ("https://hf.co/x", True),
        ("HTTPS://Router.HuggingFace.co/v1", True),
        ("http://127.0.0.1:8080", False),
        ("https://api.together.xyz", False),
        ("https://huggingface.co.evil.example", False),
        ("https://evilhuggingface.co", False),
    ],
)
def test_is_hf_url(url: str, expected: bool) -> None:
    assert is_hf_url(url) is expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("org/model:provider", ("org/model", "provider")),
        ("org/model", ("org/model", None)),
        ("model:fastest", ("model", "fastest")),
        (":x", (":x", None)),
        ("org/model:", ("org/model:", None)),
    ],
)
def test_split_model(model: str, expected: tuple[str, str | None]) -> None:
    assert split_model(model) == expected


@pytest.mark.parametrize(
    "base_url",
    [
        "https://host/proxy",
        "https://host/proxy/",
        "https://host/proxy/v1",
        "https://host/proxy/v1/",
        "https://host/proxy/v1/chat/completions",
        "https://host/proxy/v1/chat/completions/",
    ],
)
def test_chat_completions_url_keeps_a_path_prefix(base_url: str) -> None:
    assert chat_completions_url(base_url) == "https://host/proxy/v1/chat/completions"


def test_routing_suffixes_are_the_routers_policies() -> None:
    assert set(ROUTING_SUFFIXES) == {"fastest", "cheapest", "preferred"}
    assert split_model("org/model:cheapest")[1] in ROUTING_SUFFIXES
