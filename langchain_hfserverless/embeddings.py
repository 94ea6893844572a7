"""``HFServerlessEmbeddings``: feature extraction on the router, TEI or an Endpoint, batched and concurrent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import ContextThreadPoolExecutor
from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from langchain_hfserverless._connection import HFConnection
from langchain_hfserverless._plan import Open, Plan, Post, arun, run
from langchain_hfserverless._transport import Reply, Route, TaskRequest
from langchain_hfserverless._wire.embeddings import (
    HF,
    Dialect,
    DimensionsError,
    EmbeddingShapeError,
    TokenLevelError,
    UnsupportedOptionError,
    batch_body,
    body_template,
    check_width,
    dialect_of,
    fit_dimensions,
    request_options,
    vectors_from_wire,
)
from langchain_hfserverless._wire.errors import error_from_event
from langchain_hfserverless._wire.sse import is_error_event
from langchain_hfserverless.errors import HFServerlessAPIError, HFServerlessError, HFServerlessInvalidRequestError

_TASK = "feature-extraction"
_NO_ROUTE = frozenset({404, 405})


@dataclass(frozen=True)
class _Plan:
    """Where batches go and the body they share: resolved once per model, then reused for every batch."""

    route: Route
    dialect: Dialect
    template: dict[str, Any]
    key: str


def candidate_urls(base_url: str) -> list[str]:
    """Where feature extraction may live on a ``base_url`` server, most likely first.

    A server root is POSTed as given first (TEI and Inference Endpoints answer ``{"inputs"}`` there), then its
    OpenAI ``/v1/embeddings`` (vLLM). A ``/v1`` goes to ``/v1/embeddings``, then TEI's ``/embed`` at the root.
    Any other path is the route itself, used as given.
    """
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")

    def at(new_path: str) -> str:
        return urlunsplit(parts._replace(path=new_path))

    if not path:
        return [base_url, at("/v1/embeddings")]
    if path.endswith("/v1"):
        return [at(f"{path}/embeddings"), at(f"{path[: -len('/v1')]}/embed")]
    return [base_url]


def no_route_hint(base_url: str, tried: Sequence[str]) -> str:
    """What to do when ``base_url`` answered 404/405 on every route tried."""
    routes = "TEI serves …/embed (and the root), OpenAI-style servers (vLLM, TEI) serve …/v1/embeddings"
    if len(tried) > 1:
        return f"No embeddings route answered at {' nor '.join(tried)}. Give the full route: {routes}."
    path = urlsplit(base_url).path.rstrip("/")
    if path.endswith("/embeddings"):
        return (
            "That OpenAI-style route does not exist on this server: for TEI's own route end base_url in /embed, "
            "or give the server root or its /v1 and the route is found for you."
        )
    if path.endswith("/embed"):
        return (
            "That TEI route does not exist on this server: an OpenAI-style server (vLLM) serves /v1/embeddings; "
            "give the server root or its /v1 and the route is found for you."
        )
    return f"base_url is POSTed as given: give the server root or its /v1 and the route is found for you ({routes})."


class _Discovery:
    """The routes one request may take: the known one, or for a ``base_url`` root or ``/v1`` the likely route
    then the other. A 404/405 moves on to the next; on the last, the error names every URL tried and the fix."""

    def __init__(self, plans: list[_Plan], base_url: str | None) -> None:
        self._plans = plans
        self._base_url = base_url
        self._tried: list[str] = []
        self.first = plans[0]

    def after(self, plan: _Plan, exc: HFServerlessError) -> _Plan:
        """The route to try after ``plan`` failed with ``exc``; raises unless another route is worth trying."""
        self._tried.append(plan.route.url)
        if self._base_url is None or exc.status_code not in _NO_ROUTE:
            raise exc
        if len(self._tried) < len(self._plans):
            return self._plans[len(self._tried)]
        route = plan.route
        message = exc.server_message or "Not Found"
        raise exc.reworded(
            f"HTTP {exc.status_code} from {route.url} (base_url {self._base_url!r}, model {route.model!r}): "
            f"{message}. {no_route_hint(self._base_url, self._tried)}",
            model=route.model,
            provider=route.provider,
        ) from None


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class HFServerlessEmbeddings(HFConnection, Embeddings):
    """Embeddings via feature extraction: the router (hf-inference and providers), a TEI server or an Endpoint.

    Texts go out in batches of ``batch_size``, ``max_concurrency`` batches at a time (threads in sync, tasks in
    async), each batch retried on its own; the vectors come back in input order. Every answer shape is read:
    ``[dim]``, ``[n][dim]``, token-level output (pooled by ``pooling``), and OpenAI ``data[].embedding``.

    Example:
        .. code-block:: python

            from langchain_hfserverless import HFServerlessEmbeddings

            embeddings = HFServerlessEmbeddings(model="sentence-transformers/all-MiniLM-L6-v2", provider="hf-inference")
            vectors = embeddings.embed_documents(["first text", "second text"])
            query = embeddings.embed_query("a question")
    """

    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())

    model: str | None = None
    """Hub model id; may end in ``:provider``. Optional with ``base_url``."""
    base_url: str | None = None
    """Your own server; no Hub request is made. A full route (TEI ``…/embed``, OpenAI-style ``…/v1/embeddings``,
    or any other path) is POSTed to as given. A server root is tried as given (TEI, Inference Endpoints), then
    its ``/v1/embeddings``; a ``…/v1`` goes to ``/v1/embeddings``, then the root's TEI ``/embed``. The route that
    answers is kept for every later call; a 404/405 on every route names each URL tried and the likely fix."""
    batch_size: int = Field(default=32, gt=0)
    """Texts per request."""
    max_concurrency: int = Field(default=4, gt=0)
    """Requests in flight at once."""
    show_progress: bool = False
    """Draw a tqdm progress bar (``pip install tqdm``)."""
    normalize: bool | None = None
    """Unit-length vectors: asked of the server (TEI, hf-inference) and ensured client-side."""
    truncate: bool | None = None
    """Let the server truncate texts longer than the model's context (TEI, hf-inference)."""
    truncation_direction: str | None = None
    """``"left"`` or ``"right"`` (sent as written, so TEI's ``"Left"`` works too)."""
    prompt_name: str | None = None
    """A sentence-transformers prompt name (e.g. ``"query"``) for every text."""
    query_prompt_name: str | None = None
    """Prompt name for :meth:`embed_query` (overrides ``prompt_name``)."""
    document_prompt_name: str | None = None
    """Prompt name for :meth:`embed_documents` (overrides ``prompt_name``)."""
    dimensions: int | None = Field(default=None, gt=0)
    """Matryoshka: keep the first ``dimensions`` values and renormalise, client-side on every provider."""
    pooling: Literal["mean", "cls", "none"] = "mean"
    """How token-level output ``[tokens][hidden]`` becomes one vector; ``"none"`` raises instead."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Further body keys sent with every request, as given."""

    _plan_instance: _Plan | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_target(self) -> HFServerlessEmbeddings:
        if not self.model and not self.base_url:
            raise ValueError("HFServerlessEmbeddings needs model= (a Hub model id) or base_url= (your own server).")
        return self

    @field_validator("truncation_direction")
    @classmethod
    def _check_direction(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in ("left", "right"):
            raise ValueError(f"truncation_direction must be 'left' or 'right', not {value!r}.")
        return value

    # ------------------------------------------------------------------ request building

    def _candidates(self, sample: str | list[str]) -> Plan[list[_Plan]]:
        """The plan that worked before, or the candidates to try (one on the router, two for a root or ``/v1``)."""
        if self._plan_instance is not None:
            return [self._plan_instance]
        route: Route = yield Open(TaskRequest(_TASK, self.model, sample))
        plans = []
        for url in candidate_urls(self.base_url) if self.base_url else [route.url]:
            candidate = replace(route, url=url)
            dialect = dialect_of(candidate.url, candidate.payload)
            template, key = body_template(candidate.payload, dialect, candidate.model or self.model)
            plans.append(_Plan(candidate, dialect, template, key))
        if self._hf_only_options():  # OpenAI /v1/embeddings cannot carry them: try the TEI form first
            plans.sort(key=lambda plan: plan.dialect != HF)
        if len(plans) == 1:
            self._plan_instance = plans[0]
        return plans

    def _guessing(self) -> bool:
        """True while the route of a ``base_url`` is still one of several candidates."""
        return self._plan_instance is None and bool(self.base_url) and len(candidate_urls(self.base_url or "")) > 1

    def _hf_only_options(self) -> bool:
        names = (self.truncate, self.truncation_direction, self.prompt_name)
        return any(v is not None for v in (*names, self.query_prompt_name, self.document_prompt_name))

    def _body(self, plan: _Plan, inputs: str | list[str], prompt_name: str | None) -> dict[str, Any]:
        return batch_body(plan.template, plan.key, inputs, self._options(plan, prompt_name))

    def _embed_plan(self, inputs: str | list[str], prompt_name: str | None) -> Plan[list[list[float]]]:
        """One request and its vectors, on the known route or trying the candidates in turn (the one that
        answered is kept)."""
        discovery = _Discovery((yield from self._candidates(inputs)), self.base_url)
        plan = discovery.first
        while True:
            try:
                reply = yield Post(plan.route, self._body(plan, inputs, prompt_name))
            except HFServerlessError as exc:
                plan = discovery.after(plan, exc)
                continue
            self._plan_instance = plan
            return self._read(reply, plan.route, len(inputs) if isinstance(inputs, list) else None)

    def _embed(self, inputs: str | list[str], prompt_name: str | None) -> list[list[float]]:
        return run(self._embed_plan(inputs, prompt_name), self._transport.handlers)

    async def _aembed(self, inputs: str | list[str], prompt_name: str | None) -> list[list[float]]:
        return await arun(self._embed_plan(inputs, prompt_name), self._transport.async_handlers)

    def _options(self, plan: _Plan, prompt_name: str | None) -> dict[str, Any]:
        try:
            return request_options(
                plan.dialect,
                normalize=self.normalize,
                truncate=self.truncate,
                truncation_direction=self.truncation_direction,
                prompt_name=prompt_name or self.prompt_name,
                extra=self.model_kwargs,
            )
        except UnsupportedOptionError as exc:
            route = plan.route
            raise HFServerlessInvalidRequestError(
                f"Model {route.model!r} via {route.provider!r} speaks OpenAI /v1/embeddings, which has no {exc}: "
                "unset it, or use a provider running TEI (provider='hf-inference') or your own TEI base_url.",
                model=route.model,
                provider=route.provider,
            ) from None

    def _read(self, reply: Reply, route: Route, count: int | None) -> list[list[float]]:
        """One answer -> its vectors: shape, pooling, Matryoshka truncation, normalisation."""
        data = reply.json()
        if is_error_event(data):
            raise error_from_event(data, model=route.model, provider=route.provider)
        where = f"model {route.model!r} via {route.provider!r}"
        try:
            vectors = vectors_from_wire(data, count, self.pooling)
            return fit_dimensions(vectors, self.dimensions, normalize=bool(self.normalize))
        except TokenLevelError as exc:
            raise HFServerlessAPIError(
                f"{where} returned {exc}, and pooling='none' forbids reducing them: "
                "set pooling='mean' or 'cls', or use a sentence-transformers model.",
                model=route.model,
                provider=route.provider,
            ) from None
        except DimensionsError as exc:
            raise HFServerlessInvalidRequestError(
                f"{where}: {exc}. Lower dimensions= or pick a larger model.", model=route.model, provider=route.provider
            ) from None
        except EmbeddingShapeError as exc:
            raise HFServerlessAPIError(
                f"Unreadable embeddings from {where}: {exc}.", model=route.model, provider=route.provider
            ) from None

    def _progress(self, total: int) -> Any:
        if not self.show_progress:
            return _NoProgress()
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise ImportError("show_progress=True draws its bar with tqdm: pip install tqdm") from None
        return tqdm(total=total, desc=f"Embedding ({self.model or self.base_url})", unit="text")

    def _assemble(self, parts: list[list[list[float]]]) -> list[list[float]]:
        vectors = [vector for part in parts for vector in part]
        try:
            check_width(vectors, None)
        except EmbeddingShapeError as exc:
            assert self._plan_instance is not None  # set by the first answer
            route = self._plan_instance.route
            raise HFServerlessAPIError(
                f"Inconsistent embeddings from model {route.model!r} via {route.provider!r}: {exc}.",
                model=route.model,
                provider=route.provider,
            ) from None
        return vectors

    def _batches(self, texts: list[str]) -> list[list[str]]:
        size = self.batch_size
        return [texts[i : i + size] for i in range(0, len(texts), size)]

    # ------------------------------------------------------------------ calls

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts in batches, ``max_concurrency`` requests at a time; vectors in input order."""
        texts = _checked(texts)
        if not texts:
            return []
        batches = self._batches(texts)
        progress = self._progress(len(texts))

        def one(batch: list[str]) -> list[list[float]]:
            vectors = self._embed(batch, self.document_prompt_name)
            progress.update(len(batch))
            return vectors

        try:
            # While the route is still a guess, the first batch finds it alone; the others then follow it.
            first = [one(batches.pop(0))] if self._guessing() else []
            return self._assemble(first + _run_in_threads(one, batches, self.max_concurrency))
        finally:
            progress.close()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` on the async client: batches run as tasks, ``max_concurrency`` at once."""
        texts = _checked(texts)
        if not texts:
            return []
        batches = self._batches(texts)
        progress = self._progress(len(texts))
        limit = asyncio.Semaphore(self.max_concurrency)

        async def one(batch: list[str]) -> list[list[float]]:
            async with limit:
                vectors = await self._aembed(batch, self.document_prompt_name)
            progress.update(len(batch))
            return vectors

        tasks: list[asyncio.Future[list[list[float]]]] = []
        try:
            first = [await one(batches.pop(0))] if self._guessing() else []
            tasks = [asyncio.ensure_future(one(batch)) for batch in batches]
            return self._assemble(first + list(await asyncio.gather(*tasks)))
        finally:
            for task in tasks:
                task.cancel()
            progress.close()

    def embed_query(self, text: str) -> list[float]:
        """Embed one text (sent as a bare string, with ``query_prompt_name`` when set)."""
        _check_text(text)
        return self._embed(text, self.query_prompt_name)[0]

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query` on the async client."""
        _check_text(text)
        return (await self._aembed(text, self.query_prompt_name))[0]


def _check_text(text: Any) -> None:
    if not isinstance(text, str):
        raise TypeError(f"embed_query takes one string, not {type(text).__name__}; for many use embed_documents.")


def _checked(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed_documents takes a list of strings, not one string; for one text use embed_query.")
    texts = list(texts)
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{position}] is {type(text).__name__}: embed_documents takes a list of strings.")
    return texts


def _run_in_threads(fn: Callable[[list[str]], Any], batches: list[list[str]], limit: int) -> list[Any]:
    """``fn`` on every batch, ``limit`` at a time, results in batch order; the first failure cancels the rest."""
    if len(batches) <= 1 or limit == 1:
        return [fn(batch) for batch in batches]
    with ContextThreadPoolExecutor(max_workers=min(limit, len(batches))) as pool:
        futures: list[Future[Any]] = [pool.submit(fn, batch) for batch in batches]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
