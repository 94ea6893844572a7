"""The router's model catalog (``GET /v1/models``) as an immutable view, and the pure questions asked of it.

Pure: takes the JSON (bytes, str or parsed) and answers from it; fetching is the transport's job. Both forms the
router serves are read: the list (``{"object": "list", "data": [model, ...]}``) and one model
(``/v1/models/{org}/{model}``). Unknown fields are kept, missing ones read as "unknown" (``None``), never as
``False`` or ``0``: a provider that does not say it supports tools is not assumed to.

Queries:
    - :meth:`Catalog.providers`: a model's providers with capabilities, prices and speed.
    - :func:`choose_provider`: live providers able to serve a request, ordered by a routing policy.
    - :func:`model_profile`: a langchain-core ``ModelProfile`` dict for a model (and optional provider).
    - :func:`cost`: the USD price of a call from its usage.

A catalog saved with :meth:`Catalog.snapshot` is the router's own list JSON, so ``curl .../v1/models > file`` and
``Catalog.from_json(file.read_bytes())`` work too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from langchain_core.language_models import ModelProfile

from langchain_hfserverless._wire.routing import ROUTING_SUFFIXES, split_model

Need = Literal["tools", "structured_output", "image_input"]
NEEDS: frozenset[str] = frozenset({"tools", "structured_output", "image_input"})
Policy = Literal["fastest", "cheapest", "preferred"]
POLICIES: frozenset[str] = frozenset({"fastest", "cheapest", "preferred"})

_TOKENS_PER_PRICE_UNIT = 1_000_000  # router prices are USD per million tokens


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 1 else None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


@dataclass(frozen=True)
class ProviderOffer:
    """One provider serving one model, as the router reports it (``None`` = the router did not say).

    Prices are USD per million tokens. ``throughput`` is tokens per second.
    """

    provider: str
    status: str | None = None
    context_length: int | None = None
    input_price: float | None = None
    output_price: float | None = None
    is_free: bool | None = None
    supports_tools: bool | None = None
    supports_structured_output: bool | None = None
    first_token_latency_ms: float | None = None
    throughput: float | None = None
    is_model_author: bool | None = None
    supports_reasoning: bool | None = None
    """Not in the documented shape: read only if the router ever says it, so ``reasoning_output`` is never guessed."""

    @property
    def live(self) -> bool:
        """The router routes to it now (``status == "live"``; ``"error"`` and ``"staging"`` are not)."""
        return self.status == "live"

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ProviderOffer | None:
        provider = _str(data.get("provider"))
        if provider is None:
            return None
        pricing = data.get("pricing")
        pricing = pricing if isinstance(pricing, Mapping) else {}
        return cls(
            provider=provider,
            status=_str(data.get("status")),
            context_length=_int(data.get("context_length")),
            input_price=_number(pricing.get("input")),
            output_price=_number(pricing.get("output")),
            is_free=_bool(data.get("is_free")),
            supports_tools=_bool(data.get("supports_tools")),
            supports_structured_output=_bool(data.get("supports_structured_output")),
            first_token_latency_ms=_number(data.get("first_token_latency_ms")),
            throughput=_number(data.get("throughput")),
            is_model_author=_bool(data.get("is_model_author")),
            supports_reasoning=_bool(data.get("supports_reasoning")),
        )

    def has(self, need: str) -> bool:
        """Whether this provider says it supports ``need`` (unknown counts as no)."""
        if need == "tools":
            return self.supports_tools is True
        if need == "structured_output":
            return self.supports_structured_output is True
        return True  # model-level needs (image_input) are checked on the model

    def prices(self) -> tuple[float, float] | None:
        """(input, output) USD per million tokens; ``(0, 0)`` when free; ``None`` when unknown."""
        if self.is_free:
            return 0.0, 0.0
        if self.input_price is None or self.output_price is None:
            return None
        return self.input_price, self.output_price


@dataclass(frozen=True)
class CatalogModel:
    """One chat model of the catalog with its providers, in the router's order."""

    id: str
    owned_by: str | None
    created: int | None
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    providers: tuple[ProviderOffer, ...]

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> CatalogModel | None:
        model_id = _str(data.get("id"))
        if model_id is None:
            return None
        architecture = data.get("architecture")
        architecture = architecture if isinstance(architecture, Mapping) else {}
        raw_providers = data.get("providers")
        offers = (
            ProviderOffer.from_wire(p)
            for p in (raw_providers if isinstance(raw_providers, list) else ())
            if isinstance(p, Mapping)
        )
        created = data.get("created")
        return cls(
            id=model_id,
            owned_by=_str(data.get("owned_by")),
            created=created if isinstance(created, int) and not isinstance(created, bool) else None,
            input_modalities=_strings(architecture.get("input_modalities")),
            output_modalities=_strings(architecture.get("output_modalities")),
            providers=tuple(o for o in offers if o is not None),
        )

    def offer(self, provider: str) -> ProviderOffer | None:
        return next((o for o in self.providers if o.provider == provider), None)

    @property
    def live_providers(self) -> tuple[ProviderOffer, ...]:
        return tuple(o for o in self.providers if o.live)


class Catalog:
    """The router's ``/v1/models`` answer, immutable; unknown fields survive :meth:`snapshot`.

    Example:
        >>> catalog = Catalog.from_json(b'{"object": "list", "data": [{"id": "org/m", "providers": []}]}')
        >>> catalog.model("org/m:cheapest").id
        'org/m'
    """

    __slots__ = ("_by_id", "_raw")

    def __init__(self, raw_models: Iterable[Mapping[str, Any]]) -> None:
        kept = [dict(m) for m in raw_models if isinstance(m, Mapping)]
        self._raw = orjson.dumps({"object": "list", "data": kept})
        by_id: dict[str, CatalogModel] = {}
        for raw in kept:
            model = CatalogModel.from_wire(raw)
            if model is not None:
                by_id.setdefault(model.id, model)
        self._by_id = by_id

    @classmethod
    def from_json(cls, data: bytes | str | Mapping[str, Any] | list[Any]) -> Catalog:
        """Read the list form, the single-model form, a bare list of models, or a :meth:`snapshot`.

        Raises:
            ValueError: the JSON is unreadable or is none of these shapes.
        """
        if isinstance(data, (bytes, str)):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"The model catalog is not JSON ({exc}): {str(data)[:200]!r}") from None
        if isinstance(data, list):
            return cls(data)
        if isinstance(data, Mapping):
            if isinstance(data.get("data"), list):
                return cls(data["data"])
            if isinstance(data.get("id"), str):  # /v1/models/{org}/{model}
                return cls([data])
        raise ValueError(
            "The model catalog has neither a 'data' list (GET /v1/models) nor a model 'id' "
            f"(GET /v1/models/org/model): {str(data)[:200]!r}"
        )

    def snapshot(self) -> bytes:
        """The catalog as the router's list JSON (every field it had, known or not), to save and load offline."""
        return self._raw

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[CatalogModel]:
        return iter(self._by_id.values())

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and split_model(model)[0] in self._by_id

    def __repr__(self) -> str:
        return f"Catalog({len(self)} models)"

    def get(self, model: str) -> CatalogModel | None:
        """The model, or ``None``; a ``:provider`` / ``:policy`` suffix is ignored."""
        return self._by_id.get(split_model(model)[0])

    def model(self, model: str) -> CatalogModel:
        """The model; ``ValueError`` naming it when the catalog does not list it."""
        found = self.get(model)
        if found is None:
            raise ValueError(
                f"Model {split_model(model)[0]!r} is not in the router's catalog ({len(self)} chat models): check "
                "the id (org/name, as on the Hub), or refresh a saved catalog snapshot."
            )
        return found

    def providers(self, model: str) -> tuple[ProviderOffer, ...]:
        """Every provider of ``model`` (live or not) with capabilities, prices and speed."""
        return self.model(model).providers


def _check_needs(needs: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(needs)
    unknown = wanted - NEEDS
    if unknown:
        raise ValueError(f"Unknown need(s) {sorted(unknown)}: use any of {sorted(NEEDS)}.")
    return wanted


def capable_providers(
    catalog: Catalog, model: str, needs: Iterable[str] = (), *, exclude: Iterable[str] = ()
) -> tuple[ProviderOffer, ...]:
    """Live providers of ``model`` that say they support every need, in the router's order.

    ``image_input`` is a property of the model (its input modalities): without it no provider qualifies.
    """
    wanted = _check_needs(needs)
    found = catalog.model(model)
    if "image_input" in wanted and "image" not in found.input_modalities:
        return ()
    skipped = set(exclude)
    return tuple(o for o in found.live_providers if o.provider not in skipped and all(o.has(need) for need in wanted))


def _fastest_key(offer: ProviderOffer) -> tuple[float, float]:
    # Unknown speed sorts after every known one.
    throughput = -offer.throughput if offer.throughput is not None else math.inf
    latency = offer.first_token_latency_ms if offer.first_token_latency_ms is not None else math.inf
    return throughput, latency


def _cheapest_key(offer: ProviderOffer) -> tuple[float, float, float, float]:
    prices = offer.prices()
    if prices is None:
        return math.inf, math.inf, *_fastest_key(offer)
    return prices[0] + prices[1], prices[1], *_fastest_key(offer)


def choose_provider(
    catalog: Catalog,
    model: str,
    needs: Iterable[str] = (),
    policy: str = "fastest",
    exclude: Iterable[str] = (),
) -> list[str] | None:
    """Provider names able to serve the request, best first under ``policy``; ``None`` = leave it to the router.

    - ``"fastest"``: throughput (tokens/s) descending, ties by first-token latency ascending; unknown speed last.
    - ``"cheapest"``: input + output price per million tokens ascending (free = 0), ties by output price, then
      speed; unknown prices last.
    - ``"preferred"``: ``None`` — the user's own order on hf.co is known only to the router.

    Only live providers that say they support every need (``"tools"``, ``"structured_output"``,
    ``"image_input"``) and are not in ``exclude`` are listed; an empty list means none can.

    Raises:
        ValueError: unknown policy or need, or a model the catalog does not list.
    """
    if policy not in POLICIES:
        raise ValueError(f"Unknown routing policy {policy!r}: use one of {sorted(POLICIES)}.")
    offers = capable_providers(catalog, model, needs, exclude=exclude)
    if policy == "preferred":
        return None
    key = _fastest_key if policy == "fastest" else _cheapest_key
    return [o.provider for o in sorted(offers, key=key)]


def _all_or_none(values: Iterable[bool | None]) -> bool | None:
    """True if every value is True, False if any is False, else unknown (also for no values)."""
    seen = list(values)
    if not seen:
        return None
    if any(v is False for v in seen):
        return False
    return True if all(v is True for v in seen) else None


def model_profile(catalog: Catalog, model: str, provider: str | None = None) -> ModelProfile:
    """A langchain-core ``ModelProfile`` for ``model``, served by ``provider`` or by auto routing.

    With a provider (also given as ``model:provider``), its own context length and capabilities. Under auto routing
    (no provider, ``"auto"`` or a policy suffix) the router may pick any live provider, so the profile is what holds
    for all of them: the smallest ``context_length`` as ``max_input_tokens``, and ``tool_calling`` /
    ``structured_output`` True only if every live provider says so (False if one says no). Modalities come from the
    model. Anything the catalog does not say is left out; ``reasoning_output`` is never guessed.
    """
    found = catalog.model(model)
    suffix = split_model(model)[1]
    if provider is None and suffix not in (None, *ROUTING_SUFFIXES):
        provider = suffix
    if provider in (None, "auto", *ROUTING_SUFFIXES):
        offers = found.live_providers
    else:
        offer = found.offer(provider)
        if offer is None:
            served = ", ".join(o.provider for o in found.providers) or "none"
            raise ValueError(f"Provider {provider!r} does not serve {found.id!r} (providers: {served}).")
        offers = (offer,)
    profile = ModelProfile()
    lengths = [o.context_length for o in offers if o.context_length is not None]
    if lengths and len(lengths) == len(offers):
        profile["max_input_tokens"] = min(lengths)
    tools = _all_or_none(o.supports_tools for o in offers)
    if tools is not None:
        profile["tool_calling"] = tools
    structured = _all_or_none(o.supports_structured_output for o in offers)
    if structured is not None:
        profile["structured_output"] = structured
    if found.input_modalities:
        profile["text_inputs"] = "text" in found.input_modalities
        profile["image_inputs"] = "image" in found.input_modalities
    if found.output_modalities:
        profile["text_outputs"] = "text" in found.output_modalities
    reasoning = _all_or_none(o.supports_reasoning for o in offers)
    if reasoning is not None:
        profile["reasoning_output"] = reasoning
    return profile


@dataclass(frozen=True)
class Cost:
    """The price of one call: ``usd`` is ``None`` when the provider's prices are unknown."""

    usd: float | None
    input_price: float | None
    """USD per million input tokens used (0 when free)."""
    output_price: float | None
    """USD per million output tokens used (0 when free)."""
    provider: str


def _tokens(usage: Mapping[str, Any], key: str) -> int:
    value = usage.get(key)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0


def cost(catalog: Catalog, model: str, provider: str, usage: Mapping[str, Any]) -> Cost:
    """The USD cost of a call from its usage (``UsageMetadata`` or OpenAI ``usage``) at ``provider``'s prices.

    ``provider`` is the one that served the call (``response_metadata["inference_provider"]``). Free providers
    cost 0; unknown prices, an unknown provider or an unknown model give ``usd=None``.
    """
    found = catalog.get(model)
    offer = found.offer(provider) if found is not None else None
    prices = offer.prices() if offer is not None else None
    if prices is None:
        return Cost(None, offer.input_price if offer else None, offer.output_price if offer else None, provider)
    inp = _tokens(usage, "input_tokens") or _tokens(usage, "prompt_tokens")
    out = _tokens(usage, "output_tokens") or _tokens(usage, "completion_tokens")
    usd = (inp * prices[0] + out * prices[1]) / _TOKENS_PER_PRICE_UNIT
    return Cost(usd, prices[0], prices[1], provider)
