"""langchain-tests' standard integration suite for HFServerlessEmbeddings, replayed from hand-built cassettes.

Two dialects of the router, one class each, under VCR (``record_mode="none"``, matching on method, URL and JSON
body; see ``tests/integration/conftest.py``):

* hf-inference, reached through huggingface_hub's provider helper: the Hub model-info lookup, then
  ``/hf-inference/models/{id}/pipeline/feature-extraction`` with ``{"inputs": ...}`` -> ``[dim]`` / ``[n][dim]``;
* provider ``"auto"`` resolving to together, which speaks OpenAI ``/v1/embeddings`` (``data[].embedding``).

The cassettes live in ``cassettes/<TestClass>/<test>.yaml``; the comment at the top of each says what it is
modelled on. Every interaction of a cassette must be replayed, the Hub lookup included.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from langchain_hfserverless.embeddings import HFServerlessEmbeddings

FAKE_TOKEN = "hf_fake_integration_test_token"


@pytest.fixture(autouse=True)
def _fresh_hub_lookups() -> None:
    """huggingface_hub caches its Hub lookups per process; clear them so each test makes (and replays) its own."""
    from huggingface_hub.inference._providers import _common, hf_inference

    hf_inference._check_supported_task.cache_clear()
    _common._fetch_inference_provider_mapping.cache_clear()


@pytest.mark.vcr
class TestHFServerlessEmbeddingsStandard(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[HFServerlessEmbeddings]:
        return HFServerlessEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "sentence-transformers/all-MiniLM-L6-v2", "provider": "hf-inference", "api_key": FAKE_TOKEN}


@pytest.mark.vcr
class TestHFServerlessEmbeddingsOpenAIDialectStandard(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[HFServerlessEmbeddings]:
        return HFServerlessEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "BAAI/bge-base-en-v1.5", "api_key": FAKE_TOKEN}
