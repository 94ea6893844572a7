"""The LangChain plumbing the chat model and the LLM share: serialization and LangSmith's run parameters."""

from __future__ import annotations

from typing import ClassVar, Literal

from langchain_core.language_models import LangSmithParams


class RouterModel:
    """Mixin (before langchain-core's base class): serializable under ``langchain_hfserverless.<lc_module>``
    with the token kept out as ``HF_TOKEN``, and LangSmith parameters built one way."""

    lc_module: ClassVar[str]
    """The module the class is serialized under (``"chat_models"``, ``"llms"``)."""

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "HF_TOKEN"}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_hfserverless", cls.lc_module]

    @staticmethod
    def _ls_params(
        model_type: Literal["chat", "llm"],
        model_name: str,
        temperature: float | None,
        max_tokens: int | None,
        stop: list[str] | None,
    ) -> LangSmithParams:
        params = LangSmithParams(ls_provider="huggingface", ls_model_name=model_name, ls_model_type=model_type)
        if temperature is not None:
            params["ls_temperature"] = temperature
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        if stop:
            params["ls_stop"] = stop
        return params
