"""langchain-tests' standard unit suite for HFServerlessEmbeddings (construction only, no HTTP)."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_hfserverless.embeddings import HFServerlessEmbeddings

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
