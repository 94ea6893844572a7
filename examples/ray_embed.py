"""Embed a corpus with Ray Data ``map_batches`` and HFServerlessEmbeddings; a rerun resumes where the last one stopped.

    pip install 'langchain-hfserverless[ray]'
    HF_TOKEN=hf_... python examples/ray_embed.py corpus.jsonl vectors/       # rows: {"id": ..., "text": ...}
    EMBED_BASE_URL=http://tei:8080/embed python examples/ray_embed.py corpus.jsonl vectors/   # your own TEI

Each Ray worker gets a pickled copy of the embeddings object (settings only; it opens its own connections) and
embeds one block of rows at a time: ``batch_size`` texts per request, ``max_concurrency`` requests in flight, so at
most ``workers x max_concurrency`` requests are in flight in the whole job. One :class:`ray_common.RateGate` actor
bounds the total request rate and makes every worker back off when one of them is told to (429/503 + Retry-After).
Each block's vectors are written to ``out_dir`` with their ids; a block that still fails after ``attempts`` is
counted and left out, and running the same command again embeds only the ids not written yet.
"""

from __future__ import annotations

import math
import os
import sys
import uuid
from typing import Any

import numpy as np
import ray
import ray.data
from ray_common import (
    RunSummary,
    block_summary,
    call_with_shared_backoff,
    done_ids,
    once_per_process,
    pending,
    start_gate,
    write_part,
)

from langchain_hfserverless import HFServerlessEmbeddings

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def embed_block(
    batch: dict[str, np.ndarray],
    *,
    embeddings: HFServerlessEmbeddings,
    gate: Any,
    out_dir: str,
    done: np.ndarray,
    attempts: int,
    run: str,
) -> dict[str, list[Any]]:
    """One Ray Data task: embeds the rows of a block not yet written, writes their vectors with their ids."""
    # Retries go through the shared gate (every worker pauses), not each request on its own.
    adapter = once_per_process(run, lambda: embeddings.model_copy(update={"max_retries": 0}))
    rows, skipped = pending(batch, done)
    if not rows.size:
        return block_summary(skipped=skipped)
    texts = [str(text) for text in batch["text"][rows]]
    requests = math.ceil(len(texts) / adapter.batch_size)
    try:
        vectors = call_with_shared_backoff(gate, requests, lambda: adapter.embed_documents(texts), attempts)
    except Exception as exc:  # the block stays unwritten: the next run retries it
        return block_summary(failed=len(texts), skipped=skipped, error=f"{type(exc).__name__}: {exc}")
    write_part(out_dir, {"id": batch["id"][rows].tolist(), "vector": vectors})
    return block_summary(written=len(texts), skipped=skipped)


def embed_corpus(
    ds: ray.data.Dataset,
    embeddings: HFServerlessEmbeddings,
    out_dir: str | os.PathLike[str],
    *,
    workers: int = 2,
    block_size: int = 256,
    requests_per_second: float | None = None,
    attempts: int = 5,
    num_cpus: float = 0.25,
) -> RunSummary:
    """Embed the ``text`` column of ``ds`` into ``out_dir`` (parquet: ``id``, ``vector``), skipping ids already there.

    Args:
        ds: rows with an ``id`` (unique) and a ``text``.
        embeddings: the configured adapter; its ``batch_size`` and ``max_concurrency`` apply in every worker.
        out_dir: where each block's parquet file goes; shared by every worker.
        workers: Ray tasks embedding at once (``map_batches``' task pool size).
        block_size: rows per Ray batch (one parquet file each); a failed block is retried whole.
        requests_per_second: total rate of the whole job; ``None``: no limit beyond the concurrency.
        attempts: tries per block; between tries every worker pauses (Retry-After or exponential back-off).
        num_cpus: CPUs Ray reserves per worker (the work is I/O: a fraction is enough).
    """
    out_dir = os.fspath(out_dir)
    blocks = ds.map_batches(
        embed_block,
        fn_kwargs={
            "embeddings": embeddings,
            "gate": start_gate(requests_per_second),
            "out_dir": out_dir,
            "done": done_ids(out_dir),
            "attempts": attempts,
            "run": uuid.uuid4().hex,
        },
        batch_size=block_size,
        compute=ray.data.TaskPoolStrategy(size=workers),
        num_cpus=num_cpus,
    )
    return RunSummary.of(blocks.iter_rows())


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    corpus, out_dir = argv
    base_url = os.environ.get("EMBED_BASE_URL")
    if not (base_url or os.environ.get("HF_TOKEN")):
        print("Set HF_TOKEN (the Hugging Face router) or EMBED_BASE_URL (your own server) first.")
        return 2
    embeddings = (
        HFServerlessEmbeddings(base_url=base_url)
        if base_url
        else HFServerlessEmbeddings(model=MODEL, provider="hf-inference")
    )
    embeddings.embed_query("warm-up")  # fail fast on a wrong token or URL, before starting workers
    ray.init()
    summary = embed_corpus(ray.data.read_json(corpus), embeddings, out_dir, requests_per_second=20)
    print(f"written {summary.written}, failed {summary.failed}, already done {summary.skipped}")
    for error in summary.errors:
        print(f"  {error}")
    if summary.failed:
        print("Run the same command again to retry the failed rows.")
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
