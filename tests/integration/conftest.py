"""VCR settings for the standard integration suite: strict matching on our cassettes (read by ``tests/cassettes.py``).

Cassettes live in the top-level ``cassettes/`` (see ``tests/conftest.py``), one folder per test class and
one file per test: ``cassettes/TestChatHFServerlessStandard/test_invoke.yaml``. Parametrized variants of a
test usually send the same requests (``output_version`` is not a request parameter), so they share the file of
the test they belong to; the variants of ``_PER_VARIANT`` tests send different requests (another schema), so
each has its own file: ``test_structured_output[typeddict].yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import SECRET_HEADERS

# Tests that replay their cassette many times in one run (pytest-benchmark rounds).
_REPEATED_PLAYBACK = frozenset({"test_stream_time"})
# Tests whose parametrized variants send different requests: one cassette per variant.
_PER_VARIANT = frozenset({"test_structured_output", "test_structured_output_async"})


@pytest.fixture
def vcr_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Replay only: a request whose method, URL or JSON body differs from the cassette fails the test."""
    return {
        "filter_headers": [(h, None) for h in SECRET_HEADERS],
        "record_mode": "none",
        "match_on": ["method", "uri", "body"],
        "decode_compressed_response": True,
        "allow_playback_repeats": request.node.originalname in _REPEATED_PLAYBACK,
    }


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    """``<TestClass>/<test name>``, with the parametrization id only for ``_PER_VARIANT`` tests;
    ``@pytest.mark.default_cassette`` wins."""
    marker = request.node.get_closest_marker("default_cassette")
    if marker is not None:
        return str(marker.args[0])
    name = request.node.originalname
    if name in _PER_VARIANT:
        name = request.node.name
    return f"{request.cls.__name__}/{name}" if request.cls is not None else name


@pytest.fixture(autouse=True)
def _cassette_fully_played(vcr: Any) -> Iterator[None]:
    """A cassette holds exactly the traffic its test makes: an interaction never replayed fails the test."""
    yield
    if vcr is None:
        return
    unplayed = [request.body for i, (request, _) in enumerate(vcr.data) if not vcr.play_counts[i]]
    if unplayed:
        pytest.fail(f"{len(unplayed)} cassette request(s) were never sent, first: {unplayed[0]!r}")
