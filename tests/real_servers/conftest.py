"""The real-server tier: llama.cpp's own ``llama-server`` on loopback, serving tiny random-weight models.

``../shared/real-servers/build.sh`` builds the server and the models once (about 7 minutes on 2 cores, then
instant: the build is cached); ``start.sh chat|embed PORT`` runs one. The chat server is started with
``--api-key``. Every test here talks to a real engine through the package's public API, so it asserts structure
(the random model's text means nothing). The tier skips only when the shared folder or a build tool is missing.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.processes import free_port, stop_pid

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("HFSERVERLESS_SHARED") or ROOT.parent / "shared")
REAL_SERVERS = SHARED / "real-servers"
API_KEY = "real-server-test-key"  # the loopback server's own key, made up for the test run
CHAT_MODEL = "tiny-chat"
EMBED_MODEL = "tiny-embed"
N_CTX = 1024  # start.sh chat: -c 1024


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_server: runs against a real llama.cpp llama-server on loopback")


def _build_tools_missing() -> list[str]:
    return [tool for tool in ("cmake", "c++") if shutil.which(tool) is None]


@pytest.fixture(scope="session")
def llama_cache() -> Path:
    """Build llama-server and the tiny models (a no-op once cached); the cache folder."""
    build = REAL_SERVERS / "build.sh"
    if not build.is_file():
        pytest.skip(f"real-server tier: no {build} (set HFSERVERLESS_SHARED to the shared folder)")
    done = subprocess.run(["bash", str(build)], capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        missing = _build_tools_missing()
        if missing:
            pytest.skip(f"real-server tier: {', '.join(missing)} not installed, llama-server cannot be built")
        pytest.fail(f"{build} failed (rc={done.returncode}):\n{done.stderr[-4000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def _start(cache: Path, kind: str, *extra: str) -> Iterator[str]:
    del cache  # start.sh runs build.sh itself; the fixture dependency only orders the build first
    start = REAL_SERVERS / "start.sh"
    failures = []
    for _ in range(3):  # a port taken between free_port() and the bind: try another
        done = subprocess.run(
            ["bash", str(start), kind, str(free_port()), *extra],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode == 0:
            break
        failures.append(done.stderr[-2000:])
    else:
        pytest.fail(f"{start} {kind} failed three times:\n" + "\n---\n".join(failures))
    pid, port = (int(v) for v in done.stdout.split()[-2:])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_pid(pid)


@pytest.fixture(scope="session")
def chat_url(llama_cache: Path) -> Iterator[str]:
    """llama-server with the tiny chat model (context 1024, --jinja), answering only the Bearer ``API_KEY``."""
    yield from _start(llama_cache, "chat", "--api-key", API_KEY)


@pytest.fixture(scope="session")
def embed_url(llama_cache: Path) -> Iterator[str]:
    """llama-server --embeddings with the tiny embedding model (context 512, mean pooling, 64 dims)."""
    yield from _start(llama_cache, "embed")


@dataclass
class CountingProxy:
    """A loopback proxy in front of a real server that counts what reached it: ``seen[(method, path)]``.

    Answers are read whole and relayed as they came (status, headers, body), so it suits error answers and
    short streams; it shows whether the package retried.
    """

    upstream: str
    seen: Counter[tuple[str, str]]
    url: str
    _server: ThreadingHTTPServer

    def count(self, path: str = "/v1/chat/completions") -> int:
        return self.seen[("POST", path)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _proxy(upstream: str) -> CountingProxy:
    target = urlsplit(upstream)
    seen: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                seen[(self.command, self.path)] += 1
            conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=300)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            conn.close()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "content-length", "connection", "keep-alive"):
                    self.send_header(key, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _relay
        do_POST = _relay

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return CountingProxy(upstream, seen, f"http://127.0.0.1:{server.server_address[1]}", server)


@pytest.fixture
def chat_proxy(chat_url: str) -> Iterator[CountingProxy]:
    """A counting proxy in front of the chat server."""
    proxy = _proxy(chat_url)
    yield proxy
    proxy.close()


@pytest.fixture
def embed_proxy(embed_url: str) -> Iterator[CountingProxy]:
    """A counting proxy in front of the embeddings server."""
    proxy = _proxy(embed_url)
    yield proxy
    proxy.close()
