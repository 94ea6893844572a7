"""The router's model catalog: which chat models it serves, by which providers, with what, at what price and speed.

``get_catalog()`` / ``await aget_catalog()`` fetch ``GET {router_url}/v1/models`` once per process and router per
hour (shared with ``ChatHFServerless``'s routing, profile and cost); ``save_catalog`` / ``load_catalog`` keep a
snapshot for offline use (``ChatHFServerless(catalog=path)``). The questions are pure functions of a catalog.

Example:
    .. code-block:: python

        from langchain_hfserverless.catalog import find_providers, get_catalog

        catalog = get_catalog()
        for offer in find_providers(catalog, "openai/gpt-oss-120b", needs={"tools"}, order="cheapest"):
            print(offer.provider, offer.input_price, offer.output_price, offer.throughput)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from langchain_hfserverless._catalog_cache import CATALOG_TTL, FAILURE_TTL, LoadCatalog, forget_catalogs
from langchain_hfserverless._plan import Plan, arun, run
from langchain_hfserverless._transport import RouterTransport
from langchain_hfserverless._wire.catalog import (
    Catalog,
    CatalogModel,
    Cost,
    ProviderOffer,
    capable_providers,
    choose_provider,
    cost,
    model_profile,
)

__all__ = [
    "CATALOG_TTL",
    "FAILURE_TTL",
    "Catalog",
    "CatalogModel",
    "Cost",
    "ProviderOffer",
    "aget_catalog",
    "choose_provider",
    "cost",
    "find_models",
    "find_providers",
    "forget_catalogs",
    "get_catalog",
    "load_catalog",
    "model_profile",
    "save_catalog",
]


def _load(refresh: bool) -> Plan[Catalog]:
    catalog: Catalog = yield LoadCatalog(strict=True, refresh=refresh)
    return catalog


def _transport(router_url: str | None, api_key: str | None, timeout: float | None) -> RouterTransport:
    return RouterTransport(api_key=api_key, router_url=router_url, timeout=timeout)


def get_catalog(
    router_url: str | None = None, *, api_key: str | None = None, refresh: bool = False, timeout: float | None = 30.0
) -> Catalog:
    """The router's catalog: one ``GET {router_url}/v1/models`` per process and router per :data:`CATALOG_TTL`.

    Args:
        router_url: default ``HF_ROUTER_URL``, else ``https://router.huggingface.co``.
        api_key: sent if given (the catalog needs none); the ambient token goes only to a Hugging Face host.
        refresh: fetch now even if a fresh catalog (or a failure remembered for :data:`FAILURE_TTL`) is cached.
        timeout: seconds for each step of the request.

    Raises:
        HFServerlessError: the router could not be reached or answered something else than a catalog (also when
            that failure is remembered from a call less than :data:`FAILURE_TTL` seconds ago).
    """
    transport = _transport(router_url, api_key, timeout)
    try:
        return run(_load(refresh), transport.handlers)
    finally:
        transport.close()


async def aget_catalog(
    router_url: str | None = None, *, api_key: str | None = None, refresh: bool = False, timeout: float | None = 30.0
) -> Catalog:
    """:func:`get_catalog` for the event loop: answered in place when cached, else fetched off the loop."""
    transport = _transport(router_url, api_key, timeout)
    try:
        return await arun(_load(refresh), transport.async_handlers)
    finally:
        await transport.aclose()


def save_catalog(catalog: Catalog, path: str | os.PathLike[str]) -> None:
    """Write ``catalog`` as the router's own list JSON (every field, known or not), for :func:`load_catalog`."""
    Path(path).write_bytes(catalog.snapshot())


def load_catalog(path: str | os.PathLike[str]) -> Catalog:
    """Read a catalog saved by :func:`save_catalog` (or ``curl https://router.huggingface.co/v1/models > file``).

    Raises:
        ValueError: the file is not a catalog. ``OSError``: it cannot be read.
    """
    return Catalog.from_json(Path(path).read_bytes())


def find_providers(
    catalog: Catalog, model: str, needs: Iterable[str] = (), *, order: str = "cheapest"
) -> list[ProviderOffer]:
    """Live providers of ``model`` that support every need, best first.

    Args:
        needs: any of ``"tools"``, ``"structured_output"``, ``"image_input"``.
        order: ``"cheapest"`` (input + output price; free first, unknown last), ``"fastest"`` (throughput, then
            first-token latency; unknown last) or ``"preferred"`` (the router's own listing order).
    """
    offers = {o.provider: o for o in capable_providers(catalog, model, needs)}
    names = choose_provider(catalog, model, needs, policy=order)
    return list(offers.values()) if names is None else [offers[name] for name in names]


def find_models(catalog: Catalog, needs: Iterable[str] = ()) -> list[CatalogModel]:
    """Models with at least one live provider that supports every need, in the catalog's order."""
    wanted = tuple(needs)
    return [m for m in catalog if capable_providers(catalog, m.id, wanted)]
