"""Chat benchmarks: ChatHFServerless against raw httpx2 and LangChain's own floor, on the loopback server.

Every figure is a median over interleaved repeats (the contenders take turns, so drift hits all of them alike).
Targets: invoke <= 1.05 x and stream <= 1.10 x the raw code inside a minimal LangChain chat model (``IdealChat``; the
ratio to raw + floor measured apart is shown too), fan-out <= 1.3 x raw, import <= 300 ms (our own share, on top of
the langchain_core modules we build on).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from bench.server import ANSWER, CHAT_MODEL, TOKEN
from langchain_hfserverless import ChatHFServerless

PROMPT = "Say hello."
STREAM_CHUNKS = 200
FANOUT = 200
MEMORY_CHUNKS = 10_000
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "langchain_hfserverless"


@dataclass
class Row:
    """One line of the results table; ``ratio`` is ours / baseline, compared with ``target`` when there is one."""

    name: str
    ours: float
    raw: float | None
    floor: float | None
    unit: str
    ratio: float | None = None
    target: float | None = None
    baseline: str = ""
    ideal: float | None = None
    """The same work done by raw httpx2 inside a minimal LangChain chat model: the least any integration costs."""
    vs_ideal: float | None = None
    ideal_target: float | None = None
    """When set, the row is judged by ``vs_ideal`` against it."""

    @property
    def ok(self) -> bool | None:
        if self.ideal_target is not None and self.vs_ideal is not None:
            return self.vs_ideal <= self.ideal_target
        if self.target is None:
            return None
        value = self.ratio if self.ratio is not None else self.ours
        return value <= self.target


# ---------------------------------------------------------------------------------------------- LangChain floor


class FloorChat(BaseChatModel):
    """LangChain's floor: a chat model doing no I/O at all, answering or streaming fixed text."""

    chunks: int = STREAM_CHUNKS

    @property
    def _llm_type(self) -> str:
        return "bench-floor"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=ANSWER))])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        return self._generate(messages)

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for _ in range(self.chunks):
            yield ChatGenerationChunk(message=AIMessageChunk(content=TOKEN))

    async def _astream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        for _ in range(self.chunks):
            yield ChatGenerationChunk(message=AIMessageChunk(content=TOKEN))


class IdealChat(BaseChatModel):
    """Raw httpx2 + orjson inside a minimal LangChain chat model: no retries, no checks, no dialects.

    What the floor and raw HTTP cost when they run in one call — the least any LangChain integration can cost.
    """

    raw: Any

    @property
    def _llm_type(self) -> str:
        return "bench-ideal"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.raw.invoke()))])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=await self.raw.ainvoke()))])

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for text in self.raw.deltas():
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))


# ---------------------------------------------------------------------------------------------- raw httpx2

LIMITS = httpx2.Limits(max_connections=None, max_keepalive_connections=256)  # the same pool the package uses


class Raw:
    """What a user would write with httpx2 + orjson alone: build the body, post, parse, take the text."""

    def __init__(self, base_url: str, chunks: int = STREAM_CHUNKS) -> None:
        self.url = f"{base_url}/v1/chat/completions"
        self.headers = {"content-type": "application/json", "x-bench-chunks": str(chunks)}
        self.client = httpx2.Client(limits=LIMITS)
        self.aclient: httpx2.AsyncClient | None = None

    @staticmethod
    def body(stream: bool) -> bytes:
        return orjson.dumps({"model": CHAT_MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": stream})

    def invoke(self) -> str:
        response = self.client.post(self.url, content=self.body(False), headers=self.headers)
        response.raise_for_status()
        return orjson.loads(response.content)["choices"][0]["message"]["content"]

    async def ainvoke(self) -> str:
        assert self.aclient is not None
        response = await self.aclient.post(self.url, content=self.body(False), headers=self.headers)
        response.raise_for_status()
        return orjson.loads(response.content)["choices"][0]["message"]["content"]

    def deltas(self) -> Iterator[str]:
        with self.client.stream("POST", self.url, content=self.body(True), headers=self.headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    continue  # read the body to its end, so the connection goes back to the pool
                event = orjson.loads(data)
                for choice in event.get("choices") or ():
                    if choice["delta"].get("content"):
                        yield choice["delta"]["content"]

    def stream(self) -> int:
        return sum(1 for _ in self.deltas())


# ---------------------------------------------------------------------------------------------- timing


def interleaved(contenders: dict[str, Callable[[], Any]], calls: int, repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each contender in each repeat; a repeat runs every contender ``calls`` times, in turn."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for repeat in range(repeats):
        order = names[repeat % len(names) :] + names[: repeat % len(names)]
        for name in order:
            fn = contenders[name]
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls)
    return samples


async def ainterleaved(contenders: dict[str, Callable[[], Awaitable[Any]]], repeats: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for repeat in range(repeats):
        order = names[repeat % len(names) :] + names[: repeat % len(names)]
        for name in order:
            start = time.perf_counter()
            await contenders[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def paired(samples: dict[str, list[float]], over: tuple[str, ...]) -> float:
    """Median over repeats of ours / sum(over): contenders of one repeat ran back to back, so load cancels out."""
    ratios = [o / sum(samples[name][i] for name in over) for i, o in enumerate(samples["ours"])]
    return statistics.median(ratios)


def _row(
    name: str, t: dict[str, list[float]], over: tuple[str, ...], target: float | None, ideal_target: float | None = None
) -> Row:
    med = {k: statistics.median(v) for k, v in t.items()}
    return Row(
        name,
        med["ours"],
        med["raw"],
        med.get("floor"),
        "s",
        paired(t, over),
        target,
        " + ".join(over),
        med.get("ideal"),
        paired(t, ("ideal",)) if "ideal" in t else None,
        ideal_target,
    )


# ---------------------------------------------------------------------------------------------- benchmarks


def chat_model(base_url: str, chunks: int = STREAM_CHUNKS) -> ChatHFServerless:
    return ChatHFServerless(base_url=base_url, model=CHAT_MODEL, default_headers={"x-bench-chunks": str(chunks)})


def bench_invoke(base_url: str, *, calls: int = 50, repeats: int = 15) -> Row:
    raw, llm, floor = Raw(base_url), chat_model(base_url), FloorChat()
    ideal = IdealChat(raw=Raw(base_url))
    assert raw.invoke() == llm.invoke(PROMPT).content == floor.invoke(PROMPT).content == ANSWER
    contenders = {
        "raw": raw.invoke,
        "ours": lambda: llm.invoke(PROMPT),
        "floor": lambda: floor.invoke(PROMPT),
        "ideal": lambda: ideal.invoke(PROMPT),
    }
    interleaved(contenders, calls // 2, 1)  # warm-up
    return _row("invoke, per call", interleaved(contenders, calls, repeats), ("raw", "floor"), None, 1.05)


def bench_stream(base_url: str, *, calls: int = 5, repeats: int = 15) -> Row:
    raw, llm, floor = Raw(base_url), chat_model(base_url), FloorChat()
    ideal = IdealChat(raw=Raw(base_url))
    got = [c for c in llm.stream(PROMPT) if c.content]
    assert raw.stream() == len(got) == STREAM_CHUNKS, (raw.stream(), len(got))

    def consume(model: BaseChatModel) -> Callable[[], None]:
        def run() -> None:
            for _ in model.stream(PROMPT):
                pass

        return run

    contenders = {"raw": raw.stream, "ours": consume(llm), "floor": consume(floor), "ideal": consume(ideal)}
    interleaved(contenders, 2, 1)
    t = interleaved(contenders, calls, repeats)
    return _row(f"stream {STREAM_CHUNKS} chunks, per stream", t, ("raw", "floor"), None, 1.10)


async def _fanout(base_url: str, repeats: int) -> dict[str, list[float]]:
    raw, llm, floor = Raw(base_url), chat_model(base_url), FloorChat()
    ideal = IdealChat(raw=raw)
    raw.aclient = httpx2.AsyncClient(limits=LIMITS)
    try:

        async def raw_batch() -> None:
            answers = await asyncio.gather(*(raw.ainvoke() for _ in range(FANOUT)))
            assert len(answers) == FANOUT

        def batch(model: BaseChatModel) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                answers = await asyncio.gather(*(model.ainvoke(PROMPT) for _ in range(FANOUT)))
                assert all(a.content == ANSWER for a in answers)

            return run

        contenders = {"raw": raw_batch, "ours": batch(llm), "floor": batch(floor), "ideal": batch(ideal)}
        await ainterleaved(contenders, 2)  # warm-up: every pool opens its connections
        return await ainterleaved(contenders, repeats)
    finally:
        await raw.aclient.aclose()
        await llm._transport.aclose()


def bench_fanout(base_url: str, *, repeats: int = 11) -> Row:
    return _row(f"{FANOUT} concurrent ainvoke, per batch", asyncio.run(_fanout(base_url, repeats)), ("raw",), 1.3)


def _our_langchain_core_imports() -> list[str]:
    """The langchain_core modules our package imports at module level (they are langchain_core's cost)."""
    found: set[str] = set()
    pattern = re.compile(r"^(?:from|import) (langchain_core[\w.]*)", re.MULTILINE)
    for path in PACKAGE_DIR.rglob("*.py"):
        found.update(pattern.findall(path.read_text()))
    return sorted(found)


_IMPORT_PROBE = """
import time, importlib
t0 = time.perf_counter()
for name in {modules!r}:
    importlib.import_module(name)
t1 = time.perf_counter()
{statement}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""
IMPORT_CHAT = "from langchain_hfserverless import ChatHFServerless"
IMPORT_ALL = "from langchain_hfserverless import *"  # the names load lazily (PEP 562): * touches every one


def bench_import(repeats: int = 5) -> list[Row]:
    """Fresh interpreters: python startup, the full import, and our share on top of langchain_core's.

    ``import langchain_hfserverless`` alone loads nothing (lazy names), so what is timed is what users write.
    """
    modules = _our_langchain_core_imports()

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    def probe(statement: str) -> tuple[float, float]:
        code = _IMPORT_PROBE.format(modules=modules, statement=statement)
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        core_s, ours_s = map(float, out.split())
        return core_s, ours_s

    bare, full, core, ours_chat, ours_all = [], [], [], [], []
    for _ in range(repeats):
        bare.append(run("pass"))
        full.append(run(IMPORT_CHAT))
        core_s, ours_s = probe(IMPORT_CHAT)
        core.append(core_s)
        ours_chat.append(ours_s)
        ours_all.append(probe(IMPORT_ALL)[1])
    med = statistics.median
    return [
        Row("import ChatHFServerless, total - bare python", med(full) - med(bare), None, med(core), "s"),
        Row("  ours on top of langchain_core", med(ours_chat), None, med(core), "s", target=0.300),
        Row("import every public name, ours on top", med(ours_all), None, med(core), "s", target=0.300),
    ]


def _peak(fn: Callable[[], Any]) -> float:
    fn()  # warm: clients, pools and caches exist before measuring
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return float(tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()


def bench_memory(base_url: str) -> Row:
    raw, llm, floor = Raw(base_url, MEMORY_CHUNKS), chat_model(base_url, MEMORY_CHUNKS), FloorChat(chunks=MEMORY_CHUNKS)

    def ours() -> None:
        for _ in llm.stream(PROMPT):
            pass

    def lc_floor() -> None:
        for _ in floor.stream(PROMPT):
            pass

    p_raw, p_ours, p_floor = _peak(raw.stream), _peak(ours), _peak(lc_floor)
    return Row(
        f"peak memory, stream of {MEMORY_CHUNKS:,} chunks",
        p_ours,
        p_raw,
        p_floor,
        "B",
        p_ours / (p_raw + p_floor),
        None,
        "raw + floor",
    )


def run(base_url: str, *, quick: bool = False) -> list[Row]:
    """Every chat benchmark against a running bench server."""
    repeats = 5 if quick else 15
    rows = [
        bench_invoke(base_url, repeats=repeats),
        bench_stream(base_url, repeats=repeats),
        bench_fanout(base_url, repeats=max(3, repeats * 2 // 3)),
        bench_memory(base_url),
    ]
    rows += bench_import(repeats=3 if quick else 5)
    return rows
