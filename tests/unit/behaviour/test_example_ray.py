"""The Ray Data recipes (``examples/ray_embed.py``, ``examples/ray_generate.py``) against a loopback server.

Ray runs locally (2 CPUs, no dashboard); its workers are processes of their own, so the server's request log is
what proves which texts were asked for, when. The gate's arithmetic is tested without Ray, on a fake clock.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.loopback import Answer, LoopbackServer, Seen

ray = pytest.importorskip("ray", reason="ray is an optional extra: pip install 'langchain-hfserverless[ray]'")
pytest.importorskip("ray.data", reason="the recipes need Ray Data: pip install 'ray[data]'")

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

import ray_common  # noqa: E402
import ray_embed  # noqa: E402
import ray_generate  # noqa: E402

JSON = {"content-type": "application/json"}
TOKEN = "hf_ray_recipe_token"


class Responder:
    """Stands in for the loopback queue (see tests/unit/test_embeddings.py): answers each request from what it
    asked, and stamps its arrival time."""

    def __init__(self, server: LoopbackServer, answer: Callable[[Seen], Answer]) -> None:
        self.server = server
        self.answer = answer
        self.arrivals: list[float] = []

    def __bool__(self) -> bool:
        return True

    def popleft(self) -> Answer:
        self.arrivals.append(time.monotonic())
        return self.answer(self.server.requests[-1])


def authorization(seen: Seen) -> str | None:
    return {key.lower(): value for key, value in seen.headers.items()}.get("authorization")


def respond(server: LoopbackServer, answer: Callable[[Seen], Answer]) -> Responder:
    responder = Responder(server, answer)
    server.queue = responder  # type: ignore[assignment]
    return responder


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    hf_home = tmp_path_factory.mktemp("hf-home")
    env = {
        # Workers import the recipes and the package from this tree, and never reach the Hub.
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLES), os.environ.get("PYTHONPATH", "")]),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(hf_home),
        "HF_TOKEN_PATH": str(hf_home / "no-token"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": env},
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


# ---------------------------------------------------------------------------------------------- the gate, no Ray


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_gate_spaces_reservations_by_the_total_rate() -> None:
    clock = FakeClock()
    gate = ray_common.RateGate(requests_per_second=10, clock=clock)
    assert gate.reserve() == 0.0
    assert gate.reserve() == pytest.approx(0.1)  # another worker, same instant: one interval later
    assert gate.reserve(3) == pytest.approx(0.2)  # a block of 3 requests starts after both...
    assert gate.reserve() == pytest.approx(0.5)  # ...and holds 3 intervals
    clock.now += 10  # idle time is not banked into a burst
    assert gate.reserve() == 0.0
    assert gate.reserve() == pytest.approx(0.1)


def test_gate_pause_holds_every_reservation_and_never_shortens() -> None:
    clock = FakeClock()
    gate = ray_common.RateGate(requests_per_second=None, clock=clock)
    assert gate.reserve() == 0.0
    gate.pause(2.0)
    gate.pause(0.5)  # a shorter pause from another worker does not cut the first one
    assert gate.reserve() == pytest.approx(2.0)
    assert gate.reserve() == pytest.approx(2.0)  # no rate: every worker starts right when the pause ends
    clock.now += 2.5
    assert gate.reserve() == 0.0


# ---------------------------------------------------------------------------------------------- embeddings


def passages(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "text": f"passage {i}"} for i in range(n)]


def vector_of(text: str) -> list[float]:
    """Each vector says which passage it embeds."""
    return [float(text.removeprefix("passage ")), 1.0]


def test_embed_resumes_after_a_failed_block_and_every_worker_honours_retry_after(
    local_ray: None, server: LoopbackServer, tmp_path: Path
) -> None:
    corpus, out = passages(120), tmp_path / "vectors"
    lock = threading.Lock()
    rate_limited: list[float] = []
    failing = {"armed": True}

    def answer(seen: Seen) -> Answer:
        texts = seen.json()["inputs"]
        with lock:
            if not rate_limited:  # the first request of the job: everyone must wait 1.5 s
                rate_limited.append(time.monotonic())
                return Answer(429, {**JSON, "retry-after": "1.5"}, b'{"error": "rate limited"}')
            if failing["armed"] and "passage 50" in texts:  # one block fails for good in the first run
                return Answer(500, JSON, b'{"error": "internal error"}')
        return Answer(200, JSON, json.dumps([vector_of(t) for t in texts]).encode())

    responder = respond(server, answer)
    embeddings = ray_embed.HFServerlessEmbeddings(base_url=f"{server.url}/embed", api_key=TOKEN, batch_size=10)
    ds = ray.data.from_items(corpus)

    first = ray_embed.embed_corpus(ds, embeddings, out, workers=2, block_size=10, attempts=3)

    assert (first.written, first.failed, first.skipped) == (110, 10, 0)
    assert "500" in first.errors[0] and TOKEN not in first.errors[0]
    written = ray_common.read_results(out)
    assert sorted(written.column("id").to_pylist()) == [i for i in range(120) if not 50 <= i < 60]
    # Retry-After held every worker: besides the one request the other worker may already have been granted,
    # nothing arrived while the gate was paused (unpaused, the 11 other blocks would go in milliseconds).
    paused = [t for t in responder.arrivals if rate_limited[0] < t < rate_limited[0] + 1.3]
    assert len(paused) <= 1

    failing["armed"] = False
    seen_before = len(server.requests)
    second = ray_embed.embed_corpus(ds, embeddings, out, workers=2, block_size=10, attempts=3)

    assert (second.written, second.failed, second.skipped) == (10, 0, 110)
    asked = [text for seen in server.requests[seen_before:] for text in seen.json()["inputs"]]
    assert asked == [f"passage {i}" for i in range(50, 60)]  # only the missing ids went out
    result = ray_common.read_results(out)
    assert result.column("id").to_pylist() == list(range(120))  # every passage exactly once
    assert result.column("vector").to_pylist() == [vector_of(row["text"]) for row in corpus]
    assert all(authorization(seen) == f"Bearer {TOKEN}" for seen in server.requests)


# ---------------------------------------------------------------------------------------------- chat generation


def completion(content: str) -> bytes:
    message = {"role": "assistant", "content": content}
    return json.dumps({"model": "m", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}).encode()


def test_generate_keeps_the_total_rate_retries_a_503_and_resumes_a_failed_row(
    local_ray: None, server: LoopbackServer, tmp_path: Path
) -> None:
    rows, out = [{"id": f"q{i:02}", "prompt": f"prompt {i}"} for i in range(12)], tmp_path / "answers"
    lock = threading.Lock()
    unavailable: list[str] = []
    failing = {"armed": True}

    def answer(seen: Seen) -> Answer:
        prompt = seen.json()["messages"][-1]["content"]
        with lock:
            if prompt == "prompt 3" and not unavailable:  # retried after a pause of every worker
                unavailable.append(prompt)
                return Answer(503, {**JSON, "retry-after": "0.2"}, b'{"error": "overloaded"}')
        if prompt == "prompt 7" and failing["armed"]:  # not retryable: left for the next run
            return Answer(400, JSON, b'{"error": "bad request"}')
        return Answer(200, JSON, completion(f"answer to {prompt}"))

    responder = respond(server, answer)
    chat = ray_generate.ChatHFServerless(base_url=server.url, model="m", api_key=TOKEN)
    ds = ray.data.from_items(rows)

    first = ray_generate.generate(
        ds, chat, out, workers=2, max_concurrency=6, block_size=6, requests_per_second=8, attempts=3
    )

    assert (first.written, first.failed, first.skipped) == (11, 1, 0)
    assert "400" in first.errors[0] and TOKEN not in first.errors[0]
    assert len(server.requests) == 13  # 12 prompts and the retry of prompt 3
    # 8 requests per second in total, from 2 workers of 6 threads each: 1 every 125 ms, so a quarter of a second
    # sees 2 (4 leaves room for a loaded machine); unlimited, each worker would send its 6 at once.
    busiest = max(sum(t <= a < t + 0.25 for a in responder.arrivals) for t in responder.arrivals)
    assert busiest <= 4
    assert responder.arrivals[-1] - responder.arrivals[0] >= 12 / 8 - 0.25

    failing["armed"] = False
    seen_before = len(server.requests)
    second = ray_generate.generate(ds, chat, out, workers=2, block_size=6, requests_per_second=8)

    assert (second.written, second.failed, second.skipped) == (1, 0, 11)
    assert [seen.json()["messages"][-1]["content"] for seen in server.requests[seen_before:]] == ["prompt 7"]
    result = ray_common.read_results(out)
    assert result.column("id").to_pylist() == [row["id"] for row in rows]
    assert result.column("answer").to_pylist() == [f"answer to {row['prompt']}" for row in rows]
    assert set(result.column("finish_reason").to_pylist()) == {"stop"}
