"""The connection settings every adapter shares, and the pooled transport built from them."""

from __future__ import annotations

import difflib
import functools
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, Field, PrivateAttr, SecretStr, field_validator, model_validator
from typing_extensions import Self

from langchain_hfserverless._transport import RouterTransport

_BUILDING = threading.Lock()


def _new_building_lock() -> None:
    global _BUILDING
    _BUILDING = threading.Lock()  # a thread of the parent may have held it at fork: the child starts unlocked


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_building_lock)
_PACKAGE = "langchain_hfserverless"
# Keywords langchain-core's validators take besides its fields (deprecated: popped there with a warning).
_LEGACY_KEYWORDS = frozenset({"callback_manager"})


def _names(cls: type[BaseModel], fields: Iterator[str] | set[str]) -> set[str]:
    """The field names and every alias they may be given by."""
    names: set[str] = set()
    for name in fields:
        info = cls.model_fields[name]
        names.add(name)
        if info.alias:
            names.add(info.alias)
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
    return names


@functools.cache
def accepted_keywords(cls: type[BaseModel]) -> frozenset[str]:
    """Every keyword the constructor takes: fields of this package and of langchain-core, and their aliases."""
    return frozenset(_names(cls, set(cls.model_fields)) | _LEGACY_KEYWORDS)


@functools.cache
def own_keywords(cls: type[BaseModel]) -> frozenset[str]:
    """The keywords of fields this package defines (langchain-core's ``tags``, ``metadata``... excluded)."""
    foreign: set[str] = set()
    for base in cls.__mro__:
        if issubclass(base, BaseModel) and not base.__module__.startswith(_PACKAGE):
            foreign.update(base.model_fields)
    return frozenset(_names(cls, set(cls.model_fields) - foreign))


def check_keywords(cls: type[BaseModel], data: Any) -> None:
    """Raise on a constructor keyword ``cls`` does not take, naming it and the closest field.

    Also raises when ``model_kwargs`` holds a key (with a value other than ``None``) that is one of the adapter's
    own fields: one would silently override the other.
    """
    if not isinstance(data, Mapping):
        return
    known = accepted_keywords(cls)
    unknown = [key for key in data if key not in known]
    has_extra = "model_kwargs" in cls.model_fields
    if unknown:
        public = sorted(name for name in known if not name.startswith("_"))
        described = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), public, n=1)
            described.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
        text = f"{cls.__name__} got unknown keyword{'s' if len(unknown) > 1 else ''}: {', '.join(described)}."
        if has_extra:
            keys = [key for key, line in zip(unknown, described, strict=True) if "did you mean" not in line]
            example = ", ".join(f"{key!r}: ..." for key in keys) or "..."
            text += f" Provider-specific request keys go in model_kwargs={{{example}}}."
        raise ValueError(text)
    extra = data.get("model_kwargs")
    if has_extra and isinstance(extra, Mapping):
        # An explicit null stays allowed: a field left unset is omitted, so only model_kwargs can send one.
        clash = sorted(str(key) for key, value in extra.items() if key in own_keywords(cls) and value is not None)
        if clash:
            fields = ", ".join(f"{key}=..." for key in clash)
            raise ValueError(
                f"model_kwargs holds {', '.join(map(repr, clash))}, which {cls.__name__} takes as a field: "
                f"pass {fields} instead."
            )


def check_bounds(
    name: str, value: float | None, *, ge: float | None = None, gt: float | None = None, le: float | None = None
) -> None:
    """Raise when a numeric setting is out of range (``None``, unset, always passes), saying what is allowed."""
    if value is None:
        return
    if (ge is None or value >= ge) and (gt is None or value > gt) and (le is None or value <= le):
        return
    allowed = [f">= {ge}" if ge is not None else "", f"> {gt}" if gt is not None else ""]
    allowed.append(f"<= {le}" if le is not None else "")
    raise ValueError(f"{name} must be {' and '.join(filter(None, allowed))}, got {value!r}.")


def check_timeout(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, or None for no limit; got {value!r}.")
    return value


def check_max_retries(value: int) -> int:
    if value < 0:
        raise ValueError(f"max_retries must be 0 (a single attempt) or more; got {value!r}.")
    return value


class HFConnection(BaseModel):
    """Where requests go, with which token, and how hard to try: one definition for chat, LLM, embeddings and tools.

    Construction is strict: an unknown keyword raises, naming the closest field; numbers out of range raise,
    saying what is allowed.

    Connections are pooled per process and shared by every instance with the same ``timeout`` (the token and
    headers travel with each request, so instances with different tokens share connections too).
    :meth:`close` / :meth:`aclose` release this instance's hold on them.

    An instance pickles before and after use (for multiprocessing, Spark, Ray): the pool and learned state (cached
    routes, tokenizer, plans) stay behind and are rebuilt on first use. After ``os.fork()`` a child opens its own
    connections and never uses its parent's.
    """

    provider: str = "auto"
    """``"auto"`` lets the router choose (your preference order on hf.co); or a provider name."""
    base_url: str | None = None
    """A dedicated Inference Endpoint, TGI, TEI or vLLM server. No Hub request is made for it."""
    router_url: str = Field(default_factory=lambda: os.environ.get("HF_ROUTER_URL") or "https://router.huggingface.co")
    """The router, or your gateway or mirror in front of it (chat, tasks, the model catalog); default
    ``HF_ROUTER_URL``, else ``https://router.huggingface.co``. The ambient token (``HF_TOKEN``, saved login) goes
    only to a Hugging Face host; any other router gets only an explicit ``api_key``."""
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "hf_token", "huggingfacehub_api_token")
    )
    """Token; else ``HF_TOKEN``, else the saved ``hf auth login``. The ambient token never goes to a
    non-Hugging-Face ``base_url``; an explicit one does."""
    timeout: float | None = 120.0
    """Seconds (> 0) to wait for each step of a request — connect, send, each read of the answer (``None``: no
    limit)."""
    max_retries: int = 2
    """Retries (>= 0) of 429, 502, 503, 504 and connection failures, honouring ``Retry-After`` / ``estimated_time``."""
    default_headers: dict[str, str] | None = Field(default=None, repr=False)
    """Extra headers for every request."""
    bill_to: str | None = None
    """Organisation billed for the request (``X-HF-Bill-To``)."""
    use_cache: bool | None = None
    """``False`` sends ``x-use-cache: false``."""
    wait_for_model: bool | None = None
    """``True`` sends ``x-wait-for-model: true``: hold while a cold model loads instead of a 503."""

    numeric_bounds: ClassVar[Mapping[str, Mapping[str, float]]] = {}
    """Allowed ranges of an adapter's numeric fields, checked at construction: ``{"top_k": {"ge": 1}}``."""

    _transport_instance: RouterTransport | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _check_keywords(cls, data: Any) -> Any:
        check_keywords(cls, data)
        return data

    @field_validator("timeout")
    @classmethod
    def _check_timeout(cls, value: float | None) -> float | None:
        return check_timeout(value)

    @field_validator("max_retries")
    @classmethod
    def _check_max_retries(cls, value: int) -> int:
        return check_max_retries(value)

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        for name, bounds in self.numeric_bounds.items():
            check_bounds(name, getattr(self, name), **bounds)
        return self

    @field_validator("base_url", "router_url")
    @classmethod
    def _check_base_url(cls, value: str | None, info: Any) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            name = info.field_name
            raise ValueError(f"{name} must start with http:// or https://, got {value!r} (e.g. 'http://{value}').")
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
                        router_url=self.router_url,
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

    def __getstate__(self) -> dict[Any, Any]:
        """The fields, without private state: the pool is the process's own, the rest is rebuilt on first use."""
        state = super().__getstate__()
        state["__pydantic_private__"] = {
            name: attr.get_default() for name, attr in type(self).__private_attributes__.items()
        }
        return state

    def close(self) -> None:
        """Release this instance's hold on the shared sync connections.

        They close when no other instance of the process with the same ``timeout`` holds them (instances that were
        garbage-collected without closing do not count). The instance stays usable: its next call holds them again,
        reopening them if needed. Leftover connections are closed at interpreter exit, so closing is optional.
        """
        if self._transport_instance is not None:
            self._transport_instance.close()

    async def aclose(self) -> None:
        """Release this instance's hold on the running event loop's shared async connections (see :meth:`close`).

        A loop's connections are also closed when the loop shuts down through ``asyncio.run()``.
        """
        if self._transport_instance is not None:
            await self._transport_instance.aclose()
