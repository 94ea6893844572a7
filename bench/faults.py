"""Fault-injected load: a loopback router that misbehaves on purpose, and a load that must come through it.

Each logical request carries its id in the prompt; the server looks up that request's *plan* — what to do on
its 1st, 2nd, ... attempt (429 with ``Retry-After``, 503 "loading" with ``estimated_time``, a connection reset,
a truncated body or SSE stream, a body slower than the timeout, a plain 500, an error inside a 200 stream) — and
counts the attempts. From the plan and ``max_retries`` the outcome is known in advance, so every request is held
to it: the right answer, or the right typed error after exactly the right number of attempts, within a bound;
and after the load no connection is left open.

``python -m bench faults`` runs the long version; ``tests/unit/behaviour/test_faults.py`` a bounded one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.server import (
    CHUNKED_END,
    JSON_HEADERS,
    SSE_HEADERS,
    Connection,
    Request,
    chunk,
    chunked_head,
    response_bytes,
    serve_in_thread,
    sse_event,
    stream_chunk,
)
from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessConnectionError,
    HFServerlessError,
    HFServerlessRateLimitError,
    HFServerlessTimeoutError,
)

# What the server can do on one attempt. "ok" answers properly.
RETRYABLE = {  # fault -> the error it becomes once retries run out
    "429": HFServerlessRateLimitError,
    "503": HFServerlessAPIError,
    "reset": HFServerlessConnectionError,
}
FINAL = {  # fault -> the error it becomes at once (never retried)
    "500": HFServerlessAPIError,
    "slow": HFServerlessTimeoutError,
    "midstream": HFServerlessAPIError,  # stream: an error event after some chunks; invoke: a 200 error body
    "truncated": HFServerlessConnectionError,  # stream: cut after a partial event; invoke: see below
}
FAULTS = (*RETRYABLE, *FINAL)
RETRY_AFTER = "0.01"
ESTIMATED_TIME = 0.01


@dataclass(frozen=True)
class Plan:
    """One logical request: streamed or not, and the fault of each attempt (then "ok")."""

    rid: str
    stream: bool
    steps: tuple[str, ...]
    max_retries: int

    def expected(self) -> tuple[type[HFServerlessError] | None, int]:
        """The error type (``None``: success) and the number of attempts the server must see."""
        for attempt in range(self.max_retries + 1):
            step = self.steps[attempt] if attempt < len(self.steps) else "ok"
            if step == "ok":
                return None, attempt + 1
            # A non-streamed body cut short is a broken connection before any answer: retried like a reset.
            retryable = step in RETRYABLE or (step == "truncated" and not self.stream)
            if not retryable or attempt == self.max_retries:
                return (RETRYABLE.get(step) or FINAL[step]), attempt + 1
        raise AssertionError("unreachable")

    def answer(self) -> str:
        return f"answer to {self.rid}"


def make_plans(n: int, *, seed: int, retry_choices: Sequence[int] = (2, 1, 0)) -> list[Plan]:
    """``n`` plans: about a third clean, the rest with one to three faults drawn from every kind."""
    rng = random.Random(seed)
    plans = []
    for i in range(n):
        faults = 0 if rng.random() < 0.35 else rng.choice((1, 1, 2, 3))
        steps = tuple(rng.choice(FAULTS) for _ in range(faults))
        retries = retry_choices[i % len(retry_choices)]
        plans.append(Plan(f"req-{i}", stream=rng.random() < 0.5, steps=steps, max_retries=retries))
    return plans


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


class FaultServer:
    """The misbehaving router: answers each attempt of each planned request as its plan says."""

    def __init__(self, plans: Sequence[Plan], *, stall: float) -> None:
        self.plans = {p.rid: p for p in plans}
        self.attempts: Counter[str] = Counter()
        self.stall = stall
        self.unplanned = 0

    async def handle(self, request: Request, conn: Connection) -> None:
        try:
            body = request.json()
            rid = body["messages"][-1]["content"]
            plan = self.plans[rid]
        except (ValueError, KeyError, TypeError, IndexError):
            self.unplanned += 1
            conn.write(response_bytes(400, JSON_HEADERS, b'{"error": "unplanned request"}'))
            return
        self.attempts[rid] += 1
        attempt = self.attempts[rid]
        step = plan.steps[attempt - 1] if attempt <= len(plan.steps) else "ok"
        await getattr(self, f"_{step}")(conn, plan, stream=body.get("stream") is True)

    # -- one method per behaviour
    async def _ok(self, conn: Connection, plan: Plan, *, stream: bool) -> None:
        if not stream:
            body = orjson.dumps(
                {
                    "id": plan.rid,
                    "model": "fault-model",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": plan.answer()},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
                }
            )
            conn.write(response_bytes(200, JSON_HEADERS, body))
            return
        events = [sse_event(stream_chunk(p, role=i == 0)) for i, p in enumerate(_pieces(plan.answer()))]
        events += [sse_event(stream_chunk(finish="stop")), b"data: [DONE]\n\n"]
        conn.write(chunked_head(200, SSE_HEADERS) + b"".join(chunk(e) for e in events) + CHUNKED_END)

    async def _429(self, conn: Connection, plan: Plan, *, stream: bool) -> None:
        headers = {**JSON_HEADERS, "retry-after": RETRY_AFTER}
        conn.write(response_bytes(429, headers, b'{"error": "Rate limit reached. Please retry later."}'))

    async def _503(self, conn: Connection, plan: Plan, *, stream: bool) -> None:
        body = orjson.dumps({"error": "Model fault-model is currently loading", "estimated_time": ESTIMATED_TIME})
        conn.write(response_bytes(503, JSON_HEADERS, body))

    async def _500(self, conn: Connection, plan: Plan, *, stream: bool) -> None:
        conn.write(response_bytes(500, JSON_HEADERS, b'{"error": "Internal server error"}'))

    async def _reset(self, conn: Connection, plan: Plan, *, stream: bool) -> None:
        conn.reset()

    async def _slow(self, conn: Connection, plan: Plan, *, stream: bool) -> None:
        # Headers and the first bytes arrive; the rest takes longer than the client's timeout.
        if stream:
            conn.write(chunked_head(200, SSE_HEADERS) + chunk(sse_event(stream_chunk("slow ", role=True))))
        else:
            conn.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{"id":')
        await asyncio.wait([conn.closed], timeout=self.stall)  # until the client gives up (or the stall ends)
        conn.close()

    async def _truncated(self, conn: Connection, plan: Plan, *, stream: bool) -> None:
        if stream:
            events = sse_event(stream_chunk("cut ", role=True)) + b'data: {"id": "cut", "choi'
            conn.write(chunked_head(200, SSE_HEADERS) + chunk(events))
        else:
            conn.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{"id":')
        conn.close()  # without the rest of the body, or the chunked terminator

    async def _midstream(self, conn: Connection, plan: Plan, *, stream: bool) -> None:
        error = {
            "error": "Request failed during generation: Server error: CUDA out of memory",
            "error_type": "generation",
        }
        if not stream:
            conn.write(response_bytes(200, JSON_HEADERS, orjson.dumps(error)))
            return
        events = [sse_event(stream_chunk("partial ", role=True)), sse_event(error)]
        conn.write(chunked_head(200, SSE_HEADERS) + b"".join(chunk(e) for e in events) + CHUNKED_END)


@dataclass
class LoadReport:
    """What happened to every request, and every way in which that differs from what had to happen."""

    requests: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    attempts: Counter[int] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    server_requests: int = 0
    connections_opened: int = 0

    def summary(self) -> str:
        lines = [
            f"{self.requests} logical requests, {self.server_requests} HTTP requests, "
            f"{self.connections_opened} connections, {self.seconds:.1f} s",
            "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
            "attempts per request: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.attempts.items())),
            "faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(self.faults_injected.items())),
            f"problems: {len(self.problems)}",
            *("  " + p for p in self.problems[:20]),
        ]
        return "\n".join(lines)


async def _one(llm: ChatHFServerless, plan: Plan, bound: float) -> tuple[str | None, BaseException | None]:
    async def call() -> str:
        if plan.stream:
            parts = [chunk.content async for chunk in llm.astream(plan.rid)]
            return "".join(str(p) for p in parts)
        return str((await llm.ainvoke(plan.rid)).content)

    try:
        return await asyncio.wait_for(call(), bound), None
    except Exception as exc:  # judged below: only typed errors pass
        return None, exc


def _judge(plan: Plan, text: str | None, exc: BaseException | None, seen: int, report: LoadReport) -> None:
    expected_error, expected_attempts = plan.expected()
    label = f"{plan.rid} (stream={plan.stream}, steps={plan.steps}, max_retries={plan.max_retries})"
    if isinstance(exc, asyncio.TimeoutError) and not isinstance(exc, HFServerlessError):
        report.problems.append(f"{label}: hung past the bound")
    elif exc is not None and not isinstance(exc, HFServerlessError):
        report.problems.append(f"{label}: untyped error {type(exc).__name__}: {exc}")
    elif expected_error is None and exc is not None:
        report.problems.append(f"{label}: expected success, got {type(exc).__name__}: {exc}")
    elif expected_error is None and text != plan.answer():
        report.problems.append(f"{label}: wrong answer {text!r}")
    elif expected_error is not None and not isinstance(exc, expected_error):
        got = f"{type(exc).__name__}: {exc}" if exc else f"success {text!r}"
        report.problems.append(f"{label}: expected {expected_error.__name__}, got {got}")
    if seen > plan.max_retries + 1:
        report.problems.append(f"{label}: {seen} attempts exceed max_retries + 1")
    elif seen != expected_attempts:
        report.problems.append(f"{label}: {seen} attempts, expected {expected_attempts}")
    report.outcomes[type(exc).__name__ if exc is not None else "success"] += 1
    report.attempts[seen] += 1


async def _eventually(check: Any, timeout: float = 5.0) -> bool:
    """Poll ``check()`` until true: the server learns of a closed socket a moment after the client closes it."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def run_load(
    requests: int = 400,
    *,
    concurrency: int = 40,
    seed: int = 7,
    timeout: float = 1.5,
    bound: float = 30.0,
) -> LoadReport:
    """Run ``requests`` planned requests through a fault server with ``concurrency`` in flight; judge them all."""
    plans = make_plans(requests, seed=seed)
    fault_server = FaultServer(plans, stall=timeout * 4)
    server = serve_in_thread(fault_server.handle)
    report = LoadReport(requests=requests)
    models = {
        retries: ChatHFServerless(base_url=server.url, model="fault-model", max_retries=retries, timeout=timeout)
        for retries in {p.max_retries for p in plans}
    }
    started = time.perf_counter()
    try:
        gate = asyncio.Semaphore(concurrency)

        async def guarded(plan: Plan) -> tuple[str | None, BaseException | None]:
            async with gate:
                return await _one(models[plan.max_retries], plan, bound)

        results = await asyncio.gather(*(guarded(p) for p in plans))
        report.seconds = time.perf_counter() - started
        for plan, (text, exc) in zip(plans, results, strict=True):
            _judge(plan, text, exc, fault_server.attempts[plan.rid], report)
            expected_error, attempts = plan.expected()
            report.faults_injected.update(plan.steps[:attempts] if expected_error else plan.steps[: attempts - 1])
        if fault_server.unplanned:
            report.problems.append(f"{fault_server.unplanned} requests the server could not attribute")
        await _check_connections(models.values(), server.stats, report)
        report.server_requests = server.stats.requests
        report.connections_opened = server.stats.accepted
    finally:
        for llm in models.values():
            await llm._transport.aclose()
        server.stop()
    return report


async def _check_connections(models: Any, stats: Any, report: LoadReport) -> None:
    """No request is still holding a connection; the server's open sockets are the pool's; closing ends them."""
    pools = [llm._transport.async_client._transport._pool for llm in models]
    busy = [c for pool in pools for c in pool.connections if not (c.is_idle() or c.is_closed())]
    if busy:
        report.problems.append(f"{len(busy)} pooled connections still busy after every request ended")
    live = sum(1 for pool in pools for c in pool.connections if not c.is_closed())
    if not await _eventually(lambda: stats.open <= live):
        report.problems.append(f"server holds {stats.open} open connections, the client pools only {live}")
    for llm in models:
        await llm._transport.aclose()
    if not await _eventually(lambda: stats.open == 0):
        report.problems.append(f"{stats.open} connections still open after the clients closed")


def main(requests: int = 5_000, concurrency: int = 100, seed: int = 11) -> int:
    """The long run: print the report; exit status 1 on any problem."""
    logging.getLogger("langchain_hfserverless").setLevel(logging.ERROR)  # one retry warning per fault is noise here
    print(f"fault-injected load: {requests} requests, {concurrency} in flight, faults {', '.join(FAULTS)}")
    report = asyncio.run(run_load(requests, concurrency=concurrency, seed=seed))
    print(report.summary())
    return 1 if report.problems else 0
