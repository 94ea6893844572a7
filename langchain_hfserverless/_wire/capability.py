"""Capability-aware routing and cost, as pure questions of a request and the catalog.

What a chat request needs from its provider (tools, structured output), which routing policy is in force for a
model id, and the cost metadata of an answer. The catalog itself is ``_wire.catalog``; fetching it is the
transport's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_hfserverless._wire.catalog import Catalog, cost
from langchain_hfserverless._wire.routing import ROUTING_SUFFIXES, split_model

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
PRICE_UNIT = "USD per million tokens"


def request_needs(params: Mapping[str, Any]) -> frozenset[str]:
    """What a chat body (or its keywords) asks of a provider: ``"tools"`` for tools or a ``tool_choice`` other
    than ``"none"``, ``"structured_output"`` for a ``response_format``."""
    needs = set()
    choice = params.get("tool_choice")
    if params.get("tools") or choice not in (None, "none"):
        needs.add("tools")
    if params.get("response_format"):
        needs.add("structured_output")
    return frozenset(needs)


def routing_policy(model: str, provider: str | None) -> str | None:
    """The policy the router applies to ``model``: ``"fastest"`` (no suffix) or ``"cheapest"``; ``None`` when the
    route names a provider (``provider=`` or ``model:provider``) or asks for ``:preferred`` (the user's own order on
    hf.co, known only to the router)."""
    if provider not in (None, "auto"):
        return None
    suffix = split_model(model)[1]
    if suffix is None:
        return "fastest"
    return suffix if suffix in ("fastest", "cheapest") else None


def cost_metadata(
    catalog: Catalog, model: str, provider: str | None, usage: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``{"cost": usd, "pricing": {...}}`` for ``response_metadata``; empty when the provider is unknown, not
    priced in the catalog, or the answer has no usage."""
    if not provider or provider in ("auto", *ROUTING_SUFFIXES) or not usage:
        return {}
    priced = cost(catalog, model, provider, usage)
    if priced.usd is None:
        return {}
    return {
        "cost": priced.usd,
        "pricing": {
            "provider": provider,
            "input": priced.input_price,
            "output": priced.output_price,
            "unit": PRICE_UNIT,
        },
    }
