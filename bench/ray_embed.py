"""The Ray Data embedding recipe (``examples/ray_embed.py``) against ``embed_documents`` in one process, in docs/s.

Both embed the same 5,000 texts against the same stand-in server, with the same adapter settings (batches of 32,
4 in flight per process). The Ray side runs the whole recipe on a local Ray (2 CPUs, 2 workers): reading ids
already done, the shared rate gate (no limit), the requests, and one parquet file per block of 512 rows; Ray's own
start-up is paid once, before timing. Medians over interleaved repeats. Needs ``pip install 'ray[data]'``; without
it, ``python -m bench`` leaves the row out and says so.

    python -m bench.ray_embed            # standalone: starts its own stand-in server
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from bench.chat import Row
from bench.embeddings import BATCH, CONCURRENCY, PATH, TEXTS
from bench.server import BenchServer
from langchain_hfserverless.embeddings import HFServerlessEmbeddings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WORKERS = 2
BLOCK = 512
UNIT = "docs/s"


def available() -> str | None:
    """Why the Ray row cannot run here, or ``None`` when it can."""
    try:
        import ray.data  # noqa: F401
    except ImportError as exc:
        return f"Ray row skipped: ray[data] is not installed ({exc.name})"
    return None


def _recipe() -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    import ray_embed

    return ray_embed


def bench_ray(base: str, repeats: int) -> Row:
    import ray
    import ray.data

    recipe = _recipe()
    embeddings = HFServerlessEmbeddings(base_url=base + PATH, batch_size=BATCH, max_concurrency=CONCURRENCY)
    path = os.pathsep.join(p for p in (str(EXAMPLES), str(EXAMPLES.parent), os.environ.get("PYTHONPATH")) if p)
    ray.init(
        num_cpus=WORKERS,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        ds = ray.data.from_items([{"id": i, "text": text} for i, text in enumerate(TEXTS)]).materialize()
        with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:

            def ray_run(n: int) -> float:
                started = time.perf_counter()
                summary = recipe.embed_corpus(ds, embeddings, Path(tmp) / str(n), workers=WORKERS, block_size=BLOCK)
                elapsed = time.perf_counter() - started
                if summary.written != len(TEXTS):
                    raise SystemExit(f"Ray recipe: wrong answer: {summary}")
                return len(TEXTS) / elapsed

            def one_process() -> float:
                started = time.perf_counter()
                if len(embeddings.embed_documents(TEXTS)) != len(TEXTS):
                    raise SystemExit("embed_documents: wrong answer")
                return len(TEXTS) / (time.perf_counter() - started)

            ray_run(-1)  # warm-up: Ray's workers start, import the package, open their pools
            one_process()
            ours, single = [], []
            for n in range(repeats):
                single.append(one_process())
                ours.append(ray_run(n))
    finally:
        ray.shutdown()
    ratio = statistics.median(o / s for o, s in zip(ours, single, strict=True))
    return Row(
        f"Ray Data embed 5,000 ({WORKERS} workers) vs 1 proc",
        statistics.median(ours),
        statistics.median(single),
        None,
        UNIT,
        ratio,
        None,
        "1 process",
    )


def run(url: str, quick: bool = False) -> list[Row]:
    """The Ray row against the stand-in server at ``url`` (used by ``python -m bench``)."""
    return [bench_ray(url, repeats=2 if quick else 5)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ray_embed", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    if reason := available():
        print(reason)
        return 0
    with BenchServer() as server:
        (row,) = run(server.url, quick=args.quick)
    print(f"{row.name}: Ray {row.ours:,.0f} docs/s, one process {row.raw:,.0f} docs/s, ratio {row.ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
