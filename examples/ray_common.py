"""What the two Ray Data recipes share: one rate gate for every worker, and results that a rerun resumes from.

``examples/ray_embed.py`` embeds a corpus, ``examples/ray_generate.py`` runs chat generation over a dataset; both
use this module (``pip install 'langchain-hfserverless[ray]'``). The pieces:

- :class:`RateGate` (run as one Ray actor) bounds the *total* request rate of every worker: each worker reserves
  its requests before sending them, and the gate hands out start times spaced ``1 / requests_per_second`` apart.
  When any worker is answered 429/502/503/504 (or loses its connection), it :meth:`RateGate.pause` s the gate for
  what the server asked (``Retry-After`` / ``estimated_time``) or an exponential back-off: no worker starts a new
  request until the pause ends. Requests already granted still go out (at most one block per worker).
- Results go to ``out_dir`` as one parquet file per block, written atomically (a temporary name, then a rename),
  each row keyed by its input ``id``. A rerun reads the ids already written and requests only the others, so a
  job that failed or was interrupted resumes where it stopped. ``out_dir`` must be a filesystem every worker
  shares (local disk on one machine, NFS or a mounted bucket on a cluster).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray
from langchain_core.rate_limiters import BaseRateLimiter

from langchain_hfserverless import (
    HFServerlessConnectionError,
    HFServerlessContextOverflowError,
    HFServerlessError,
)

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 60.0


class RateGate:
    """Start times for the requests of every worker: at most ``requests_per_second`` in total, none while paused.

    Plain Python (tested without Ray); the recipes run one instance as a Ray actor (:func:`start_gate`).
    """

    def __init__(self, requests_per_second: float | None = None, clock: Callable[[], float] = time.monotonic):
        self._interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._clock = clock
        self._next = 0.0
        self._paused_until = 0.0

    def reserve(self, requests: int = 1) -> float:
        """Reserve ``requests`` sends; returns the seconds to wait before starting them."""
        now = self._clock()
        start = max(now, self._next, self._paused_until)
        self._next = start + requests * self._interval
        return start - now

    def pause(self, seconds: float) -> None:
        """No reservation starts within ``seconds`` from now (a later pause never shortens an earlier one)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)


def start_gate(requests_per_second: float | None) -> Any:
    """One :class:`RateGate` actor for the whole job (no CPU reserved: it only does arithmetic)."""
    return ray.remote(num_cpus=0)(RateGate).remote(requests_per_second)


def is_retryable(exc: BaseException) -> bool:
    """What the transport itself would retry: 429, 502, 503, 504 and lost connections; never an overflow."""
    if isinstance(exc, HFServerlessContextOverflowError):
        return False
    if isinstance(exc, HFServerlessConnectionError):
        return True
    return isinstance(exc, HFServerlessError) and exc.status_code in RETRYABLE_STATUS


def backoff_seconds(exc: BaseException, attempt: int) -> float:
    """What the server asked for, else exponential from ``FIRST_BACKOFF``; capped at ``MAX_BACKOFF``."""
    asked = getattr(exc, "retry_after", None)
    return min(float(asked) if asked is not None else FIRST_BACKOFF * 2**attempt, MAX_BACKOFF)


def call_with_shared_backoff(gate: Any, requests: int, call: Callable[[], T], attempts: int) -> T:
    """Reserve ``requests`` sends with the gate, run ``call``; on a retryable error pause every worker, retry."""
    for attempt in range(attempts):
        time.sleep(ray.get(gate.reserve.remote(requests)))
        try:
            return call()
        except HFServerlessError as exc:
            if attempt == attempts - 1 or not is_retryable(exc):
                raise
            ray.get(gate.pause.remote(backoff_seconds(exc, attempt)))
    raise AssertionError("unreachable")  # attempts >= 1


class GateRateLimiter(BaseRateLimiter):
    """langchain-core's rate-limiter interface over the shared gate: a chat model waits for it before each request
    (``ChatHFServerless(rate_limiter=...)``), so ``batch`` keeps to the job's total rate."""

    def __init__(self, gate: Any) -> None:
        self.gate = gate

    def acquire(self, *, blocking: bool = True) -> bool:
        time.sleep(ray.get(self.gate.reserve.remote(1)))
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        import asyncio

        await asyncio.sleep(await self.gate.reserve.remote(1))
        return True


_PREPARED: dict[str, Any] = {}


def once_per_process(run: str, build: Callable[[], T]) -> T:
    """``build()`` once per worker process and run: the tasks of a run that land in one process share the adapter it
    built (its learned route, its warm connections) instead of unpickling and rebuilding one per block."""
    if run not in _PREPARED:
        _PREPARED.clear()  # a new run: let the last one's adapter go
        _PREPARED[run] = build()
    return cast(T, _PREPARED[run])


# ---------------------------------------------------------------------------------------------- results on disk


def write_part(out_dir: str | os.PathLike[str], columns: dict[str, Any]) -> Path:
    """One block's results as ``part-<uuid>.parquet``: written under a temporary name, then renamed, so a reader
    (or a rerun) never sees half a file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    final = out / f"part-{uuid.uuid4().hex}.parquet"
    partial = out / f".{final.name}.partial"
    pq.write_table(pa.table(columns), partial)
    os.replace(partial, final)
    return final


def _parts(out_dir: str | os.PathLike[str]) -> list[Path]:
    out = Path(out_dir)
    return sorted(out.glob("part-*.parquet")) if out.is_dir() else []


def done_ids(out_dir: str | os.PathLike[str]) -> np.ndarray:
    """The ids already written to ``out_dir`` (empty when nothing is)."""
    ids = [pq.read_table(part, columns=["id"]).column("id").to_numpy(zero_copy_only=False) for part in _parts(out_dir)]
    return np.concatenate(ids) if ids else np.array([])


def read_results(out_dir: str | os.PathLike[str]) -> pa.Table:
    """Every row written to ``out_dir``, sorted by id."""
    parts = [pq.read_table(part) for part in _parts(out_dir)]
    return pa.concat_tables(parts).sort_by("id") if parts else pa.table({"id": pa.array([])})


def pending(batch: dict[str, np.ndarray], done: np.ndarray) -> tuple[np.ndarray, int]:
    """Positions of the rows of ``batch`` not yet written, and how many were skipped."""
    keep = ~np.isin(batch["id"], done) if done.size else np.ones(len(batch["id"]), dtype=bool)
    return np.flatnonzero(keep), int((~keep).sum())


# ---------------------------------------------------------------------------------------------- job summary


def block_summary(written: int = 0, failed: int = 0, skipped: int = 0, error: str = "") -> dict[str, list[Any]]:
    """What a block returns to the driver: counts, not results (those are on disk)."""
    return {"written": [written], "failed": [failed], "skipped": [skipped], "error": [error]}


@dataclass
class RunSummary:
    """What one run did: rows written, rows that failed (a rerun retries them), rows already done and skipped."""

    written: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, blocks: Iterable[dict[str, Any]]) -> RunSummary:
        summary = cls()
        for block in blocks:
            summary.written += int(block["written"])
            summary.failed += int(block["failed"])
            summary.skipped += int(block["skipped"])
            if block["error"] and len(summary.errors) < 5:
                summary.errors.append(str(block["error"]))
        return summary
