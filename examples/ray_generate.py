"""Batch chat generation over a dataset with Ray Data and ChatHFServerless; a rerun resumes where the last one stopped.

    pip install 'langchain-hfserverless[ray]'
    HF_TOKEN=hf_... python examples/ray_generate.py prompts.jsonl answers/      # rows: {"id": ..., "prompt": ...}

Each Ray worker gets a pickled copy of the chat model and answers one block of rows at a time with
``batch(..., max_concurrency=...)``, so at most ``workers x max_concurrency`` requests are in flight. The model's
``rate_limiter`` is the job's one :class:`ray_common.RateGate` actor: every request of every worker waits for its
turn, so the total rate never exceeds ``requests_per_second``. A row answered 429/502/503/504 pauses every worker
(Retry-After, else exponential back-off) and is tried again; a row that still fails is counted and left out.
Answers are written with their ids; running the same command again asks only for the rows not written yet.
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any

import numpy as np
import ray
import ray.data
from langchain_core.messages import AIMessage
from ray_common import (
    GateRateLimiter,
    RunSummary,
    backoff_seconds,
    block_summary,
    done_ids,
    is_retryable,
    once_per_process,
    pending,
    start_gate,
    write_part,
)

from langchain_hfserverless import ChatHFServerless

MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def generate_block(
    batch: dict[str, np.ndarray],
    *,
    chat: ChatHFServerless,
    gate: Any,
    out_dir: str,
    done: np.ndarray,
    attempts: int,
    max_concurrency: int,
    run: str,
) -> dict[str, list[Any]]:
    """One Ray Data task: answers the prompts of a block not yet written, writes the answers with their ids."""
    # Every request waits for the shared gate; retries pause every worker instead of one request's thread.
    model = once_per_process(
        run, lambda: chat.model_copy(update={"max_retries": 0, "rate_limiter": GateRateLimiter(gate)})
    )
    rows, skipped = pending(batch, done)
    prompts = [str(prompt) for prompt in batch["prompt"][rows]]
    answers: dict[int, AIMessage] = {}
    errors: dict[int, BaseException] = {}
    todo = list(range(len(prompts)))
    for attempt in range(attempts):
        results = model.batch(
            [prompts[i] for i in todo], config={"max_concurrency": max_concurrency}, return_exceptions=True
        )
        retry, pause = [], 0.0
        for i, result in zip(todo, results, strict=True):
            if isinstance(result, AIMessage):
                answers[i] = result
                errors.pop(i, None)
                continue
            errors[i] = result
            if is_retryable(result):
                retry.append(i)
                pause = max(pause, backoff_seconds(result, attempt))
        if not retry or attempt == attempts - 1:
            break
        ray.get(gate.pause.remote(pause))
        todo = retry
    written = sorted(answers)
    if written:
        write_part(
            out_dir,
            {
                "id": batch["id"][rows][written].tolist(),
                "answer": [answers[i].text for i in written],
                "finish_reason": [answers[i].response_metadata.get("finish_reason") for i in written],
            },
        )
    error = next((f"{type(exc).__name__}: {exc}" for exc in errors.values()), "")
    return block_summary(written=len(written), failed=len(errors), skipped=skipped, error=error)


def generate(
    ds: ray.data.Dataset,
    chat: ChatHFServerless,
    out_dir: str | os.PathLike[str],
    *,
    workers: int = 2,
    max_concurrency: int = 8,
    block_size: int = 64,
    requests_per_second: float | None = None,
    attempts: int = 5,
    num_cpus: float = 0.25,
) -> RunSummary:
    """Answer the ``prompt`` column of ``ds`` into ``out_dir`` (parquet: ``id``, ``answer``, ``finish_reason``),
    skipping ids already there.

    Args:
        ds: rows with an ``id`` (unique) and a ``prompt``.
        chat: the configured chat model (model, temperature, max_tokens...), shipped to every worker.
        out_dir: where each block's parquet file goes; shared by every worker.
        workers: Ray tasks generating at once (``map_batches``' task pool size).
        max_concurrency: requests in flight per worker (``batch``'s ``max_concurrency``).
        block_size: rows per Ray batch (one parquet file each).
        requests_per_second: total rate of the whole job; ``None``: no limit beyond the concurrency.
        attempts: tries per row; between tries every worker pauses (Retry-After or exponential back-off).
        num_cpus: CPUs Ray reserves per worker (the work is I/O: a fraction is enough).
    """
    out_dir = os.fspath(out_dir)
    blocks = ds.map_batches(
        generate_block,
        fn_kwargs={
            "chat": chat,
            "gate": start_gate(requests_per_second),
            "out_dir": out_dir,
            "done": done_ids(out_dir),
            "attempts": attempts,
            "max_concurrency": max_concurrency,
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
    if not os.environ.get("HF_TOKEN"):
        print("Set HF_TOKEN first.")
        return 2
    prompts, out_dir = argv
    chat = ChatHFServerless(model=MODEL, max_tokens=256, temperature=0)
    chat.invoke("Say OK.")  # fail fast on a wrong token or model, before starting workers
    ray.init()
    summary = generate(ray.data.read_json(prompts), chat, out_dir, requests_per_second=10)
    print(f"written {summary.written}, failed {summary.failed}, already done {summary.skipped}")
    for error in summary.errors:
        print(f"  {error}")
    if summary.failed:
        print("Run the same command again to retry the failed rows.")
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
