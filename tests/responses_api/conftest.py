"""responses.js (the router's open-source Responses API server) on loopback, in front of a scripted upstream.

``../shared/responses.js/start.sh PORT UPSTREAM`` (or ``$HFSERVERLESS_SHARED/responses.js``) runs the real server;
its npm dependencies are installed once into ~/.cache by start.sh. The upstream is a ``tests/loopback.py`` server
that answers with recorded chat-completions traffic (see ``recordings.py``). The tier skips only when node or npm is
missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer
from tests.processes import free_port, stop_pid

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("HFSERVERLESS_SHARED") or ROOT.parent / "shared")
START = SHARED / "responses.js" / "start.sh"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "responses_js: runs against the real responses.js server on loopback")


def start_responses_js(upstream_v1: str) -> tuple[int, str]:
    """Start responses.js in front of ``upstream_v1``; ``(pid, base URL)``. Skips when node/npm are missing."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"responses.js tier: {', '.join(missing)} not installed, responses.js cannot run")
    if not START.is_file():
        pytest.fail(f"no {START}: set HFSERVERLESS_SHARED to the shared folder")
    failures = []
    for _ in range(3):  # a port taken between free_port() and the bind: try another
        port = free_port()
        done = subprocess.run(
            ["bash", str(START), str(port), upstream_v1], capture_output=True, text=True, timeout=600, check=False
        )
        if done.returncode == 0:
            return int(done.stdout.split()[-1]), f"http://127.0.0.1:{port}"
        failures.append(done.stderr[-2000:])
    pytest.fail(f"{START} failed three times:\n" + "\n---\n".join(failures))


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def responses_js(upstream_server: LoopbackServer) -> Iterator[str]:
    """The base URL of responses.js, whose upstream is :func:`upstream_server`."""
    pid, url = start_responses_js(f"{upstream_server.url}/v1")
    try:
        yield url
    finally:
        stop_pid(pid)


@pytest.fixture
def upstream(upstream_server: LoopbackServer) -> Iterator[LoopbackServer]:
    """The shared upstream, with no queued answer and no request seen."""
    upstream_server.queue.clear()
    upstream_server.requests.clear()
    upstream_server.default = None
    yield upstream_server
    upstream_server.queue.clear()
