"""Peers: ChatHFServerless beside ``ChatOpenAI`` and ``ChatHuggingFace`` on the same loopback server.

Neither peer is a dependency of the package: each is imported only if installed, and its column says
"not installed" otherwise. Speed: the same calls as ``bench.chat`` (invoke, a stream of 200 chunks,
200 concurrent ``ainvoke``), timed interleaved, medians; ratio = peer / ours, paired per repeat.
Correctness: four scenarios of ``bench.server`` (``/scenario/{name}``), measured and printed, never
asserted. The whole section runs with ``HF_TOKEN=hf_bench_ambient`` in the environment (and no other token
variable), as a user logged in to Hugging Face would have, so the last check shows which client sends that
token to a host that is not Hugging Face's.

Example:
    .. code-block:: python

        from bench import peers
        from bench.server import BenchServer

        with BenchServer() as server:
            peers.run(server.url, quick=True).print()
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx2
import orjson
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage, BaseMessageChunk

from bench.chat import FANOUT, STREAM_CHUNKS, Raw, ainterleaved, interleaved
from bench.server import ANSWER, CHAT_MODEL, REASONING, SCENARIO_CHUNKS, SCENARIO_PROMPT_TOKENS
from langchain_hfserverless import ChatHFServerless

AMBIENT_TOKEN = "hf_bench_ambient"
OPENAI_KEY = "sk-bench-explicit"  # ChatOpenAI needs a key: an explicit one, told apart from HF_TOKEN
_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACEHUB_API_TOKEN", "OPENAI_API_KEY")
_BASE_KEYS = frozenset({"model", "messages", "stream"})
PROMPT = "hi"

Maker = Callable[[str], BaseChatModel]
"""Builds a client for a server root (``http://127.0.0.1:port`` or ``…/scenario/name``)."""


# ---------------------------------------------------------------------------------------------- contenders


def _make_ours(root: str) -> BaseChatModel:
    return ChatHFServerless(base_url=root, model=CHAT_MODEL)


def _make_openai(api_key: str | None = OPENAI_KEY) -> Maker:
    def make(root: str) -> BaseChatModel:
        chat_openai = importlib.import_module("langchain_openai").ChatOpenAI
        keys = {"api_key": api_key} if api_key else {}
        return chat_openai(base_url=f"{root}/v1", model=CHAT_MODEL, **keys)  # type: ignore[no-any-return]

    return make


def _make_huggingface(root: str) -> BaseChatModel:
    module = importlib.import_module("langchain_huggingface")
    llm = module.HuggingFaceEndpoint(endpoint_url=root)
    return module.ChatHuggingFace(llm=llm)  # type: ignore[no-any-return]


@dataclass
class Peer:
    """A client to compare; ``missing`` says why it cannot run (not installed, import failed)."""

    name: str
    module: str
    make: Maker
    missing: str = ""


def _peers() -> list[Peer]:
    peers = [
        Peer("ChatOpenAI", "langchain_openai", _make_openai()),
        Peer("ChatHuggingFace", "langchain_huggingface", _make_huggingface),
    ]
    for peer in peers:
        if importlib.util.find_spec(peer.module) is None:
            peer.missing = "not installed"
            continue
        try:
            importlib.import_module(peer.module)
        except Exception as exc:  # a broken optional install must not stop the benchmark
            peer.missing = f"import failed: {_one_line(exc)}"
    return peers


def _versions() -> str:
    pairs = [
        ("langchain-openai", "openai"),
        ("langchain-huggingface", "huggingface_hub"),
    ]
    out = []
    for dist, below in pairs:
        try:
            out.append(f"{dist} {version(dist)} ({below} {version(below)})")
        except PackageNotFoundError:
            out.append(f"{dist} not installed")
    return ", ".join(out)


def _one_line(exc: BaseException, limit: int = 150) -> str:
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextlib.contextmanager
def ambient_token() -> Iterator[None]:
    """``HF_TOKEN`` set to a fake token, every other token variable removed; restored afterwards."""
    saved = {name: os.environ.get(name) for name in _TOKEN_VARS}
    for name in _TOKEN_VARS:
        os.environ.pop(name, None)
    os.environ["HF_TOKEN"] = AMBIENT_TOKEN
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ---------------------------------------------------------------------------------------------- speed


@dataclass
class SpeedRow:
    """Median seconds of ours and of each peer; ``ratios`` peer / ours; ``notes`` a peer's failure instead."""

    name: str
    ours: float
    peers: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def _speed_row(name: str, samples: dict[str, list[float]], notes: dict[str, str]) -> SpeedRow:
    row = SpeedRow(name, statistics.median(samples["ours"]), notes=dict(notes))
    for peer, times in samples.items():
        if peer != "ours":
            row.peers[peer] = statistics.median(times)
            row.ratios[peer] = statistics.median([t / o for t, o in zip(times, samples["ours"], strict=True)])
    return row


def _checked(
    clients: dict[str, BaseChatModel], check: Callable[[BaseChatModel], str | None], notes: dict[str, str]
) -> dict[str, BaseChatModel]:
    """The clients that pass ``check`` (None = fine); a failure or exception becomes the peer's note."""
    kept = {}
    for name, client in clients.items():
        try:
            problem = check(client)
        except Exception as exc:
            problem = f"raised {_one_line(exc)}"
        if problem is None:
            kept[name] = client
        elif name == "ours":
            raise RuntimeError(f"ours failed its own check: {problem}")
        else:
            notes[name] = problem
    return kept


def _invoke_ok(client: BaseChatModel) -> str | None:
    content = client.invoke(PROMPT).content
    return None if content == ANSWER else f"wrong answer {content!r}"


def _stream_ok(client: BaseChatModel) -> str | None:
    count = sum(1 for c in client.stream(PROMPT) if c.content)
    return None if count == STREAM_CHUNKS else f"{count} content chunks, not {STREAM_CHUNKS}"


def bench_invoke(makers: dict[str, Maker], url: str, *, calls: int, repeats: int) -> SpeedRow:
    notes: dict[str, str] = {}
    clients = _checked({n: m(url) for n, m in makers.items()}, _invoke_ok, notes)

    def call(client: BaseChatModel) -> Callable[[], Any]:
        return lambda: client.invoke(PROMPT)

    contenders = {name: call(client) for name, client in clients.items()}
    interleaved(contenders, calls // 2, 1)  # warm-up
    return _speed_row("invoke, per call", interleaved(contenders, calls, repeats), notes)


def bench_stream(makers: dict[str, Maker], url: str, *, calls: int, repeats: int) -> SpeedRow:
    notes: dict[str, str] = {}
    clients = _checked({n: m(url) for n, m in makers.items()}, _stream_ok, notes)

    def consume(client: BaseChatModel) -> Callable[[], None]:
        def run() -> None:
            for _ in client.stream(PROMPT):
                pass

        return run

    contenders = {name: consume(client) for name, client in clients.items()}
    interleaved(contenders, 2, 1)
    samples = interleaved(contenders, calls, repeats)
    return _speed_row(f"stream {STREAM_CHUNKS} chunks, per stream", samples, notes)


Samples = dict[str, list[float]]


async def _fanout(makers: dict[str, Maker], url: str, repeats: int) -> tuple[Samples, dict[str, str]]:
    notes: dict[str, str] = {}
    clients: dict[str, BaseChatModel] = {}
    for name, make in makers.items():  # the check runs in this loop, so every async pool belongs to it
        client = make(url)
        try:
            answer = (await client.ainvoke(PROMPT)).content
            if answer == ANSWER:
                clients[name] = client
            else:
                notes[name] = f"wrong answer {answer!r}"
        except Exception as exc:
            if name == "ours":
                raise
            notes[name] = f"raised {_one_line(exc)}"

    def batch(client: BaseChatModel) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            answers = await asyncio.gather(*(client.ainvoke(PROMPT) for _ in range(FANOUT)))
            if not all(a.content == ANSWER for a in answers):
                raise RuntimeError("a concurrent ainvoke returned a wrong answer")

        return run

    contenders = {name: batch(client) for name, client in clients.items()}
    try:
        await ainterleaved(contenders, 1)  # warm-up: every pool opens its connections
        return await ainterleaved(contenders, repeats), notes
    finally:
        ours = clients["ours"]
        assert isinstance(ours, ChatHFServerless)
        await ours._transport.aclose()


def bench_fanout(makers: dict[str, Maker], url: str, *, repeats: int) -> SpeedRow:
    samples, notes = asyncio.run(_fanout(makers, url, repeats))
    return _speed_row(f"{FANOUT} concurrent ainvoke, per batch", samples, notes)


POOL_CAP = 100  # httpx's default max_connections: what ChatHuggingFace's AsyncInferenceClient gets


async def _pool(url: str, repeats: int) -> dict[str, list[float]]:
    raws = {"unlimited": Raw(url), "capped": Raw(url)}
    raws["unlimited"].aclient = httpx2.AsyncClient(limits=httpx2.Limits(max_connections=None))
    raws["capped"].aclient = httpx2.AsyncClient(limits=httpx2.Limits(max_connections=POOL_CAP))

    def batch(raw: Raw) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await asyncio.gather(*(raw.ainvoke() for _ in range(FANOUT)))

        return run

    contenders = {name: batch(raw) for name, raw in raws.items()}
    try:
        await ainterleaved(contenders, 1)
        return await ainterleaved(contenders, repeats)
    finally:
        for raw in raws.values():
            assert raw.aclient is not None
            await raw.aclient.aclose()


def bench_pool(url: str, *, repeats: int) -> tuple[float, float]:
    """Raw httpx2 fan-out, unlimited pool vs one capped at ``POOL_CAP``: what the pool size alone does."""
    samples = asyncio.run(_pool(url, repeats))
    return statistics.median(samples["unlimited"]), statistics.median(samples["capped"])


# ---------------------------------------------------------------------------------------------- correctness


def _scenario(url: str, name: str) -> str:
    return f"{url}/scenario/{name}"


def _echoed(message: BaseMessage) -> dict[str, Any]:
    """The request the server saw, from the ``echo`` scenario's answer."""
    return orjson.loads(str(message.content))  # type: ignore[no-any-return]


def _aggregate(client: BaseChatModel) -> BaseMessageChunk:
    total: BaseMessageChunk | None = None
    for piece in client.stream(PROMPT):
        total = piece if total is None else total + piece
    if total is None:
        raise RuntimeError("the stream yielded nothing")
    return total


def _extras(body: dict[str, Any]) -> str:
    extra = {k: v for k, v in body.items() if k not in _BASE_KEYS}
    return ", ".join(f"{k}={orjson.dumps(v).decode()}" for k, v in sorted(extra.items())) or "none"


def check_body(make: Maker, url: str) -> str:
    client = make(_scenario(url, "echo"))
    invoked, streamed = _echoed(client.invoke(PROMPT)), _echoed(_aggregate(client))
    return _both(_extras(invoked["body"]), _extras(streamed["body"]))


def _both(invoke: str, stream: str) -> str:
    return f"invoke and stream: {invoke}" if invoke == stream else f"invoke: {invoke} | stream: {stream}"


def _usage(usage: Any) -> str:
    if not usage:
        return "none"
    return f"{usage.get('input_tokens')}/{usage.get('output_tokens')}/{usage.get('total_tokens')}"


def check_cumulative_usage(make: Maker, url: str) -> str:
    total = _aggregate(make(_scenario(url, "cumulative-usage")))
    final = {
        "input_tokens": SCENARIO_PROMPT_TOKENS,
        "output_tokens": SCENARIO_CHUNKS,
        "total_tokens": SCENARIO_PROMPT_TOKENS + SCENARIO_CHUNKS,
    }
    usage = getattr(total, "usage_metadata", None)
    got = _usage(usage)
    if got == _usage(final):
        return f"{got} = the final figure"
    if usage and usage.get("total_tokens"):
        return f"{got} ({usage['total_tokens'] / final['total_tokens']:.1f}x the final figure)"
    return f"{got} (final figure not reported)"


def _where_reasoning(message: BaseMessage) -> str:
    for part in ("additional_kwargs", "response_metadata"):
        for key, value in getattr(message, part).items():
            if REASONING in orjson.dumps(value, default=str).decode():
                return f"kept in {part}[{key!r}]"
    if REASONING in orjson.dumps(message.content, default=str).decode():
        return "kept in content"
    return "dropped"


def check_reasoning(make: Maker, url: str) -> str:
    client = make(_scenario(url, "reasoning"))
    return _both(_where_reasoning(client.invoke(PROMPT)), _where_reasoning(_aggregate(client)))


def check_ambient_token(make: Maker, url: str) -> str:
    auth = _echoed(make(_scenario(url, "echo")).invoke(PROMPT))["headers"].get("authorization")
    if not auth:
        return "no Authorization header"
    if AMBIENT_TOKEN in auth:
        return f"Authorization: {auth!r} -- the ambient HF_TOKEN, sent to a non-Hugging-Face host"
    return f"Authorization: {auth!r} (not HF_TOKEN)"


CHECKS: list[tuple[str, Callable[[Maker, str], str]]] = [
    ("(1) bare invoke/stream body: keys beyond model/messages/stream", check_body),
    (
        "(2) stream with cumulative usage on every chunk: usage reported as in/out/total (final figure "
        f"{SCENARIO_PROMPT_TOKENS}/{SCENARIO_CHUNKS}/{SCENARIO_PROMPT_TOKENS + SCENARIO_CHUNKS})",
        check_cumulative_usage,
    ),
    ("(3) answer with reasoning_content", check_reasoning),
    (f"(4) HF_TOKEN={AMBIENT_TOKEN} in the environment, endpoint = loopback", check_ambient_token),
]


def _run_check(check: Callable[[Maker, str], str], make: Maker, url: str) -> str:
    try:
        return check(make, url)
    except Exception as exc:
        return f"raised {_one_line(exc)}"


# ---------------------------------------------------------------------------------------------- report


@dataclass
class PeerReport:
    """Everything the peer section prints."""

    peers: list[Peer]
    rows: list[SpeedRow]
    checks: list[tuple[str, list[tuple[str, str]]]]
    pool: tuple[float, float]
    seconds: float

    def print(self) -> None:
        print(f"peers: {_versions()}")
        print(f"HF_TOKEN={AMBIENT_TOKEN} is set (other token variables unset) for this whole section.")
        names = [p.name for p in self.peers]
        header = f"{'benchmark':<40}{'ours':>11}" + "".join(f"{n:>18}{'ratio':>8}" for n in names)
        print(header)
        print("-" * len(header))
        for row in self.rows:
            cells = [f"{row.name:<40}{_fmt(row.ours):>11}"]
            for peer in self.peers:
                if peer.missing:
                    cells.append(f"{peer.missing[:17]:>18}{'-':>8}")
                elif peer.name in row.peers:
                    cells.append(f"{_fmt(row.peers[peer.name]):>18}{row.ratios[peer.name]:>7.2f}x")
                else:
                    cells.append(f"{'failed (below)':>18}{'-':>8}")
            print("".join(cells))
        for row in self.rows:
            for name, note in row.notes.items():
                print(f"  {name}, {row.name}: {note}")
        print("ratio = peer / ours (> 1: peer slower); medians over interleaved repeats, ratios paired.")
        unlimited, capped = self.pool
        print(
            f"pool size alone, raw httpx2 {FANOUT} concurrent: unlimited (ours; ChatOpenAI caps at 1000) "
            f"{_fmt(unlimited)}, max_connections={POOL_CAP} (httpx default, ChatHuggingFace) {_fmt(capped)}"
        )
        print()
        print("correctness on the same loopback server (measured, not asserted):")
        for title, results in self.checks:
            print(title)
            for name, text in results:
                print(f"  {name:<28}{text}")
        print(f"peer section: {self.seconds:.0f} s")


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def run(url: str, *, quick: bool = False) -> PeerReport:
    """Time ours against every installed peer, then run the correctness scenarios; nothing is printed here."""
    started = time.perf_counter()
    peers = _peers()
    with ambient_token():
        makers: dict[str, Maker] = {"ours": _make_ours}
        makers.update({p.name: p.make for p in peers if not p.missing})
        repeats = 5 if quick else 11
        rows = [
            bench_invoke(makers, url, calls=40, repeats=repeats),
            bench_stream(makers, url, calls=4, repeats=repeats),
            bench_fanout(makers, url, repeats=3 if quick else 5),
        ]
        checkers: list[tuple[str, Maker | None, str]] = [("ours (ChatHFServerless)", _make_ours, "")]
        for peer in peers:
            checkers.append((peer.name, None if peer.missing else peer.make, peer.missing))
        checks = []
        for title, check in CHECKS:
            results = [(n, _run_check(check, m, url) if m else missing) for n, m, missing in checkers]
            if check is check_ambient_token and any(p.name == "ChatOpenAI" and not p.missing for p in peers):
                no_key = _run_check(check, _make_openai(api_key=None), url)
                results.insert(2, ("ChatOpenAI, no api_key", no_key))
            checks.append((title, results))
        pool = bench_pool(url, repeats=3 if quick else 5)
    return PeerReport(peers, rows, checks, pool, time.perf_counter() - started)
