"""When a call should go on to the next inference provider: one pure policy shared by every call path.

A provider that rejects what the request asks for (tools, ``tool_choice``, ``response_format``), has no credit
left, does not serve the model, or still fails after the transport's retries is a reason to ask the next one.
A bad token, a forbidden model, an oversized prompt or a request no provider could accept is not: those errors
come back unchanged. :class:`FallbackPlan` names the attempts of one call and, when every provider failed,
builds the error that says who was tried and why.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessConnectionError,
    HFServerlessContextOverflowError,
    HFServerlessError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
    HFServerlessPaymentRequiredError,
    HFServerlessRateLimitError,
    HFServerlessTimeoutError,
)

# Words providers use when they cannot serve a parameter or a model (lower-cased match).
UNSUPPORTED_MARKERS = (
    "unsupported_openai_params",
    "unsupported",
    "does not support",
    "doesn't support",
    "not supported",
    "is not available",
    "not implemented",
)
MODEL_NOT_SERVED_MARKERS = ("model_not_supported", "model not supported", "model_not_found", "does not exist")
# TGI's serde error for OpenAI response_format forms it predates (it reads only {"type": "json" | "regex"}).
_TGI_GRAMMAR_VARIANTS = ("`json_schema`", "`json_object`")

_QUOTED = 160


def _server_words(exc: HFServerlessError) -> str:
    return (exc.server_message or str(exc)).lower()


def fallback_reason(exc: BaseException) -> str | None:
    """Why ``exc`` is a reason to ask another provider, in a few words; ``None`` when it is not."""
    if not isinstance(exc, HFServerlessError) or isinstance(exc, HFServerlessContextOverflowError):
        return None
    if isinstance(exc, HFServerlessPaymentRequiredError):
        return "out of credits"
    if isinstance(exc, HFServerlessNotFoundError):
        return "does not serve the model"
    if isinstance(exc, HFServerlessRateLimitError):
        return "rate limited after retries"
    if isinstance(exc, HFServerlessTimeoutError):
        return "timed out"
    if isinstance(exc, HFServerlessConnectionError):
        return "unreachable"
    if isinstance(exc, HFServerlessInvalidRequestError):
        words = _server_words(exc)
        if any(marker in words for marker in MODEL_NOT_SERVED_MARKERS):
            return "does not serve the model"
        if any(marker in words for marker in UNSUPPORTED_MARKERS):
            return "does not support the request"
        return None
    if isinstance(exc, HFServerlessAPIError):
        if exc.status_code is None:
            return "failed before answering"
        if exc.status_code >= 500:
            return f"server error {exc.status_code} after retries"
    return None


def rejects_openai_response_format(exc: BaseException) -> bool:
    """True when a (TGI) server refused an OpenAI ``response_format`` it only knows in grammar form."""
    if not isinstance(exc, HFServerlessInvalidRequestError):
        return False
    words = exc.server_message or str(exc)
    return "unknown variant" in words and any(v in words for v in _TGI_GRAMMAR_VARIANTS)


@dataclass(frozen=True)
class Attempt:
    """One try of a call: which provider (``None``: the configured route) and whether to send TGI grammar."""

    provider: str | None = None
    grammar: bool = False


def capable_order(capable: Sequence[str], fallback_providers: Sequence[str]) -> list[str]:
    """The providers a capability-routed call tries, in order.

    ``capable`` lists the live providers that support what the request needs, best first under the routing
    policy. The call starts with the best; next come the user's ``fallback_providers`` that are capable, in the
    user's order (one the catalog does not list as capable would fail the same way); with none listed, the other
    capable providers in policy order (any of them is a provider the router's auto route might have picked).
    """
    if not capable:
        return []
    if not fallback_providers:
        return list(capable)
    allowed = set(capable)
    return [capable[0], *(p for p in dict.fromkeys(fallback_providers) if p in allowed and p != capable[0])]


@dataclass(frozen=True)
class Failure:
    provider: str
    reason: str
    error: HFServerlessError


class FallbackPlan:
    """The attempts of one call, in order: start with :attr:`first`; after each failure :meth:`after` names the
    next attempt, or raises when it is time to stop.

    Args:
        providers: the fallback providers, tried in order after the first attempt.
        learn_grammar: re-send once in TGI grammar form when the server rejects the OpenAI form.
        first: the first attempt; default the configured route.
    """

    def __init__(
        self, providers: Sequence[str] = (), *, learn_grammar: bool = False, first: Attempt = Attempt(None)
    ) -> None:
        self.first = first
        self._queue = deque(Attempt(p) for p in providers)
        self._learn_grammar = learn_grammar
        self.failures: list[Failure] = []

    def after(self, attempt: Attempt, exc: HFServerlessError) -> Attempt:
        """The attempt that follows the failure of ``attempt``; raises ``exc`` (or, when several providers failed,
        the summary of all failures) when no other attempt is worth making."""
        if self._learn_grammar and not attempt.grammar and rejects_openai_response_format(exc):
            return replace(attempt, grammar=True)
        reason = fallback_reason(exc)
        if reason is None:
            raise exc
        self.failures.append(Failure(attempt.provider or exc.provider or "auto", reason, exc))
        if self._queue:
            return self._queue.popleft()
        if len(self.failures) == 1:
            raise exc
        raise self._summary() from exc

    def _summary(self) -> HFServerlessError:
        """The last error, retold with every provider tried and why it failed."""
        last = self.failures[-1].error
        tried = "; ".join(
            f"{f.provider}: {f.reason} ({f.error.status_code or 'no status'}: "
            f"{(f.error.server_message or str(f.error))[:_QUOTED]})"
            for f in self.failures
        )
        message = (
            f"Every provider failed for model {last.model!r} — {tried}. "
            "Add credits, drop what the providers do not support, or list more providers in fallback_providers."
        )
        return last.reworded(message)
