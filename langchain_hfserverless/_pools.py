"""Pooled HTTP clients shared by every adapter of the process that connects the same way.

One :class:`Pool` per :class:`PoolSettings` (what shapes a connection: the timeout; never the token, which
travels in each request's headers), like ChatOpenAI's shared default client: a thousand adapters with the same
settings keep one pool of keep-alive connections, and a throwaway adapter leaves nothing open behind it.

A pool holds one sync ``httpx2.Client`` and one ``httpx2.AsyncClient`` per event loop (an async connection belongs
to its loop). Each is opened on first use and closed when

- the last adapter holding it lets go (``close()`` / ``aclose()``); adapters that are garbage-collected without
  closing just stop counting, and the pool stays open for the next one;
- its event loop shuts down through ``asyncio.run()`` (or ``loop.shutdown_asyncgens()``): the async client is
  closed inside that loop, before the loop closes;
- the interpreter exits (``atexit``).

After ``os.fork()`` the child forgets the parent's connections without touching them (they are the parent's
sockets) and opens its own on first use. Pools never travel: a pickled pool is the receiving process's pool with
the same settings.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import httpx2

_SYNC_KEEPALIVE = 64
_ASYNC_KEEPALIVE = 256


@dataclass(frozen=True)
class PoolSettings:
    """What shapes a connection, and so which adapters may share one: not the token (headers are per request),
    not the URL (a pool serves any host)."""

    timeout: float | None

    def _timeout(self) -> httpx2.Timeout:
        return httpx2.Timeout(self.timeout)


def _finish(step: Any) -> None:
    """Run a coroutine that never awaits I/O to its end, without an event loop."""
    with contextlib.suppress(StopIteration, StopAsyncIteration, RuntimeError):
        step.send(None)
    step.close()


class _LoopClient:
    """One event loop's async client, closed from inside that loop when the loop shuts down.

    The loop-close hook is an async generator started here, inside the running loop: asyncio registers it
    (``sys.set_asyncgen_hooks``), and ``loop.shutdown_asyncgens()`` — which ``asyncio.run()`` calls before closing
    the loop — runs its ``finally``, which closes the client while the loop can still do so.
    """

    def __init__(self, pool: Pool, client: httpx2.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.holders: weakref.WeakSet[object] = weakref.WeakSet()
        self._pool = pool
        self._loop = loop
        self._abandoned = False
        self._hook = self._close_at_shutdown()
        _finish(self._hook.__anext__())  # runs to the ``yield``: registered with the loop

    async def _close_at_shutdown(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if not (self._abandoned or self._loop.is_closed()):
                self._pool._forget(self._loop, self)  # the loop is shutting down: let it be collected
                await self.client.aclose()

    async def close(self) -> None:
        """Close the client (call from inside its loop)."""
        await self._hook.aclose()

    def abandon(self) -> None:
        """Let go without I/O: the loop is closed (nothing can close the client) or belongs to the parent process."""
        self._abandoned = True
        _finish(self._hook.aclose())


class Pool:
    """The shared clients of one :class:`PoolSettings`; see the module docstring for when they close.

    ``holder`` is the object (one adapter's transport) that counts as using the pool until it releases it or is
    garbage-collected.
    """

    def __init__(self, settings: PoolSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client: httpx2.Client | None = None
        self._holders: weakref.WeakSet[object] = weakref.WeakSet()
        # A client holds its loop, so a weak key never dies by itself: closed loops are dropped on the next lookup.
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"Pool(timeout={self.settings.timeout!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return pool_for, (self.settings.timeout,)

    def __deepcopy__(self, memo: dict[int, Any]) -> Pool:
        return self

    def client(self, holder: object) -> httpx2.Client:
        """The sync client, opened on first use; ``holder`` now counts as using it."""
        client = self._client
        if client is None or holder not in self._holders:
            with self._lock:  # the threads of a first batch() must share one client
                if self._client is None:
                    self._client = httpx2.Client(
                        timeout=self.settings._timeout(),
                        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=_SYNC_KEEPALIVE),
                        follow_redirects=True,
                    )
                self._holders.add(holder)
                client = self._client
        return client

    def async_client(self, holder: object) -> httpx2.AsyncClient:
        """The running event loop's async client, opened on first use; ``holder`` now counts as using it."""
        loop = asyncio.get_running_loop()
        entry = self._loops.get(loop)
        if entry is None:
            with self._lock:
                for stale in [old for old in self._loops if old.is_closed()]:
                    self._loops.pop(stale).abandon()
                entry = self._loops.get(loop)
                if entry is None:
                    client = httpx2.AsyncClient(
                        timeout=self.settings._timeout(),
                        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=_ASYNC_KEEPALIVE),
                        follow_redirects=True,
                    )
                    entry = self._loops[loop] = _LoopClient(self, client, loop)
        entry.holders.add(holder)
        return entry.client

    def _forget(self, loop: asyncio.AbstractEventLoop, entry: _LoopClient) -> None:
        with self._lock:
            if self._loops.get(loop) is entry:
                del self._loops[loop]

    def release(self, holder: object) -> None:
        """``holder`` stops using the sync client, which closes if no other holder is left."""
        with self._lock:
            self._holders.discard(holder)
            client = self._client
            if client is None or len(self._holders):
                return
            self._client = None
        client.close()

    async def arelease(self, holder: object) -> None:
        """``holder`` stops using the running loop's async client, which closes if no other holder is left."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._loops.get(loop)
            if entry is None:
                return
            entry.holders.discard(holder)
            if len(entry.holders):
                return
            del self._loops[loop]
        await entry.close()

    def close_all(self) -> None:
        """At exit: close every client that can still be closed; no warning, no error."""
        with self._lock:
            client, self._client = self._client, None
            entries = list(self._loops.items())
            self._loops = weakref.WeakKeyDictionary()
            self._holders = weakref.WeakSet()
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        for loop, entry in entries:
            if loop.is_closed() or loop.is_running():  # a running loop belongs to a thread still going
                entry.abandon()
                continue
            with contextlib.suppress(Exception):
                loop.run_until_complete(entry.close())

    def forget_inherited(self) -> None:
        """In a forked child: drop the parent's clients untouched (kept referenced, so never finalised here)."""
        _INHERITED.append(self._client)
        for entry in self._loops.values():
            entry.abandon()
            _INHERITED.append(entry)
        self._lock = threading.Lock()
        self._client = None
        self._holders = weakref.WeakSet()
        self._loops = weakref.WeakKeyDictionary()


_POOLS: dict[PoolSettings, Pool] = {}
_POOLS_LOCK = threading.Lock()
_INHERITED: list[object] = []
"""The parent's clients, in a forked child: closing them could disturb the parent's connections, and letting
them be collected would warn about sockets this process never opened."""


def pool_for(timeout: float | None) -> Pool:
    """The process's pool for these settings, created on first use."""
    settings = PoolSettings(timeout)
    pool = _POOLS.get(settings)
    if pool is None:
        with _POOLS_LOCK:
            pool = _POOLS.setdefault(settings, Pool(settings))
    return pool


def _after_fork_in_child() -> None:
    global _POOLS_LOCK
    _POOLS_LOCK = threading.Lock()
    for pool in list(_POOLS.values()):
        pool.forget_inherited()


def _close_all_at_exit() -> None:
    for pool in list(_POOLS.values()):
        pool.close_all()


if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all_at_exit)
