"""Embeddings benchmark: HFServerlessEmbeddings against raw batched httpx2 HTTP, on the loopback stand-in server.

Both contenders embed the same 5,000 texts in the same run, against the same server, in batches of 32 with 4
batches in flight (threads in sync, tasks in async): the raw side is httpx2 + orjson by hand, with no retries,
no validation and no LangChain. Times are medians over interleaved repeats; the ratio is the median of the
back-to-back pairs' ratios (robust to a loaded machine); the target is ours <= 1.3 x raw.

    python -m bench.embeddings            # standalone: starts its own stand-in server
    python -m bench                       # with the other benchmarks, in one table
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx2
import orjson

from bench.chat import Row
from bench.server import DEFAULT_DIM, BenchServer
from langchain_hfserverless.embeddings import HFServerlessEmbeddings

TEXTS = [f"passage number {i}: the quick brown fox jumps over the lazy dog" for i in range(5_000)]
BATCH = 32
CONCURRENCY = 4
TARGET = 1.3
PATH = "/models/bench-embed/pipeline/feature-extraction"


def _batches() -> list[list[str]]:
    return [TEXTS[i : i + BATCH] for i in range(0, len(TEXTS), BATCH)]


def raw_sync(client: httpx2.Client, url: str) -> list[list[float]]:
    def one(batch: list[str]) -> list[list[float]]:
        response = client.post(
            url, content=orjson.dumps({"inputs": batch}), headers={"content-type": "application/json"}
        )
        response.raise_for_status()
        return orjson.loads(response.content)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return [vector for part in pool.map(one, _batches()) for vector in part]


async def raw_async(client: httpx2.AsyncClient, url: str) -> list[list[float]]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(batch: list[str]) -> list[list[float]]:
        async with limit:
            response = await client.post(
                url, content=orjson.dumps({"inputs": batch}), headers={"content-type": "application/json"}
            )
        response.raise_for_status()
        return orjson.loads(response.content)

    parts = await asyncio.gather(*(one(batch) for batch in _batches()))
    return [vector for part in parts for vector in part]


def _check(vectors: list[list[float]]) -> None:
    if len(vectors) != len(TEXTS) or any(len(v) != DEFAULT_DIM for v in vectors):
        raise SystemExit(f"wrong answer: {len(vectors)} vectors")


def _timed(fn: Callable[[], list[list[float]]]) -> float:
    started = time.perf_counter()
    _check(fn())
    return time.perf_counter() - started


def _rows(name: str, ours: list[float], raw: list[float]) -> Row:
    """Medians of both; the ratio is the median of each back-to-back pair's ratio, so load drift cancels out."""
    ratio = statistics.median(o / r for o, r in zip(ours, raw, strict=True))
    return Row(name, statistics.median(ours), statistics.median(raw), None, "s", ratio, TARGET, "raw")


def bench_sync(base: str, repeats: int) -> Row:
    url = base + PATH
    embeddings = HFServerlessEmbeddings(base_url=url, batch_size=BATCH, max_concurrency=CONCURRENCY)
    with httpx2.Client(limits=httpx2.Limits(max_keepalive_connections=64)) as client:
        _timed(lambda: raw_sync(client, url))  # warm-up: connections, route, imports
        _timed(lambda: embeddings.embed_documents(TEXTS))
        ours, raw = [], []
        for _ in range(repeats):  # interleaved, so drift hits both alike
            raw.append(_timed(lambda: raw_sync(client, url)))
            ours.append(_timed(lambda: embeddings.embed_documents(TEXTS)))
    return _rows(f"embed_documents 5,000 texts (sync, {CONCURRENCY} threads)", ours, raw)


def bench_async(base: str, repeats: int) -> Row:
    url = base + PATH

    async def run() -> Row:
        embeddings = HFServerlessEmbeddings(base_url=url, batch_size=BATCH, max_concurrency=CONCURRENCY)
        async with httpx2.AsyncClient(limits=httpx2.Limits(max_keepalive_connections=64)) as client:

            async def timed(coro: Callable[[], object]) -> float:
                started = time.perf_counter()
                _check(await coro())  # type: ignore[misc]
                return time.perf_counter() - started

            await timed(lambda: raw_async(client, url))
            await timed(lambda: embeddings.aembed_documents(TEXTS))
            ours, raw = [], []
            for _ in range(repeats):
                raw.append(await timed(lambda: raw_async(client, url)))
                ours.append(await timed(lambda: embeddings.aembed_documents(TEXTS)))
        return _rows(f"aembed_documents 5,000 texts (async, {CONCURRENCY} tasks)", ours, raw)

    return asyncio.run(run())


def run(url: str, quick: bool = False) -> list[Row]:
    """Both rows against the stand-in server at ``url`` (used by ``python -m bench``)."""
    repeats = 5 if quick else 11
    return [bench_sync(url, repeats), bench_async(url, repeats)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.embeddings", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    with BenchServer() as server:
        rows = run(server.url, quick=args.quick)
    for row in rows:
        verdict = "ok" if row.ok else "MISS"
        print(
            f"{row.name}: ours {row.ours:.3f} s, raw {row.raw:.3f} s, ratio {row.ratio:.2f}x "
            f"(target <= {TARGET:.1f}x) {verdict}"
        )
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
