"""Adapters that travel and pools that are shared: pickling, fork, spawn, one connection for many instances, and
nothing left open at exit. Everything is observed from the server's side (requests, connections accepted/open)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.server import JSON_HEADERS, Request, ThreadServer, response_bytes, serve_in_thread
from langchain_hfserverless import (
    ChatHFServerless,
    HFServerlessEmbeddings,
    HFServerlessLLM,
    HFServerlessToolkit,
)
from langchain_hfserverless.errors import HFServerlessError
from langchain_hfserverless.tools import TASK_TOOLS, HFServerlessTaskTool
from tests.unit.media_samples import FLAC, PNG

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "hf_pickled_token_value"
_CHAT = {"id": "x", "model": "m", "choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}]}


class Recorder:
    """A loopback server that answers every adapter by path and records each request it saw."""

    def __init__(self) -> None:
        self.seen: list[Request] = []
        self._lock = threading.Lock()
        self.server: ThreadServer = serve_in_thread(self._answer, is_async=False)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def connections(self) -> int:
        """Connections the server accepted so far."""
        return self.server.stats.accepted

    def _answer(self, request: Request) -> bytes:
        with self._lock:
            self.seen.append(request)
        path = request.path
        if path.endswith("/chat/completions"):
            body: Any = _CHAT
        elif path.endswith("/embeddings"):
            body = {"data": [{"index": 0, "embedding": [0.6, 0.8]}]}
        elif path.endswith("/generate"):
            body = [{"generated_text": "hi"}]
        elif path.endswith("/text-to-image"):
            return response_bytes(200, {"content-type": "image/png"}, PNG)
        elif path.endswith("/image-classification"):
            body = [{"label": "tabby", "score": 0.5}]
        elif path.endswith("/translation"):
            body = [{"translation_text": "salut"}]
        elif path.endswith("/summarization"):
            body = [{"summary_text": "short"}]
        else:  # a task this module does not answer: a typed error, after the request was seen
            return response_bytes(400, JSON_HEADERS, b'{"error": "not answered by this test server"}')
        return response_bytes(200, JSON_HEADERS, json.dumps(body).encode())


@pytest.fixture(scope="module")
def _recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.server.stop()


@pytest.fixture
def server(_recorder: Recorder) -> Recorder:
    _recorder.seen.clear()
    return _recorder


def _header(request: Request, name: str) -> str | None:
    return request.headers.get(name.lower())


# ---------------------------------------------------------------------------------------------- adapters


def _chat(url: str, **kw: Any) -> ChatHFServerless:
    return ChatHFServerless(base_url=url, model="m", api_key=TOKEN, max_retries=0, **kw)


def _llm(url: str, **kw: Any) -> HFServerlessLLM:
    return HFServerlessLLM(base_url=f"{url}/generate", api_key=TOKEN, max_retries=0, **kw)


def _embeddings(url: str, **kw: Any) -> HFServerlessEmbeddings:
    return HFServerlessEmbeddings(base_url=f"{url}/v1/embeddings", model="m", api_key=TOKEN, max_retries=0, **kw)


def _media_value(name: str) -> str:
    audio = name == "audio"
    data, mime = (FLAC, "audio/flac") if audio else (PNG, "image/png")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _tool_args(cls: type[HFServerlessTaskTool]) -> dict[str, Any]:
    """Valid arguments for any task tool: a small image or audio for media fields, short text for the rest."""
    schema = cls.model_fields["args_schema"].default
    args: dict[str, Any] = {}
    for name, field in schema.model_fields.items():
        if not field.is_required():
            continue
        text = str(field.annotation)
        if name == "table":
            args[name] = {"city": ["Paris", "Rome"], "population": [2.1, 2.8]}
        elif name == "text" and "mask" in cls.task:
            args[name] = "Paris is the [MASK] of France."
        elif "Path" in text:
            args[name] = _media_value(name)
        elif "list" in text:
            args[name] = ["a", "b"]
        else:
            args[name] = "hello"
    return args


def _tool_call(tool: HFServerlessTaskTool) -> None:
    """One call of the tool; the test server may answer it with an error: what matters is what it received."""
    with contextlib.suppress(HFServerlessError):
        tool.invoke(_tool_args(type(tool)))


CALLS: dict[str, Callable[[Any], Any]] = {
    "chat": lambda chat: chat.invoke("hi").content,
    "llm": lambda llm: llm.invoke("hi"),
    "embeddings": lambda emb: emb.embed_query("hi"),
}
FACTORIES: dict[str, Callable[[str], Any]] = {"chat": _chat, "llm": _llm, "embeddings": _embeddings}


def _round_trip(obj: Any) -> Any:
    return pickle.loads(pickle.dumps(obj))


# ---------------------------------------------------------------------------------------------- pickling


@pytest.mark.parametrize("name", list(FACTORIES))
def test_adapters_pickle_before_and_after_a_call(server: Recorder, name: str) -> None:
    adapter = FACTORIES[name](server.url, timeout=33.0)
    fresh = _round_trip(adapter)  # before any call
    first = CALLS[name](fresh)
    used = _round_trip(fresh)  # after a call: the pool stays behind, the copy opens (or shares) its own
    assert CALLS[name](used) == first
    assert CALLS[name](adapter) == first
    assert len(server.seen) == 3
    assert {_header(r, "authorization") for r in server.seen} == {f"Bearer {TOKEN}"}
    assert used.timeout == 33.0 and TOKEN not in repr(used)


async def test_adapters_pickle_after_an_async_call(server: Recorder) -> None:
    chat = _chat(server.url)
    assert (await chat.ainvoke("a")).content == "hi"
    copy = _round_trip(chat)
    assert (await copy.ainvoke("b")).content == "hi"
    assert copy.invoke("c").content == "hi"
    assert len(server.seen) == 3


@pytest.mark.parametrize("task", list(TASK_TOOLS))
def test_every_task_tool_pickles_before_and_after_a_call(server: Recorder, task: str) -> None:
    tool = TASK_TOOLS[task](base_url=f"{server.url}/{task}", api_key=TOKEN, max_retries=0)
    _tool_call(_round_trip(tool))  # before any call
    _tool_call(tool)
    _tool_call(_round_trip(tool))  # after one: its pool stays behind
    assert [r.path for r in server.seen] == [f"/{task}"] * 3
    assert {_header(r, "authorization") for r in server.seen} == {f"Bearer {TOKEN}"}


def test_the_toolkit_and_its_tools_pickle(server: Recorder) -> None:
    toolkit = HFServerlessToolkit(
        tasks=["translation"], api_key=TOKEN, tool_kwargs={"translation": {"base_url": f"{server.url}/translation"}}
    )
    (tool,) = _round_trip(toolkit).get_tools()
    assert tool.invoke({"text": "hi"}) == "salut"
    assert _round_trip(tool).invoke({"text": "hi"}) == "salut"
    assert {_header(r, "authorization") for r in server.seen} == {f"Bearer {TOKEN}"}


# ---------------------------------------------------------------------------------------------- processes


def _translator(url: str, **kw: Any) -> Any:
    return TASK_TOOLS["translation"](base_url=f"{url}/translation", api_key=TOKEN, max_retries=0, **kw)


def _toolkit_tool(url: str, **kw: Any) -> Any:
    toolkit = HFServerlessToolkit(
        tasks=["translation"],
        api_key=TOKEN,
        max_retries=0,
        tool_kwargs={"translation": {"base_url": f"{url}/translation", **kw}},
    )
    return toolkit.get_tools()[0]


# Every kind of adapter, built against the test server, and one call of it that returns a comparable value.
TRAVELLERS: dict[str, Callable[..., Any]] = {**FACTORIES, "task tool": _translator, "toolkit tool": _toolkit_tool}
TRAVELLER_CALLS: dict[str, Callable[[Any], Any]] = {
    **CALLS,
    "task tool": lambda tool: tool.invoke({"text": "hi"}),
    "toolkit tool": lambda tool: tool.invoke({"text": "hi"}),
}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("name", list(TRAVELLERS))
def test_a_forked_child_opens_its_own_connection_and_the_parent_keeps_working(server: Recorder, name: str) -> None:
    # A pool of this test's own (no other test here uses a timeout of 240 s or more): the child's first call must
    # dial, and the parent's connection must be the only one the pool held.
    adapter = TRAVELLERS[name](server.url, timeout=240.0 + list(TRAVELLERS).index(name))
    call = TRAVELLER_CALLS[name]
    first = call(adapter)
    before = server.connections
    pid = os.fork()
    if pid == 0:  # the child: two calls, then leave without running the parent's test machinery
        status = 1
        try:
            status = 0 if call(adapter) == first and call(adapter) == first else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert server.connections == before + 1  # the child dialled its own connection, used it twice
    assert call(adapter) == first
    assert server.connections == before + 1  # and the parent's pooled connection was left intact
    assert len(server.seen) == 4


def _call_in_worker(job: tuple[str, Any]) -> Any:
    name, adapter = job
    return TRAVELLER_CALLS[name](adapter)


@pytest.mark.parametrize("name", list(TRAVELLERS))
def test_a_used_adapter_runs_in_a_spawn_pool(server: Recorder, name: str) -> None:
    adapter = TRAVELLERS[name](server.url)
    first = TRAVELLER_CALLS[name](adapter)
    with multiprocessing.get_context("spawn").Pool(1) as workers:
        assert workers.map(_call_in_worker, [(name, adapter), (name, adapter)]) == [first, first]
    assert len(server.seen) == 3
    assert {_header(r, "authorization") for r in server.seen} == {f"Bearer {TOKEN}"}


# ---------------------------------------------------------------------------------------------- shared pools


def test_instances_with_the_same_settings_share_one_connection(server: Recorder) -> None:
    before = server.connections
    for i in range(30):  # throwaway instances, each with its own token: headers travel per request
        assert ChatHFServerless(base_url=server.url, model="m", api_key=f"hf_token_{i}", timeout=35.0).invoke(
            "x"
        ).content == ("hi")
    _embeddings(server.url, timeout=35.0).embed_query("x")
    _llm(server.url, timeout=35.0).invoke("x")
    assert len(server.seen) == 32
    assert server.connections == before + 1
    assert _header(server.seen[7], "authorization") == "Bearer hf_token_7"


def test_async_instances_share_one_connection_per_event_loop(server: Recorder) -> None:
    async def main() -> None:
        for _ in range(10):
            assert (await _chat(server.url, timeout=36.0).ainvoke("x")).content == "hi"

    before = server.connections
    asyncio.run(main())
    assert server.connections == before + 1
    asyncio.run(main())  # a new loop has connections of its own: the last loop's closed as it shut down
    assert server.connections == before + 2


def test_close_lets_go_and_the_last_holder_closes_the_connection(server: Recorder) -> None:
    # A timeout of its own: no instance of another test holds this pool.
    one, two = _chat(server.url, timeout=37.0), _chat(server.url, timeout=37.0)
    one.invoke("a")
    two.invoke("b")
    before_open = server.server.stats.open
    one.close()
    assert server.server.stats.open == before_open  # `two` still holds the pool
    accepted = server.connections
    assert two.invoke("c").content == "hi"
    assert server.connections == accepted  # on the same connection
    two.close()
    assert _eventually(lambda: server.server.stats.open == before_open - 1)
    assert one.invoke("d").content == "hi"  # still usable: the pool reopens
    assert server.connections == accepted + 1
    one.close()


async def test_aclose_lets_go_of_the_event_loops_connections(server: Recorder) -> None:
    one, two = _chat(server.url, timeout=38.0), _chat(server.url, timeout=38.0)
    await one.ainvoke("a")
    await two.ainvoke("b")
    before_open = server.server.stats.open
    await one.aclose()
    assert server.server.stats.open == before_open
    await two.aclose()
    assert await _aeventually(lambda: server.server.stats.open == before_open - 1)
    assert (await one.ainvoke("c")).content == "hi"
    await one.aclose()


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


async def _aeventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    for _ in range(int(timeout / 0.01)):
        if check():
            return True
        await asyncio.sleep(0.01)
    return check()


_THROWAWAY = """
import asyncio, sys
from langchain_hfserverless import ChatHFServerless, HFServerlessEmbeddings
from langchain_hfserverless.tools import TranslationTool

url = sys.argv[1]
for i in range(50):
    ChatHFServerless(base_url=url, model="m", api_key=f"hf_{i}", max_retries=0).invoke("x")
    HFServerlessEmbeddings(base_url=url + "/v1/embeddings", model="m", max_retries=0).embed_query("x")
    TranslationTool(base_url=url + "/translation", max_retries=0).invoke({"text": "x"})

async def main():
    for i in range(5):
        await ChatHFServerless(base_url=url, model="m", max_retries=0).ainvoke("x")

for _ in range(3):
    asyncio.run(main())
print("done")
"""


def test_throwaway_instances_leave_nothing_open_under_dev_mode(server: Recorder) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", textwrap.dedent(_THROWAWAY), server.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    assert "ResourceWarning" not in done.stderr and "unclosed" not in done.stderr, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr
    assert len(server.seen) == 50 * 3 + 15
