"""What the lines of a streamed answer mean: SSE events, ``[DONE]``, error events, or one JSON body.

Pure but for the two ``drain`` helpers, which read what follows ``[DONE]`` so the connection returns to its pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import orjson

from langchain_hfserverless._wire.errors import error_from_event
from langchain_hfserverless._wire.headers import header
from langchain_hfserverless._wire.sse import DONE, SSEDecodeError, SSEDecoder, is_error_event
from langchain_hfserverless.errors import HFServerlessAPIError, HFServerlessError


def scrubbed(exc: HFServerlessError, route: Any) -> HFServerlessError:
    """A server may echo the Authorization header back; the error we raise never carries the token on."""
    auth = header(route.headers, "authorization") or ""
    token = auth.partition(" ")[2].strip()
    if len(token) >= 8 and (token in str(exc) or token in (exc.server_message or "")):
        exc.args = tuple(a.replace(token, "***") if isinstance(a, str) else a for a in exc.args)
        exc.server_message = (exc.server_message or "").replace(token, "***")
    return exc


def decode_line(decoder: SSEDecoder, line: str | None, route: Any) -> Any:
    """One line in (``None``: the end), a payload (or None / DONE) out; an error event becomes the typed error."""
    try:
        payload = decoder.feed(line) if line is not None else decoder.close()
    except SSEDecodeError as exc:
        raise HFServerlessAPIError(
            f"The stream from model {route.model!r} via {route.provider!r} broke off: {exc}",
            model=route.model,
            provider=route.provider,
        ) from None
    if payload is not None and payload is not DONE and is_error_event(payload):
        raise scrubbed(error_from_event(payload, model=route.model, provider=route.provider), route)
    return payload


class EventReader:
    """The lines of one streamed answer, read one at a time; a server that ignored ``stream: true`` answered with
    one JSON body (``single``), read whole at the end."""

    __slots__ = ("_body", "_decoder", "_route", "single")

    def __init__(self, route: Any, single: bool) -> None:
        self._route, self.single = route, single
        self._decoder = SSEDecoder()
        self._body: list[str] = []

    def feed(self, line: str) -> Any:
        """A payload, ``None`` (nothing yet) or ``DONE``."""
        if self.single:
            self._body.append(line)
            return None
        return decode_line(self._decoder, line, self._route)

    def rest(self) -> list[Any]:
        """What the end of the answer still holds: an event without its blank line, or the one JSON body."""
        route = self._route
        if not self.single:
            payload = decode_line(self._decoder, None, route)
            return [] if payload is None or payload is DONE else [payload]
        body = "\n".join(self._body)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise HFServerlessAPIError(f"Expected JSON, got application/json: {body[:200]!r}") from exc
        if is_error_event(payload):
            raise scrubbed(error_from_event(payload, model=route.model, provider=route.provider), route)
        return [payload]


def drain(lines: Iterator[str]) -> None:
    """Read what follows ``[DONE]`` (the end of the body): a response read to its end keeps its connection in the
    pool, where one closed early costs the next call a new TCP (and TLS) handshake."""
    try:
        for _ in lines:
            pass
    except httpx2.RequestError:
        pass  # the answer is complete; a server that hangs up right after [DONE] just loses the connection


async def adrain(lines: AsyncIterator[str]) -> None:
    try:
        async for _ in lines:
            pass
    except httpx2.RequestError:
        pass
