"""``python -m bench``: every benchmark in one run, printed as one table; ``python -m bench faults``: the long
fault-injection run. ``--quick`` trims repeats; ``--profile NAME`` profiles one benchmark with cProfile."""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import sys
import time
from typing import Any

from bench import chat, peers, ray_embed
from bench.chat import Row
from bench.server import BenchServer


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "docs/s":
        return f"{value:,.0f}/s"
    if unit == "B":
        return f"{value / 1e6:.2f} MB"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.0f} us"


def _as_rows(result: Any) -> list[Row]:
    """Rows from another benchmark module: our Row, or anything with the same attributes, or dicts."""
    rows = []
    for item in result if isinstance(result, (list, tuple)) else [result]:
        get = item.get if isinstance(item, dict) else lambda k, d=None, i=item: getattr(i, k, d)
        rows.append(
            Row(
                str(get("name")),
                float(get("ours") or 0.0),
                get("raw"),
                get("floor"),
                get("unit", "s"),
                get("ratio"),
                get("target"),
                get("baseline", ""),
            )
        )
    return rows


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'benchmark':<46}{'ours':>11}{'raw':>11}{'floor':>11}{'raw-in-LC':>11}{'ratio':>8}  "
        f"{'target':<22}{'':>5}{'vs raw-in-LC':>13}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        if getattr(row, "ideal_target", None) is not None:
            target = f"<= {row.ideal_target:.2f}x raw-in-LC"
        elif row.target is None:
            target = f"(vs {row.baseline})" if row.baseline else ""
        elif row.ratio is not None:
            target = f"<= {row.target:.2f}x {row.baseline}"
        else:
            target = f"<= {_fmt(row.target, row.unit)}"
        verdict = {True: "ok", False: "MISS", None: ""}[row.ok]
        vs_ideal = f"{row.vs_ideal:.2f}x" if getattr(row, "vs_ideal", None) is not None else ""
        print(
            f"{row.name:<46}{_fmt(row.ours, row.unit):>11}{_fmt(row.raw, row.unit):>11}"
            f"{_fmt(row.floor, row.unit):>11}{_fmt(getattr(row, 'ideal', None), row.unit):>11}{ratio:>8}  "
            f"{target:<22}{verdict:>5}{vs_ideal:>13}"
        )


def machine() -> str:
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    return (
        f"{platform.python_implementation()} {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}, nproc={os.cpu_count()}{load}"
    )


def run_all(quick: bool, with_peers: bool = True) -> int:
    started = time.perf_counter()
    print(f"machine: {machine()}")
    with BenchServer() as server:
        rows = chat.run(server.url, quick=quick)
        try:
            from bench import embeddings  # written separately; optional
        except ImportError:
            embeddings = None  # type: ignore[assignment]
        if embeddings is not None and hasattr(embeddings, "run"):
            quick_ok = "quick" in inspect.signature(embeddings.run).parameters
            rows[3:3] = _as_rows(embeddings.run(server.url, quick=quick) if quick_ok else embeddings.run(server.url))
        ray_note = ray_embed.available()
        if ray_note is None:
            rows[5:5] = ray_embed.run(server.url, quick=quick)
        peer_report = peers.run(server.url, quick=quick) if with_peers else None
    print_table(rows)
    print("ours = langchain_hfserverless; raw = httpx2 + orjson by hand; floor = a LangChain chat model doing no I/O;")
    print("raw-in-LC = the raw code inside a minimal LangChain chat model (the least any integration can cost).")
    print("Import rows: floor = the langchain_core modules we build on (httpx2 comes with them, via langsmith).")
    print("Times: medians over interleaved repeats; ratios: median of each repeat's back-to-back ratio.")
    print("Ray row: ours = examples/ray_embed.py on a local Ray (docs/s), raw = embed_documents in one process.")
    if ray_note is not None:
        print(ray_note)
    print("The bench server runs in its own process.")
    if peer_report is not None:
        print()
        peer_report.print()
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if all(r.ok is not False for r in rows) else 1


def profile(name: str) -> int:
    import cProfile
    import pstats

    with BenchServer() as server:
        fn = {
            "invoke": lambda: chat.bench_invoke(server.url, calls=200, repeats=3),
            "stream": lambda: chat.bench_stream(server.url, calls=20, repeats=3),
            "fanout": lambda: chat.bench_fanout(server.url, repeats=3),
        }[name]
        profiler = cProfile.Profile()
        profiler.enable()
        fn()
        profiler.disable()
    stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime"))
    stats.print_stats(os.environ.get("BENCH_FILTER", ""), 35)  # BENCH_FILTER=langchain_hfserverless: ours only
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("mode", nargs="?", default="all", choices=["all", "faults"])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-peers", action="store_true", help="skip the ChatOpenAI / ChatHuggingFace comparison")
    parser.add_argument("--profile", choices=["invoke", "stream", "fanout"], help="cProfile one benchmark")
    parser.add_argument("--requests", type=int, default=5_000, help="faults mode: logical requests")
    parser.add_argument("--concurrency", type=int, default=100, help="faults mode: requests in flight")
    args = parser.parse_args(argv)
    if args.profile:
        return profile(args.profile)
    if args.mode == "faults":
        from bench import faults

        return faults.main(requests=args.requests, concurrency=args.concurrency)
    return run_all(args.quick, with_peers=not args.no_peers)


if __name__ == "__main__":
    sys.exit(main())
