"""HFServerlessEmbeddings against llama-server --embeddings (OpenAI ``/v1/embeddings``, 64 dims, L2-normalised)."""

from __future__ import annotations

import math

import pytest

from langchain_hfserverless import HFServerlessEmbeddings
from tests.real_servers.conftest import CountingProxy

pytestmark = pytest.mark.real_server

DIMS = 64


def _unit(vector: list[float]) -> bool:
    return math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-3)


def _embeddings(url: str, **kwargs: object) -> HFServerlessEmbeddings:
    return HFServerlessEmbeddings(base_url=f"{url}/v1/embeddings", timeout=120, max_retries=0, **kwargs)  # type: ignore[arg-type]


def test_embed_documents_on_v1_embeddings(embed_url: str) -> None:
    vectors = _embeddings(embed_url).embed_documents(["first text", "second text", "third"])

    assert len(vectors) == 3
    assert all(len(v) == DIMS and _unit(v) for v in vectors)
    assert vectors[0] != vectors[1]


def test_embed_query_matches_the_same_document(embed_url: str) -> None:
    embeddings = _embeddings(embed_url)

    query = embeddings.embed_query("same text")
    assert len(query) == DIMS
    assert query == pytest.approx(embeddings.embed_documents(["same text"])[0], abs=1e-5)


async def test_async_embeddings(embed_url: str) -> None:
    embeddings = _embeddings(embed_url)

    vectors = await embeddings.aembed_documents(["a", "b"])
    assert [len(v) for v in vectors] == [DIMS, DIMS]
    assert await embeddings.aembed_query("a") == pytest.approx(vectors[0], abs=1e-5)


def test_batches_keep_the_order(embed_proxy: CountingProxy) -> None:
    texts = [f"text number {i}" for i in range(5)]
    batched = _embeddings(embed_proxy.url, batch_size=2).embed_documents(texts)

    assert embed_proxy.count("/v1/embeddings") == 3
    whole = _embeddings(embed_proxy.url).embed_documents(texts)
    assert batched == [pytest.approx(v, abs=1e-5) for v in whole]


def test_empty_list_sends_nothing(embed_proxy: CountingProxy) -> None:
    assert _embeddings(embed_proxy.url).embed_documents([]) == []
    assert embed_proxy.count("/v1/embeddings") == 0


@pytest.mark.parametrize("suffix", ["", "/v1"])
def test_server_root_and_v1_forms(embed_url: str, suffix: str) -> None:
    embeddings = HFServerlessEmbeddings(base_url=embed_url + suffix, timeout=120, max_retries=0)

    assert [len(v) for v in embeddings.embed_documents(["a", "b"])] == [DIMS, DIMS]
