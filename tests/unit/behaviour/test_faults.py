"""Fault-injected load: every request ends as its plan says — the answer, or the right typed error after exactly
the right number of attempts — none hangs, and no connection is left open (see ``bench/faults.py``)."""

from __future__ import annotations

import pytest

from bench.faults import FAULTS, Plan, run_load
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessConnectionError,
    HFServerlessRateLimitError,
    HFServerlessTimeoutError,
)


@pytest.mark.parametrize(
    ("stream", "steps", "max_retries", "expected"),
    [
        (False, (), 2, (None, 1)),
        (False, ("429", "503"), 2, (None, 3)),
        (False, ("429", "429", "429"), 2, (HFServerlessRateLimitError, 3)),
        (True, ("503",), 0, (HFServerlessAPIError, 1)),
        (False, ("reset", "reset"), 1, (HFServerlessConnectionError, 2)),
        (False, ("500", "429"), 2, (HFServerlessAPIError, 1)),
        (True, ("slow",), 2, (HFServerlessTimeoutError, 1)),
        (True, ("truncated",), 2, (HFServerlessConnectionError, 1)),
        (False, ("truncated",), 2, (None, 2)),  # a cut body before any answer is retried like a reset
        (True, ("429", "midstream"), 2, (HFServerlessAPIError, 2)),
    ],
)
def test_plan_oracle(stream: bool, steps: tuple[str, ...], max_retries: int, expected: tuple) -> None:
    """The oracle the load test holds every request to."""
    assert Plan("r", stream, steps, max_retries).expected() == expected


async def test_fault_injected_load_ends_every_request_as_planned() -> None:
    report = await run_load(480, concurrency=48, seed=7, timeout=1.5, bound=30.0)

    assert report.problems == [], report.summary()
    # The run exercised what it claims: every fault kind, retries, and every kind of ending.
    assert set(report.faults_injected) == set(FAULTS), report.summary()
    assert report.server_requests > report.requests
    assert {1, 2, 3} <= set(report.attempts)
    assert {
        "success",
        "HFServerlessRateLimitError",
        "HFServerlessAPIError",
        "HFServerlessConnectionError",
        "HFServerlessTimeoutError",
    } <= set(report.outcomes), report.summary()
    assert sum(report.outcomes.values()) == report.requests
