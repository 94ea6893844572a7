"""``python -m bench.ab [REV] [--rows invoke,stream,fanout]``: chat rows (default invoke and stream) of the working
tree against the package at git ``REV`` (default ``HEAD``), back to back under the same load.

Two versions of one package cannot share an interpreter, so each round runs one child process per version, in
turn (the order alternates), against one bench server; each child reports its own ratio to the raw code inside a
minimal LangChain model (measured in the same child, so load cancels out). The table gives the median of rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from bench.server import BenchServer

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys
sys.path.insert(1, {bench_root!r})
from bench import chat
benches = {{
    "invoke": lambda: chat.bench_invoke({url!r}, repeats={repeats}),
    "stream": lambda: chat.bench_stream({url!r}, repeats={repeats}),
    "fanout": lambda: chat.bench_fanout({url!r}, repeats=max(3, {repeats} // 2)),
}}
rows = [benches[name]() for name in {rows!r}]
print(json.dumps([[r.name, r.ours, r.ideal, r.vs_ideal] for r in rows]))
"""


def _export(rev: str, into: str) -> str:
    """The package as it is at ``rev``, unpacked under ``into``; returns the folder to import it from."""
    archive = subprocess.run(
        ["git", "archive", rev, "langchain_hfserverless"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _child(package_root: str, url: str, repeats: int, rows: list[str]) -> list[list[object]]:
    code = _CHILD.format(bench_root=str(ROOT), url=url, repeats=repeats, rows=rows)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=package_root, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("rev", nargs="?", default="HEAD", help="the git revision to compare with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=4, help="child processes per version")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats inside each child")
    parser.add_argument("--rows", default="invoke,stream", help="comma-separated: invoke, stream, fanout")
    args = parser.parse_args(argv)
    rows = args.rows.split(",")
    results: dict[str, list[list[list[object]]]] = {args.rev: [], "working tree": []}
    with tempfile.TemporaryDirectory() as tmp, BenchServer() as server:
        roots = {args.rev: _export(args.rev, tmp), "working tree": str(ROOT)}
        for round_ in range(args.rounds):
            order = list(roots) if round_ % 2 == 0 else list(reversed(roots))
            for name in order:
                results[name].append(_child(roots[name], server.url, args.repeats, rows))
    print(f"{'benchmark':<34}{'version':<16}{'ours':>11}{'minimal model':>15}{'ratio':>8}")
    for row in range(len(results["working tree"][0])):
        for name, runs in results.items():
            ours = statistics.median(float(r[row][1]) for r in runs)  # type: ignore[arg-type]
            ideal = statistics.median(float(r[row][2]) for r in runs)  # type: ignore[arg-type]
            ratio = statistics.median(float(r[row][3]) for r in runs)  # type: ignore[arg-type]
            print(f"{runs[0][row][0]!s:<34}{name:<16}{ours * 1e3:>9.3f}ms{ideal * 1e3:>13.3f}ms{ratio:>7.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
