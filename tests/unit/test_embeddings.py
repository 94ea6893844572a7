"""HFServerlessEmbeddings and ``_wire/embeddings``: shapes, pooling, batching, concurrency, order, retries, dialects.

HTTP tests run against the loopback server. Where an answer must depend on the request (order under concurrency),
the server's queue is replaced by a responder that builds each answer from the request it just recorded. The
file ends with langchain-tests' standard unit suite (``EmbeddingsUnitTests``).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable
from typing import Any

import pytest
from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_hfserverless import _transport
from langchain_hfserverless._wire.embeddings import (
    EmbeddingShapeError,
    TokenLevelError,
    UnsupportedOptionError,
    body_template,
    dialect_of,
    fit_dimensions,
    pool,
    request_options,
    vectors_from_wire,
)
from langchain_hfserverless.embeddings import HFServerlessEmbeddings
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessAuthenticationError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
)
from tests.loopback import Answer, LoopbackServer, Seen

JSON = {"content-type": "application/json"}


class Responder:
    """Stands in for the loopback queue: the server pops an answer right after recording the request (both under
    its lock), so ``requests[-1]`` is the request being answered."""

    def __init__(self, server: LoopbackServer, answer: Callable[[Seen], Answer]) -> None:
        self.server = server
        self.answer = answer

    def __bool__(self) -> bool:
        return True

    def popleft(self) -> Answer:
        return self.answer(self.server.requests[-1])


def index_vectors(seen: Seen) -> Answer:
    """``t17`` -> ``[17.0, 1.0]``: each vector says which text it belongs to."""
    inputs = seen.json()["inputs"]
    texts = inputs if isinstance(inputs, list) else [inputs]
    body = [[float(t[1:]), 1.0] for t in texts]
    return Answer(200, JSON, json.dumps(body).encode())


def respond(server: LoopbackServer, answer: Callable[[Seen], Answer]) -> None:
    server.queue = Responder(server, answer)  # type: ignore[assignment]


def texts(n: int) -> list[str]:
    return [f"t{i}" for i in range(n)]


# ---------------------------------------------------------------------------------------------- pure mapping


def test_one_text_shapes() -> None:
    assert vectors_from_wire([0.5, 1], None) == [[0.5, 1.0]]  # [dim], ints become floats
    assert vectors_from_wire([[0.5, 1.5]], None) == [[0.5, 1.5]]  # TEI: [1][dim]
    assert vectors_from_wire([[1.0, 2.0], [3.0, 4.0]], None) == [[2.0, 3.0]]  # [tokens][hidden]
    assert vectors_from_wire([[[1.0, 2.0], [3.0, 4.0]]], None) == [[2.0, 3.0]]  # [1][tokens][hidden]


def test_batch_shapes() -> None:
    assert vectors_from_wire([[1.0, 2.0], [3.0, 4.0]], 2) == [[1.0, 2.0], [3.0, 4.0]]  # [n][dim]
    token_level = [[[1.0, 0.0], [3.0, 2.0]], [[5.0, 5.0]]]  # [n][tokens][hidden]
    assert vectors_from_wire(token_level, 2) == [[2.0, 1.0], [5.0, 5.0]]
    wrapped = [[[[1.0, 0.0], [3.0, 2.0]]], [[[5.0, 5.0], [7.0, 7.0]]]]  # [n][1][tokens][hidden] (recorded shape)
    assert vectors_from_wire(wrapped, 2) == [[2.0, 1.0], [6.0, 6.0]]


def test_pooling_cls_and_none() -> None:
    tokens = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert pool(tokens, "cls") == [1.0, 2.0]
    assert pool(tokens, "mean") == [3.0, 4.0]
    with pytest.raises(TokenLevelError, match=r"3 tokens x 2 hidden"):
        vectors_from_wire([tokens], 1, "none")
    # Sentence-level output is fine with pooling="none".
    assert vectors_from_wire([[1.0, 2.0]], 1, "none") == [[1.0, 2.0]]


def test_openai_shape_sorted_by_index() -> None:
    data = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 1, "embedding": [0.0, 1.0]},
            {"object": "embedding", "index": 0, "embedding": [1.0, 0.0]},
        ],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    assert vectors_from_wire(data, 2) == [[1.0, 0.0], [0.0, 1.0]]
    assert vectors_from_wire({"data": [{"index": 0, "embedding": [3.0]}]}, None) == [[3.0]]
    with pytest.raises(EmbeddingShapeError, match="base64"):
        vectors_from_wire({"data": [{"index": 0, "embedding": "AAAA"}]}, 1)


@pytest.mark.parametrize(
    ("data", "count", "message"),
    [
        ([[1.0], [2.0]], 3, "2 vectors for 3 texts"),
        ({"data": [{"embedding": [1.0]}]}, 2, "1 vectors for 2 texts"),
        ([], 1, "0 vectors for 1 texts"),
        ([[]], 1, "empty list"),
        ([[1.0, None]], 1, "holds None"),
        ([[1.0, float("nan")]], 1, "NaN"),
        ({"error_free": True}, 1, "without a 'data' list"),
        ("nope", 1, "str instead of a list"),
        ([[[[[1.0]]]]], 1, "4-dimensional"),
    ],
)
def test_unreadable_answers(data: Any, count: int, message: str) -> None:
    with pytest.raises(EmbeddingShapeError, match=message):
        vectors_from_wire(data, count)


def test_matryoshka_truncation_renormalises() -> None:
    out = fit_dimensions([[3.0, 4.0, 12.0]], 2, normalize=False)
    assert out == [[0.6, 0.8]]
    normalized = fit_dimensions([[3.0, 4.0]], None, normalize=True)
    assert normalized == [[0.6, 0.8]]
    assert fit_dimensions([[3.0, 4.0]], None, normalize=False) == [[3.0, 4.0]]


def test_dialects_and_options() -> None:
    assert (
        dialect_of("https://router.huggingface.co/together/v1/embeddings", {"input": ["x"], "model": "m"}) == "openai"
    )
    assert dialect_of("http://tei:8080/v1/embeddings", {"inputs": ["x"]}) == "openai"
    assert dialect_of("http://tei:8080/embed", {"inputs": ["x"]}) == "hf"
    assert body_template({"input": ["x"], "model": "m"}, "openai", "ignored") == ({"model": "m"}, "input")
    assert body_template({"inputs": ["x"]}, "openai", "m") == ({"model": "m"}, "input")
    assert body_template({"inputs": ["x"]}, "hf", "m") == ({}, "inputs")
    options = request_options("hf", normalize=True, truncate=None, truncation_direction=None, prompt_name="query")
    assert options == {"normalize": True, "prompt_name": "query"}
    assert request_options("openai", normalize=True, truncate=None, truncation_direction=None, prompt_name=None) == {}
    with pytest.raises(UnsupportedOptionError, match="truncate, prompt_name"):
        request_options("openai", normalize=None, truncate=True, truncation_direction=None, prompt_name="q")


# ---------------------------------------------------------------------------------------------- construction


def test_needs_a_target_and_valid_fields() -> None:
    with pytest.raises(ValueError, match=r"model= .* or base_url="):
        HFServerlessEmbeddings()
    with pytest.raises(ValueError, match="truncation_direction"):
        HFServerlessEmbeddings(model="m", truncation_direction="middle")
    with pytest.raises(ValueError, match="greater than 0"):
        HFServerlessEmbeddings(model="m", batch_size=0)
    with pytest.raises(ValueError):
        HFServerlessEmbeddings(model="m", pooling="max")  # type: ignore[arg-type]
    assert HFServerlessEmbeddings(model="m", hf_token="hf_x").api_key.get_secret_value() == "hf_x"  # type: ignore[union-attr]
    assert "hf_x" not in repr(HFServerlessEmbeddings(model="m", api_key="hf_x"))


def test_bad_input_is_refused_before_any_request(server: LoopbackServer) -> None:
    embeddings = HFServerlessEmbeddings(base_url=server.url)
    with pytest.raises(TypeError, match="embed_query"):
        embeddings.embed_documents("one string")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        embeddings.embed_documents(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="one string"):
        embeddings.embed_query(["a"])  # type: ignore[arg-type]
    assert embeddings.embed_documents([]) == []
    assert server.requests == []


async def test_empty_list_async(server: LoopbackServer) -> None:
    assert await HFServerlessEmbeddings(base_url=server.url).aembed_documents([]) == []
    assert server.requests == []


# ---------------------------------------------------------------------------------------------- base_url (TEI)


def test_base_url_body_as_given_and_only_set_options(server: LoopbackServer) -> None:
    server.reply(body=[[0.1, 0.2], [0.3, 0.4]])
    server.reply(body=[[0.5, 0.6]])
    embeddings = HFServerlessEmbeddings(
        base_url=f"{server.url}/embed",
        truncate=True,
        truncation_direction="Left",
        query_prompt_name="query",
        document_prompt_name="passage",
        model_kwargs={"extra": 1},
    )
    assert embeddings.embed_documents(["a", "b"]) == [[0.1, 0.2], [0.3, 0.4]]
    assert embeddings.embed_query("q") == [0.5, 0.6]
    docs, query = server.requests
    assert docs.path == "/embed" and query.path == "/embed"
    assert docs.json() == {
        "inputs": ["a", "b"],
        "truncate": True,
        "truncation_direction": "Left",
        "prompt_name": "passage",
        "extra": 1,
    }
    assert query.json() == {
        "inputs": "q",
        "truncate": True,
        "truncation_direction": "Left",
        "prompt_name": "query",
        "extra": 1,
    }


def test_defaults_send_inputs_only(server: LoopbackServer) -> None:
    server.reply(body=[0.25, 0.5])
    assert HFServerlessEmbeddings(base_url=server.url, prompt_name="p").embed_query("x") == [0.25, 0.5]
    assert server.requests[0].json() == {"inputs": "x", "prompt_name": "p"}
    server.reply(body=[[1.0]])
    HFServerlessEmbeddings(base_url=server.url).embed_documents(["y"])
    assert server.requests[1].json() == {"inputs": ["y"]}


def test_token_level_output_is_pooled_end_to_end(server: LoopbackServer) -> None:
    # Plain transformers on hf-inference: one text -> [1][tokens][hidden]; a batch adds a dimension.
    server.reply(body=[[[1.0, 2.0], [3.0, 6.0]]])
    server.reply(body=[[[[1.0, 2.0], [3.0, 6.0]]], [[[0.0, 0.0], [4.0, 4.0], [8.0, 8.0]]]])
    mean = HFServerlessEmbeddings(base_url=server.url)
    assert mean.embed_query("x") == [2.0, 4.0]
    assert mean.embed_documents(["x", "y"]) == [[2.0, 4.0], [4.0, 4.0]]
    server.reply(body=[[[1.0, 2.0], [3.0, 6.0]]])
    assert HFServerlessEmbeddings(base_url=server.url, pooling="cls").embed_query("x") == [1.0, 2.0]
    server.reply(body=[[[1.0, 2.0], [3.0, 6.0]]])
    with pytest.raises(HFServerlessAPIError, match=r"token-level embeddings \(2 tokens x 2 hidden\).*pooling='mean'"):
        HFServerlessEmbeddings(base_url=server.url, pooling="none").embed_query("x")


def test_dimensions_truncate_and_renormalise(server: LoopbackServer) -> None:
    server.reply(body=[[3.0, 4.0, 100.0], [0.0, 2.0, 5.0]])
    vectors = HFServerlessEmbeddings(base_url=server.url, dimensions=2).embed_documents(["a", "b"])
    assert vectors == [[0.6, 0.8], [0.0, 1.0]]
    assert "dimensions" not in server.requests[0].json()  # done client-side on every provider
    server.reply(body=[[3.0, 4.0]])
    with pytest.raises(HFServerlessInvalidRequestError, match="returns 2 dimensions; dimensions=3"):
        HFServerlessEmbeddings(base_url=server.url, dimensions=3).embed_documents(["a"])


def test_normalize_is_sent_and_ensured(server: LoopbackServer) -> None:
    server.reply(body=[[3.0, 4.0]])  # a server that ignored normalize
    assert HFServerlessEmbeddings(base_url=server.url, normalize=True).embed_documents(["a"]) == [[0.6, 0.8]]
    assert server.requests[0].json() == {"inputs": ["a"], "normalize": True}


def test_inconsistent_widths_are_an_error(server: LoopbackServer) -> None:
    server.reply(body=[[1.0, 2.0], [1.0]])
    with pytest.raises(HFServerlessAPIError, match="vector 1 has 1 dimensions, the others 2"):
        HFServerlessEmbeddings(base_url=server.url).embed_documents(["a", "b"])
    respond(server, lambda seen: Answer(200, JSON, b"[[1.0, 2.0]]" if seen.json()["inputs"] == ["a"] else b"[[1.0]]"))
    with pytest.raises(HFServerlessAPIError, match="Inconsistent embeddings"):
        HFServerlessEmbeddings(base_url=server.url, batch_size=1, max_concurrency=1).embed_documents(["a", "b"])


def test_wrong_count_and_error_bodies(server: LoopbackServer) -> None:
    server.reply(body=[[1.0]])
    with pytest.raises(HFServerlessAPIError, match="1 vectors for 2 texts"):
        HFServerlessEmbeddings(base_url=server.url).embed_documents(["a", "b"])
    server.reply(400, {"error": "Input validation error: `inputs` cannot be empty", "error_type": "validation"})
    with pytest.raises(HFServerlessInvalidRequestError, match="cannot be empty"):
        HFServerlessEmbeddings(base_url=server.url, max_retries=0).embed_documents([""])
    server.reply(200, {"error": "Model is overloaded"})
    with pytest.raises(HFServerlessAPIError, match="overloaded"):
        HFServerlessEmbeddings(base_url=server.url, max_retries=0).embed_query("a")


# ---------------------------------------------------------------------------------------------- batching at scale


def test_batches_of_batch_size_in_order(server: LoopbackServer) -> None:
    respond(server, index_vectors)
    vectors = HFServerlessEmbeddings(base_url=server.url, batch_size=32).embed_documents(texts(70))
    assert [v[0] for v in vectors] == [float(i) for i in range(70)]
    sizes = sorted(len(r.json()["inputs"]) for r in server.requests)
    assert sizes == [6, 32, 32]


def test_order_kept_when_the_first_batch_answers_last(server: LoopbackServer) -> None:
    def slow_first(seen: Seen) -> Answer:
        answer = index_vectors(seen)
        answer.delay = 0.3 if "t0" in seen.json()["inputs"] else 0.0
        return answer

    respond(server, slow_first)
    vectors = HFServerlessEmbeddings(base_url=server.url, batch_size=4, max_concurrency=4).embed_documents(texts(16))
    assert [v[0] for v in vectors] == [float(i) for i in range(16)]


async def test_async_order_kept_when_the_first_batch_answers_last(server: LoopbackServer) -> None:
    def slow_first(seen: Seen) -> Answer:
        answer = index_vectors(seen)
        answer.delay = 0.3 if "t0" in seen.json()["inputs"] else 0.0
        return answer

    respond(server, slow_first)
    embeddings = HFServerlessEmbeddings(base_url=server.url, batch_size=4, max_concurrency=4)
    vectors = await embeddings.aembed_documents(texts(16))
    assert [v[0] for v in vectors] == [float(i) for i in range(16)]
    assert await embeddings.aembed_query("t7") == [7.0, 1.0]


def test_sync_concurrency_is_exactly_max_concurrency(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    respond(server, index_vectors)
    barrier = threading.Barrier(3, timeout=10)  # breaks (fails the test) unless 3 batches are in flight together
    lock = threading.Lock()
    state = {"now": 0, "max": 0, "calls": 0}
    original = _transport.RouterTransport.post

    def counting_post(self: Any, route: Any, json: Any = None) -> Any:
        with lock:
            state["now"] += 1
            state["calls"] += 1
            state["max"] = max(state["max"], state["now"])
            first_wave = state["calls"] <= 3
        try:
            if first_wave:
                barrier.wait()
            return original(self, route, json)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(_transport.RouterTransport, "post", counting_post)
    embeddings = HFServerlessEmbeddings(base_url=f"{server.url}/embed", batch_size=2, max_concurrency=3)
    vectors = embeddings.embed_documents(texts(20))
    assert [v[0] for v in vectors] == [float(i) for i in range(20)]
    assert state["max"] == 3
    assert state["calls"] == 10


async def test_async_concurrency_is_bounded(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    respond(server, index_vectors)
    state = {"now": 0, "max": 0}
    full = asyncio.Event()
    original = _transport.RouterTransport.apost

    async def counting_apost(self: Any, route: Any, json: Any = None) -> Any:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        if state["now"] == 3:
            full.set()
        try:
            await asyncio.wait_for(full.wait(), timeout=10)  # times out (fails) unless 3 run together
            return await original(self, route, json)
        finally:
            state["now"] -= 1

    monkeypatch.setattr(_transport.RouterTransport, "apost", counting_apost)
    embeddings = HFServerlessEmbeddings(base_url=f"{server.url}/embed", batch_size=2, max_concurrency=3)
    vectors = await embeddings.aembed_documents(texts(20))
    assert [v[0] for v in vectors] == [float(i) for i in range(20)]
    assert state["max"] == 3


def test_a_failing_batch_is_retried_alone(server: LoopbackServer) -> None:
    failed: set[str] = set()
    lock = threading.Lock()

    def flaky(seen: Seen) -> Answer:
        first = seen.json()["inputs"][0]
        with lock:
            if first == "t4" and first not in failed:
                failed.add(first)
                return Answer(503, {**JSON, "retry-after": "0"}, b'{"error": "Model is currently loading"}')
        return index_vectors(seen)

    respond(server, flaky)
    vectors = HFServerlessEmbeddings(base_url=server.url, batch_size=2, max_concurrency=2).embed_documents(texts(8))
    assert [v[0] for v in vectors] == [float(i) for i in range(8)]
    batches = [tuple(r.json()["inputs"]) for r in server.requests]
    assert sorted(batches) == sorted([("t0", "t1"), ("t2", "t3"), ("t4", "t5"), ("t4", "t5"), ("t6", "t7")])


def test_a_batch_failing_for_good_raises(server: LoopbackServer) -> None:
    def bad_second(seen: Seen) -> Answer:
        if seen.json()["inputs"][0] == "t2":
            return Answer(422, JSON, b'{"error": "Input validation error: too long", "error_type": "validation"}')
        return index_vectors(seen)

    respond(server, bad_second)
    embeddings = HFServerlessEmbeddings(base_url=server.url, batch_size=2, max_concurrency=2)
    with pytest.raises(HFServerlessInvalidRequestError, match="too long"):
        embeddings.embed_documents(texts(6))


async def test_async_batch_failure_raises(server: LoopbackServer) -> None:
    server.default = Answer(400, JSON, b'{"error": "bad batch"}')
    with pytest.raises(HFServerlessInvalidRequestError, match="bad batch"):
        await HFServerlessEmbeddings(base_url=server.url, batch_size=1).aembed_documents(texts(3))


def test_show_progress_draws_a_bar(server: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    respond(server, index_vectors)
    HFServerlessEmbeddings(base_url=server.url, batch_size=10, show_progress=True).embed_documents(texts(25))
    err = capsys.readouterr().err
    assert "Embedding" in err and "25/25" in err
    HFServerlessEmbeddings(base_url=server.url, batch_size=10).embed_documents(texts(25))
    assert capsys.readouterr().err == ""


async def test_show_progress_async(server: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    respond(server, index_vectors)
    await HFServerlessEmbeddings(base_url=server.url, batch_size=10, show_progress=True).aembed_documents(texts(25))
    assert "25/25" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- auth


def test_token_rules(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambient")
    server.reply(body=[1.0])
    server.reply(body=[1.0])
    HFServerlessEmbeddings(base_url=server.url).embed_query("x")
    HFServerlessEmbeddings(base_url=server.url, api_key="explicit").embed_query("x")
    lowered = [{k.lower(): v for k, v in r.headers.items()} for r in server.requests]
    assert "authorization" not in lowered[0]  # the ambient token never goes to a non-HF host
    assert lowered[1]["authorization"] == "Bearer explicit"


def test_router_without_token_says_what_to_do() -> None:
    with pytest.raises(HFServerlessAuthenticationError, match="HF_TOKEN"):
        HFServerlessEmbeddings(model="sentence-transformers/all-MiniLM-L6-v2").embed_query("x")


# ---------------------------------------------------------------------------------------------- router providers


@pytest.fixture
def hf_inference(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> LoopbackServer:
    """hf-inference's helper, pointed at the loopback server, with the Hub task check stubbed out."""
    from huggingface_hub.inference._providers import PROVIDERS, hf_inference

    monkeypatch.setattr(hf_inference, "_check_supported_task", lambda model, task: None)
    monkeypatch.setattr(PROVIDERS["hf-inference"]["feature-extraction"], "base_url", server.url)
    return server


@pytest.fixture
def together(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> LoopbackServer:
    """together's OpenAI-style embeddings helper on the loopback server, mapping from the hardcoded table."""
    from huggingface_hub.hf_api import InferenceProviderMapping
    from huggingface_hub.inference._providers import PROVIDERS
    from huggingface_hub.inference._providers._common import HARDCODED_MODEL_INFERENCE_MAPPING

    mapping = InferenceProviderMapping(
        provider="together",
        hf_model_id="BAAI/bge-base-en-v1.5",
        providerId="BAAI/bge-base-en-v1.5-vllm",
        task="feature-extraction",
        status="live",
    )
    monkeypatch.setitem(HARDCODED_MODEL_INFERENCE_MAPPING, "together", {"BAAI/bge-base-en-v1.5": mapping})
    monkeypatch.setattr(PROVIDERS["together"]["feature-extraction"], "base_url", server.url)
    return server


def test_hf_inference_route_and_root_level_options(hf_inference: LoopbackServer) -> None:
    hf_inference.reply(body=[[0.6, 0.8], [1.0, 0.0]], headers={"x-inference-provider": "hf-inference"})
    hf_inference.reply(body=[0.6, 0.8])
    embeddings = HFServerlessEmbeddings(
        model="intfloat/multilingual-e5-small",
        provider="hf-inference",
        api_key="hf_test",
        normalize=True,
        query_prompt_name="query",
    )
    assert embeddings.embed_documents(["a", "b"]) == [[0.6, 0.8], [1.0, 0.0]]
    assert embeddings.embed_query("q") == [0.6, 0.8]
    docs, query = hf_inference.requests
    assert docs.path == "/models/intfloat/multilingual-e5-small/pipeline/feature-extraction"
    assert docs.json() == {"inputs": ["a", "b"], "normalize": True}
    assert query.json() == {"inputs": "q", "normalize": True, "prompt_name": "query"}
    assert {k.lower(): v for k, v in docs.headers.items()}["authorization"] == "Bearer hf_test"


def test_openai_dialect_provider(together: LoopbackServer) -> None:
    together.reply(
        body={
            "object": "list",
            "model": "BAAI/bge-base-en-v1.5-vllm",
            "data": [
                {"object": "embedding", "index": 1, "embedding": [0.0, 2.0]},
                {"object": "embedding", "index": 0, "embedding": [3.0, 4.0]},
            ],
        }
    )
    embeddings = HFServerlessEmbeddings(
        model="BAAI/bge-base-en-v1.5", provider="together", api_key="direct-key", normalize=True
    )
    assert embeddings.embed_documents(["a", "b"]) == [[0.6, 0.8], [0.0, 1.0]]  # normalised client-side
    seen = together.requests[0]
    assert seen.path == "/v1/embeddings"
    assert seen.json() == {"input": ["a", "b"], "model": "BAAI/bge-base-en-v1.5-vllm"}


def test_openai_dialect_refuses_tei_only_options(together: LoopbackServer) -> None:
    embeddings = HFServerlessEmbeddings(
        model="BAAI/bge-base-en-v1.5", provider="together", api_key="k", truncate=True, prompt_name="query"
    )
    with pytest.raises(HFServerlessInvalidRequestError, match=r"no truncate, prompt_name.*hf-inference"):
        embeddings.embed_documents(["a"])
    assert together.requests == []


def test_openai_base_url(server: LoopbackServer) -> None:
    server.reply(body={"data": [{"index": 0, "embedding": [1.0, 0.0]}]})
    embeddings = HFServerlessEmbeddings(base_url=f"{server.url}/v1/embeddings", model="my-model")
    assert embeddings.embed_query("hello") == [1.0, 0.0]
    assert server.requests[0].json() == {"input": "hello", "model": "my-model"}


def test_unmapped_model_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.hf_api import InferenceProviderMapping
    from huggingface_hub.inference._providers import _common

    mapping = InferenceProviderMapping(
        provider="together", hf_model_id="org/chat", providerId="org/chat", task="conversational", status="live"
    )
    monkeypatch.setattr(_common, "_fetch_inference_provider_mapping", lambda model: [mapping])
    embeddings = HFServerlessEmbeddings(model="org/chat", provider="together", api_key="k")
    with pytest.raises(HFServerlessNotFoundError, match="feature-extraction"):
        embeddings.embed_query("x")


def test_vectors_are_floats_with_unit_norm(server: LoopbackServer) -> None:
    server.reply(body=[[1, 1, 1, 1]])
    (vector,) = HFServerlessEmbeddings(base_url=server.url, normalize=True).embed_documents(["a"])
    assert all(isinstance(x, float) for x in vector)
    assert math.isclose(math.hypot(*vector), 1.0)


# ---------------------------------------------------------------------------------------------- base_url routes


def openai_vectors(seen: Seen) -> Answer:
    inputs = seen.json()["input"]
    texts = inputs if isinstance(inputs, list) else [inputs]
    data = [{"index": i, "embedding": [float(t[1:]), 1.0]} for i, t in enumerate(texts)]
    return Answer(200, JSON, json.dumps({"data": data}).encode())


def only_at(path: str, answer: Callable[[Seen], Answer]) -> Callable[[Seen], Answer]:
    """A server with a single embeddings route: anything else is a 404, as TEI and vLLM answer."""

    def route(seen: Seen) -> Answer:
        if seen.path != path:
            return Answer(404, JSON, b'{"error": "Not Found"}')
        return answer(seen)

    return route


def test_v1_base_url_goes_to_v1_embeddings_in_openai_form(server: LoopbackServer) -> None:
    respond(server, only_at("/v1/embeddings", openai_vectors))
    embeddings = HFServerlessEmbeddings(base_url=f"{server.url}/v1", model="small")
    assert embeddings.embed_query("t3") == [3.0, 1.0]
    assert [r.path for r in server.requests] == ["/v1/embeddings"]
    assert server.requests[0].json() == {"input": "t3", "model": "small"}


def test_v1_base_url_on_tei_without_openai_route_finds_embed_and_keeps_it(server: LoopbackServer) -> None:
    respond(server, only_at("/embed", index_vectors))
    embeddings = HFServerlessEmbeddings(base_url=f"{server.url}/v1/")
    assert embeddings.embed_query("t3") == [3.0, 1.0]
    assert embeddings.embed_documents(texts(3)) == [[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]
    assert [r.path for r in server.requests] == ["/v1/embeddings", "/embed", "/embed"]
    assert server.requests[1].json() == {"inputs": "t3"}


def test_root_base_url_that_is_not_tei_finds_v1_embeddings(server: LoopbackServer) -> None:
    respond(server, only_at("/v1/embeddings", openai_vectors))
    embeddings = HFServerlessEmbeddings(base_url=server.url, batch_size=2, max_concurrency=3)
    assert embeddings.embed_documents(texts(7)) == [[float(i), 1.0] for i in range(7)]
    paths = [r.path for r in server.requests]
    assert paths == ["/", *["/v1/embeddings"] * 4]  # the first batch found the route; the other three followed


async def test_async_root_base_url_finds_the_route_once(server: LoopbackServer) -> None:
    respond(server, only_at("/v1/embeddings", openai_vectors))
    embeddings = HFServerlessEmbeddings(base_url=server.url, batch_size=2)
    assert await embeddings.aembed_documents(texts(5)) == [[float(i), 1.0] for i in range(5)]
    assert await embeddings.aembed_query("t9") == [9.0, 1.0]
    assert [r.path for r in server.requests] == ["/", *["/v1/embeddings"] * 4]


def test_root_base_url_on_tei_is_posted_as_given(server: LoopbackServer) -> None:
    respond(server, only_at("/", index_vectors))
    assert HFServerlessEmbeddings(base_url=server.url).embed_query("t1") == [1.0, 1.0]
    assert [r.path for r in server.requests] == ["/"]


def test_explicit_route_404_names_the_url_and_the_tei_route(server: LoopbackServer) -> None:
    respond(server, only_at("/embed", index_vectors))
    url = f"{server.url}/v1/embeddings"
    with pytest.raises(HFServerlessNotFoundError) as caught:
        HFServerlessEmbeddings(base_url=url, model="small").embed_query("t1")
    message = str(caught.value)
    assert url in message
    assert "/embed" in message and "root" in message
    assert caught.value.status_code == 404
    assert len(server.requests) == 1  # a full route is used as given: no guessing


def test_explicit_tei_route_404_points_to_v1_embeddings(server: LoopbackServer) -> None:
    respond(server, only_at("/v1/embeddings", openai_vectors))
    with pytest.raises(HFServerlessNotFoundError, match=r"/embed .*/v1/embeddings"):
        HFServerlessEmbeddings(base_url=f"{server.url}/embed").embed_documents(["t1"])


async def test_no_route_anywhere_names_every_url_tried(server: LoopbackServer) -> None:
    respond(server, only_at("/nowhere", index_vectors))
    with pytest.raises(HFServerlessNotFoundError) as caught:
        await HFServerlessEmbeddings(base_url=f"{server.url}/v1").aembed_query("t1")
    message = str(caught.value)
    assert f"{server.url}/v1/embeddings" in message
    assert f"{server.url}/embed" in message
    assert "…/embed" in message and "…/v1/embeddings" in message


def test_405_also_moves_on_to_the_other_route(server: LoopbackServer) -> None:
    def answer(seen: Seen) -> Answer:
        if seen.path == "/":
            return Answer(405, {}, b"")
        return openai_vectors(seen)

    respond(server, answer)
    assert HFServerlessEmbeddings(base_url=server.url).embed_query("t2") == [2.0, 1.0]


def test_other_errors_are_not_guessed_around(server: LoopbackServer) -> None:
    server.reply(401, {"error": "Invalid credentials"})
    with pytest.raises(HFServerlessAuthenticationError):
        HFServerlessEmbeddings(base_url=server.url, max_retries=0).embed_query("t1")
    assert len(server.requests) == 1


MODEL = "sentence-transformers/all-MiniLM-L6-v2"


FAKE_TOKEN = "hf_fake_unit_test_token"


class TestHFServerlessEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[HFServerlessEmbeddings]:
        return HFServerlessEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": MODEL, "provider": "hf-inference", "api_key": FAKE_TOKEN}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        # HF_TOKEN is read when a request is made, never copied onto the model.
        return {"HF_TOKEN": FAKE_TOKEN}, {"model": MODEL}, {"model": MODEL, "api_key": None}
