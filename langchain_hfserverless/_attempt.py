"""One attempt at a request: which connection it went out on, and its transport failure as the typed error.

Part of the transport's I/O (``_transport.py``), kept apart for its one reason to change: how httpx2/httpcore report
a connection. A request sent on a pooled keep-alive connection the server had closed while idle is told apart from
one that reached a server, so that the first — and only the first — is resent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx2

from langchain_hfserverless._plan import Plan
from langchain_hfserverless.errors import HFServerlessConnectionError

if TYPE_CHECKING:
    from langchain_hfserverless._transport import Route, RouterTransport, _Send

logger = logging.getLogger("langchain_hfserverless")


class Connects:
    """Whether one request went out on a fresh connection or a pooled one, from httpcore's trace.

    The first event of a request tells: a TCP connect on a fresh connection, the sending of the headers on a pooled
    one. So the hook unhooks itself at once (httpcore looks it up as each phase of the request begins): two calls per
    request instead of ten. A redirect's request is not traced; :meth:`went_pooled` answers only for this request.
    """

    __slots__ = ("fresh", "request")

    def __init__(self, request: httpx2.Request, *, asynchronous: bool) -> None:
        self.request, self.fresh = request, False
        request.extensions["trace"] = self.atrace if asynchronous else self.trace

    def trace(self, name: str, info: Any) -> None:
        if "connect_tcp" in name:
            self.fresh = True
        self.request.extensions.pop("trace", None)

    async def atrace(self, name: str, info: Any) -> None:
        self.trace(name, info)

    def went_pooled(self, exc: httpx2.RequestError) -> bool:
        """Whether ``exc`` came from this request (not from a redirect's) sent on a pooled connection."""
        try:
            failed = exc.request
        except RuntimeError:  # raised outside any request: none was sent
            return False
        return failed is self.request and not self.fresh


class StaleConnectionError(HFServerlessConnectionError):
    """The pooled keep-alive connection a request went out on had been closed by the server while idle."""


def resent_if_stale(step: _Send) -> Plan[httpx2.Response]:
    """One attempt. A request sent on a pooled keep-alive connection the server had already closed ("Server
    disconnected without sending a response", before any byte of an answer) reached no server: it goes once more, on
    a fresh connection, whatever ``max_retries`` says. A fresh connection that fails so is a server fault: not resent.
    """
    try:
        return (yield step)
    except StaleConnectionError:
        logger.debug("%s %s: the server had closed the pooled connection; resending", step.route.method, step.route.url)
        return (yield step)


class Mapped:
    """Turns httpx2's failures inside the block into the typed error (a context manager costs less than a
    try/except written at every send)."""

    __slots__ = ("_connects", "_route", "_streaming", "_transport")

    def __init__(
        self, transport: RouterTransport, route: Route, *, streaming: bool = False, connects: Connects | None = None
    ) -> None:
        self._transport, self._route, self._streaming, self._connects = transport, route, streaming, connects

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if not isinstance(exc, httpx2.RequestError):
            return
        error = self._transport._transport_error(exc, self._route, streaming=self._streaming)
        stale = (
            self._connects is not None
            and isinstance(exc, httpx2.RemoteProtocolError)
            and "without sending a response" in str(exc)
            and self._connects.went_pooled(exc)
        )
        if stale:
            error = StaleConnectionError(*error.args, model=error.model, provider=error.provider)
        raise error from exc
