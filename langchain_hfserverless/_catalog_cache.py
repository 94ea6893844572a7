"""The router's model catalog, fetched once per process and router per TTL, and the plan step that asks for it.

One ``GET {router_url}/v1/models`` serves every adapter of the process for :data:`CATALOG_TTL` seconds. A failed
fetch is remembered for :data:`FAILURE_TTL` seconds, so a router without a catalog (or an outage) costs one
request per minute, not one per call. Threads wait for the one fetch in flight (a lock per router); the event loop
never waits: a fresh entry is answered in place, a fetch runs on a worker thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from langchain_core.runnables.config import run_in_executor

from langchain_hfserverless._wire.catalog import Catalog
from langchain_hfserverless.errors import HFServerlessAPIError, HFServerlessError

if TYPE_CHECKING:
    from langchain_hfserverless._transport import RouterTransport

logger = logging.getLogger("langchain_hfserverless")

CATALOG_TTL = 3600.0
"""Seconds a fetched catalog is used before the next call fetches it again."""
FAILURE_TTL = 60.0
"""Seconds a failed fetch is remembered: calls meanwhile route as if there were no catalog, without asking."""


@dataclass(frozen=True, slots=True)
class LoadCatalog:
    """A plan step: the router's catalog, or ``None`` when it cannot be had (the caller goes on without it)."""

    fetch: bool = True
    """``False``: only a catalog already fetched (no request)."""
    strict: bool = False
    """Raise the fetch's error instead of answering ``None``."""
    refresh: bool = False
    """Fetch even when a fresh catalog (or a remembered failure) is cached."""


@dataclass(frozen=True, slots=True)
class _Entry:
    catalog: Catalog | None
    error: Exception | None
    expires: float


_CACHE: dict[str, _Entry] = {}
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _reset_locks_in_child() -> None:
    global _GUARD
    _GUARD = threading.Lock()  # a parent's thread may have held one at fork: the child starts unlocked
    _LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_in_child)


def cached_catalog(router_url: str) -> Catalog | None:
    """The fresh catalog of ``router_url`` if this process has fetched one; never a request."""
    entry = _CACHE.get(router_url)
    return entry.catalog if entry is not None and entry.expires > time.monotonic() else None


def forget_catalogs() -> None:
    """Drop every cached catalog and remembered failure (the next use fetches again)."""
    _CACHE.clear()


def _answer(entry: _Entry, step: LoadCatalog) -> Catalog | None:
    if entry.error is not None and step.strict:
        raise entry.error
    return entry.catalog


def _fresh(router_url: str, step: LoadCatalog) -> _Entry | None:
    entry = _CACHE.get(router_url)
    if entry is None or step.refresh or entry.expires <= time.monotonic():
        return None
    return entry


def fetch_catalog(transport: RouterTransport, step: LoadCatalog) -> Catalog | None:
    """The handler of :class:`LoadCatalog` for the sync driver (may block on the one fetch in flight)."""
    key = transport.router_url
    entry = _fresh(key, step)
    if entry is not None:
        return _answer(entry, step)
    if not step.fetch:
        return None
    with _GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        entry = _fresh(key, step) if not step.refresh else None
        if entry is None:
            entry = _fetched(transport)
            _CACHE[key] = entry
    return _answer(entry, step)


def _fetched(transport: RouterTransport) -> _Entry:
    route = transport.catalog_route()
    try:
        reply = transport.post(route)
        catalog = Catalog.from_json(reply.content)
    except HFServerlessError as exc:
        error: Exception = exc
    except ValueError as exc:
        error = HFServerlessAPIError(f"The model catalog at {route.url} is unreadable: {exc}")
    except Exception as exc:  # whatever stops the catalog must not stop a call: it routes as if there were none
        error = exc
    else:
        logger.debug("Fetched the model catalog of %s: %d models", route.url, len(catalog))
        return _Entry(catalog, None, time.monotonic() + CATALOG_TTL)
    logger.warning(
        "No model catalog from %s (%s); routing as if there were none for %.0f s.", route.url, error, FAILURE_TTL
    )
    return _Entry(None, error, time.monotonic() + FAILURE_TTL)


async def afetch_catalog(transport: RouterTransport, step: LoadCatalog) -> Catalog | None:
    """The handler of :class:`LoadCatalog` for the async driver: in place when cached, else on a worker thread."""
    entry = _fresh(transport.router_url, step)
    if entry is not None:
        return _answer(entry, step)
    if not step.fetch:
        return None
    return await run_in_executor(None, fetch_catalog, transport, step)
