"""Replay of real recorded router traffic: serving a recording, skipping without ``shared/``, the pass rate.

Every test here reads ``../shared/hf-recordings`` in place (or the folder ``HFSERVERLESS_RECORDINGS`` names);
without it the whole directory is skipped. At the end of a run the terminal summary says, per test module, how
many recorded interactions replayed right and lists the ones that did not.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.loopback import Answer, LoopbackServer, serve
from tests.replay.recordings import Interaction, recordings_root

# Framing headers describe how the recording travelled, not what it said; the loopback server writes its own.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_COMPRESSIONS = frozenset({"gzip", "deflate", "br", "zstd"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = recordings_root()
    if root.is_dir():
        return
    skip = pytest.mark.skip(reason=f"recordings not found at {root} (the repo is checked out beside shared/)")
    for item in items:
        if "tests/replay/" in item.nodeid.replace("\\", "/"):
            item.add_marker(skip)


def _body_is_encoded(body: bytes, encoding: str) -> bool:
    """Did the cassette keep the body compressed (so the header must stay), or store it decoded?"""
    if encoding == "gzip":
        return body[:2] == b"\x1f\x8b"
    if encoding == "deflate":
        try:
            zlib.decompress(body)
        except zlib.error:
            return False
        return True
    return False


def answer_for(interaction: Interaction) -> Answer:
    """The recorded answer as the loopback server should send it: status, headers and body as recorded.

    Streams go out as one chunk per SSE event, so the client reads them as a stream, not a single buffer. A
    ``Content-Encoding`` header stays when the body really is in that encoding, or is not a compression at all
    (a recorded ``content-encoding: chunked`` is sent as the provider sent it).
    """
    body = interaction.raw_response_body
    headers: dict[str, str] = {}
    for name, values in interaction.response_headers.items():
        lowered = name.lower()
        if lowered in _FRAMING or not values:
            continue
        if lowered == "content-encoding":
            encoding = values[0].strip().lower()
            if encoding in _COMPRESSIONS and not _body_is_encoded(body, encoding):
                continue
        headers[name] = values[-1]
    headers["Connection"] = "close"  # every replay on its own connection: no keep-alive across tests
    pieces: bytes | list[bytes] = body
    if interaction.is_event_stream and body:
        parts = body.split(b"\n\n")
        pieces = [part + b"\n\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return Answer(status=interaction.status, headers=headers, body=pieces)


@pytest.fixture(scope="module")
def replay_server() -> Iterator[LoopbackServer]:
    """One loopback server per module (stopping one costs half a second); each test resets it."""
    yield from serve()


@pytest.fixture
def serve_recording(replay_server: LoopbackServer) -> Callable[[Interaction], LoopbackServer]:
    """Queue a recorded answer on a fresh-state loopback server (also as the default, for any retry)."""
    replay_server.requests.clear()
    replay_server.queue.clear()

    def serve_one(interaction: Interaction) -> LoopbackServer:
        answer = answer_for(interaction)
        replay_server.queue.append(answer)
        replay_server.default = answer
        return replay_server

    return serve_one


_OUTCOMES: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))


def _replayed_interaction(report: pytest.TestReport) -> tuple[str, str] | None:
    if "tests/replay/" not in report.nodeid.replace("\\", "/") or "[" not in report.nodeid:
        return None
    if "[hand-built:" in report.nodeid:  # modelled on real traffic, not a recording: not in the pass rate
        return None
    module = report.nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    return module, report.nodeid.split("[", 1)[1][:-1]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    key = _replayed_interaction(report)
    if key is None:
        return
    module, param = key
    if report.skipped:
        _OUTCOMES[module]["skipped"].add(param)
    elif report.failed:
        _OUTCOMES[module]["failed"].add(param)
    elif report.when == "call":
        _OUTCOMES[module]["passed"].add(param)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _OUTCOMES:
        return
    terminalreporter.section("replay of real recordings")
    for module, outcomes in sorted(_OUTCOMES.items()):
        failed = outcomes["failed"]
        passed = outcomes["passed"] - failed
        ran = len(passed) + len(failed)
        rate = f"{100 * len(passed) / ran:.1f}%" if ran else "n/a"
        terminalreporter.write_line(
            f"{module}: {len(passed)}/{ran} replayed right ({rate}); {len(outcomes['skipped'])} skipped"
        )
        for param in sorted(failed):
            terminalreporter.write_line(f"    wrong: {param}")
