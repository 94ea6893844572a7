"""Shared fixtures: a loopback server, and VCR settings that keep tokens out of cassettes and read them with the
suite's one cassette reader (``tests/cassettes.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cassettes import CASSETTES, ROOT, VCRSerializer
from tests.loopback import LoopbackServer, serve

__all__ = ["CASSETTES", "ROOT", "SHARED"]

SHARED = ROOT.parent / "shared"

SECRET_HEADERS = ["authorization", "x-api-key", "api-key", "cookie", "set-cookie"]


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """VCR reads cassettes with the same function as the replay of real recordings."""
    vcr.register_serializer("yaml", VCRSerializer())


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A fresh scripted HTTP server on 127.0.0.1."""
    yield from serve()


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's own token or saved login."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    _no_agent_registry_fetch(monkeypatch, tmp_path)


def _no_agent_registry_fetch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """huggingface_hub >= 2.4 fetches an "agent harnesses" registry from the Hub the first time it builds headers and
    caches it in ~/.cache/huggingface for a day. A test that points the Hub at a loopback server would otherwise feed
    that fetch a recorded answer and poison the cache for every later run: detection gets an empty registry here."""
    try:
        from huggingface_hub.utils import _detect_agent
    except ImportError:  # older huggingface_hub: no such fetch
        return
    monkeypatch.setattr(_detect_agent, "_registry", {"standardEnvVars": [], "harnesses": {}})
    monkeypatch.setattr(
        "huggingface_hub.constants.AGENT_HARNESSES_PATH", str(tmp_path / "agent-harnesses.json"), raising=False
    )


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": [(h, None) for h in SECRET_HEADERS],
        "record_mode": "none",
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)
