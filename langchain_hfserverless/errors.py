"""Typed errors raised by every adapter of this package.

Each class inherits both :class:`HFServerlessError` (so one ``except`` catches everything the package raises)
and the matching member of langchain-core's ``Model*Error`` family (so code written against any LangChain
integration keeps working). The message always carries the HTTP status, the server's own words, the model and
the provider; it never carries a token.
"""

from __future__ import annotations

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from typing_extensions import Self

__all__ = [
    "HFServerlessAPIError",
    "HFServerlessAuthenticationError",
    "HFServerlessConnectionError",
    "HFServerlessContextOverflowError",
    "HFServerlessError",
    "HFServerlessInvalidRequestError",
    "HFServerlessNotFoundError",
    "HFServerlessPaymentRequiredError",
    "HFServerlessPermissionDeniedError",
    "HFServerlessRateLimitError",
    "HFServerlessTimeoutError",
]


class HFServerlessError(ModelError):
    """Base class of every error this package raises for a failed inference call.

    Attributes:
        status_code: HTTP status of the answer, or ``None`` (connection, timeout, in-stream error).
        server_message: the server's own error text, as it said it.
        model: the model id the request asked for.
        provider: the inference provider (``"auto"``, a provider name, or ``"custom"`` for a ``base_url``).
        retry_after: seconds the server asked us to wait, when it said so.
        request_id: the router's ``X-Request-Id``, for a support ticket.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        server_message: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.server_message = server_message
        self.model = model
        self.provider = provider
        self.retry_after = retry_after
        self.request_id = request_id

    def reworded(self, message: str, **changes: str | None) -> Self:
        """The same error (class, status, the server's words, retry-after, request id) told with ``message``;
        ``model=`` / ``provider=`` may be corrected."""
        return type(self)(
            message,
            status_code=self.status_code,
            server_message=self.server_message,
            model=changes.get("model", self.model),
            provider=changes.get("provider", self.provider),
            retry_after=self.retry_after,
            request_id=self.request_id,
        )


class HFServerlessAuthenticationError(ModelAuthenticationError, HFServerlessError):
    """401: the token is missing, wrong or expired."""


class HFServerlessPermissionDeniedError(ModelPermissionDeniedError, HFServerlessError):
    """403: the token is valid but lacks permission (gated model, missing inference scope)."""


class HFServerlessNotFoundError(ModelNotFoundError, HFServerlessError):
    """404 (or 410 for a retired model): the model does not exist, or this provider does not serve it."""


class HFServerlessInvalidRequestError(ModelInvalidRequestError, HFServerlessError):
    """400/413/422: the server rejected the request itself."""


class HFServerlessContextOverflowError(ContextOverflowError, HFServerlessInvalidRequestError):
    """The prompt (plus ``max_tokens``) does not fit the model's context window."""


class HFServerlessPaymentRequiredError(ModelPermissionDeniedError, HFServerlessError):
    """402: the account or organisation has no inference credits left."""


class HFServerlessRateLimitError(ModelRateLimitError, HFServerlessError):
    """429 after every retry was spent."""


class HFServerlessAPIError(ModelAPIError, HFServerlessError):
    """5xx after every retry, an error inside a 200 stream, or an answer the package cannot read."""


class HFServerlessConnectionError(ModelConnectionError, HFServerlessError):
    """The server could not be reached, or closed the connection."""


class HFServerlessTimeoutError(ModelTimeoutError, HFServerlessError):
    """No answer within ``timeout`` seconds."""
