"""langchain-tests' standard unit suite for ChatHFServerless (no HTTP: construction, params, serdes)."""

from __future__ import annotations

import os
from typing import Any
from unittest import mock

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.load import dumpd, load
from langchain_tests.unit_tests import ChatModelUnitTests
from syrupy.assertion import SnapshotAssertion

from langchain_hfserverless import ChatHFServerless

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
FAKE_TOKEN = "hf_fake_unit_test_token"


class TestChatHFServerlessUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatHFServerless]:
        return ChatHFServerless

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": MODEL, "api_key": FAKE_TOKEN}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        # HF_TOKEN is read when a request is made, not copied onto the model: the field stays unset, so a
        # serialized model never carries the ambient token.
        return {"HF_TOKEN": FAKE_TOKEN}, {"model": MODEL}, {"model": MODEL, "api_key": None}

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "meta-llama/Llama-3.2-3B-Instruct"

    @pytest.mark.xfail(
        reason="langchain-tests 1.1 loads with allowed_objects='all', which admits only the classes in "
        "langchain-core's own mapping, so every package outside it fails; "
        "test_serdes_with_class_allowlist runs the same checks",
        raises=ValueError,
        strict=True,
    )
    def test_serdes(self, model: BaseChatModel, snapshot: SnapshotAssertion) -> None:
        super().test_serdes(model, snapshot)

    @pytest.mark.filterwarnings("ignore:The function `load` is in beta")
    def test_serdes_with_class_allowlist(self, model: ChatHFServerless, snapshot: SnapshotAssertion) -> None:
        """The standard round trip, with this class named on ``load``'s allowlist.

        Naming the class is how langchain-core asks partner packages to opt in to deserialization; every
        assertion of the standard test is kept (snapshot, the token stored as a secret reference, equal after
        reload, the token taken back from ``HF_TOKEN``).
        """
        env_params, _, _ = self.init_from_env_params
        with mock.patch.dict(os.environ, env_params):
            serialized = dumpd(model)
            assert serialized == snapshot(name="serialized")
            assert serialized["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["HF_TOKEN"]}
            assert FAKE_TOKEN not in str(serialized)
            revived = load(
                serialized,
                valid_namespaces=model.get_lc_namespace()[:1],
                allowed_objects=[self.chat_model_class],
                secrets_from_env=True,
            )
        assert isinstance(revived, ChatHFServerless)
        assert revived.model_dump() == model.model_dump()
        assert revived.api_key is not None and revived.api_key.get_secret_value() == FAKE_TOKEN
