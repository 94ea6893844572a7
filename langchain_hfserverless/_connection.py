"""The connection settings every adapter shares, and the pooled transport built from them."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, PrivateAttr, SecretStr, field_validator
from typing_extensions import Self

from langchain_hfserverless._transport import RouterTransport

_BUILDING = threading.Lock()


class HFConnection(BaseModel):
    """Where requests go, with which token, and how hard to try: one definition for chat, LLM, embeddings and tools.

    The transport (one pooled sync and one pooled async HTTP client) is built on first use and reused by every
    call of the instance; :meth:`close` / :meth:`aclose` release its connections.
    """

    provider: str = "auto"
    """``"auto"`` lets the router choose (your preference order on hf.co); or a provider name."""
    base_url: str | None = None
    """A dedicated Inference Endpoint, TGI, TEI or vLLM server. No Hub request is made for it."""
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "hf_token", "huggingfacehub_api_token")
    )
    """Token; else ``HF_TOKEN``, else the saved ``hf auth login``. The ambient token never goes to a
    non-Hugging-Face ``base_url``; an explicit one does."""
    timeout: float | None = 120.0
    """Seconds to wait for each step of a request — connect, send, each read of the answer (``None``: no limit)."""
    max_retries: int = 2
    """Retries of 429, 502, 503, 504 and connection failures, honouring ``Retry-After`` / ``estimated_time``."""
    default_headers: dict[str, str] | None = Field(default=None, repr=False)
    """Extra headers for every request."""
    bill_to: str | None = None
    """Organisation billed for the request (``X-HF-Bill-To``)."""
    use_cache: bool | None = None
    """``False`` sends ``x-use-cache: false``."""
    wait_for_model: bool | None = None
    """``True`` sends ``x-wait-for-model: true``: hold while a cold model loads instead of a 503."""

    _transport_instance: RouterTransport | None = PrivateAttr(default=None)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {value!r} (e.g. 'http://{value}').")
        return value

    @property
    def _transport(self) -> RouterTransport:
        if self._transport_instance is None:
            with _BUILDING:  # the threads of a first `batch` must share one transport, not each build a pool
                if self._transport_instance is None:
                    self._transport_instance = RouterTransport(
                        api_key=self.api_key.get_secret_value() if self.api_key else None,
                        provider=self.provider,
                        base_url=self.base_url,
                        bill_to=self.bill_to,
                        use_cache=self.use_cache,
                        wait_for_model=self.wait_for_model,
                        default_headers=self.default_headers,
                        timeout=self.timeout,
                        max_retries=self.max_retries,
                    )
        return self._transport_instance

    def _connection_settings(self) -> dict[str, Any]:
        """These settings as keyword arguments, to build another adapter that connects the same way."""
        return {name: getattr(self, name) for name in HFConnection.model_fields}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; one that changes the model or a connection setting builds its own transport, routes and plans."""
        copied = super().model_copy(update=update, deep=deep)
        if update and not {"model", *HFConnection.model_fields}.isdisjoint(update):
            # Private state (pool, routes, plans, learned dialects) was built from the old settings.
            for name, attr in type(self).__private_attributes__.items():
                setattr(copied, name, attr.get_default())
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        memo = {} if memo is None else memo
        if self._transport_instance is not None:
            memo[id(self._transport_instance)] = None  # its pooled clients hold locks: the copy opens its own
        return super().__deepcopy__(memo)

    def close(self) -> None:
        """Close the pooled sync connections (the instance stays usable: a new pool opens on the next call)."""
        if self._transport_instance is not None:
            self._transport_instance.close()

    async def aclose(self) -> None:
        """Close the pooled async connections of the running event loop."""
        if self._transport_instance is not None:
            await self._transport_instance.aclose()
