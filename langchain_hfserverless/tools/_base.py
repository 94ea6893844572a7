"""``HFServerlessTaskTool``: what every task tool shares — fields, transport, and one plan run by two thin shells.

A tool describes its call as a *plan*: a generator that yields I/O steps (:class:`Open` a route, :class:`Post`,
:class:`Get` a URL the provider answered with, :class:`FetchUntrusted` a URL given as a tool argument, :class:`Pause`
between polls) and receives their results. The shared drivers of
``langchain_hfserverless._plan`` run the steps, with the transport's blocking calls or its awaitable ones; the logic
exists once.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool
from pydantic import ConfigDict, Field, WithJsonSchema, model_validator

from langchain_hfserverless._connection import HFConnection
from langchain_hfserverless._plan import Get, Pause, Post, arun, run
from langchain_hfserverless._transport import Reply, Route, TaskRequest
from langchain_hfserverless._untrusted_fetch import Fetched, UntrustedFetchError, afetch_untrusted, fetch_untrusted
from langchain_hfserverless._wire.errors import error_from_event
from langchain_hfserverless._wire.sse import is_error_event
from langchain_hfserverless.errors import HFServerlessAPIError, HFServerlessTimeoutError
from langchain_hfserverless.tools._jobs import AnswerError, Job, Outcome, Ready, job_progress, read_media_answer
from langchain_hfserverless.tools._media import (
    MediaBytes,
    MediaInputError,
    MediaKind,
    RemoteMedia,
    checked_media,
    human_size,
    media_output,
    read_media_input,
    summarise_media,
)

_MAX_HOPS = 8  # URLs followed for one answer (result JSON -> file), so a loop cannot run forever

MediaInput = Annotated[str | bytes | Path, WithJsonSchema({"type": "string"})]
"""A media argument: the model sends a string (URL, data URL, base64, or a path where allowed); Python callers may
also pass bytes or a ``pathlib.Path`` (trusted: a model's JSON arguments can never produce one)."""


def hub_bytes(media: MediaBytes) -> Any:
    """Media as huggingface_hub's MimeBytes, so provider helpers and the transport label it with its type."""
    from huggingface_hub.inference._common import MimeBytes

    return MimeBytes(bytes(media), mime_type=media.mime_type)


@dataclass(frozen=True)
class Open:
    """Build the route and body of the task call (may ask the Hub which provider serves the model)."""

    inputs: Any
    parameters: Mapping[str, Any] | None = None
    extra_payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class FetchUntrusted:
    """GET a URL that came from the tool's arguments: no credential, public addresses only (see _untrusted_fetch)."""

    url: str


Step = Open | Post | Get | FetchUntrusted | Pause
Plan = Generator[Step, Any, tuple[Any, Any]]
T = TypeVar("T")


class HFServerlessTaskTool(HFConnection, BaseTool):
    """Base of the task tools: a Hub task (text-to-image, translation, ...) served by the Inference Providers router.

    Each tool answers with ``(content, artifact)``: a short text for the model (plus the image itself as a content
    block for image tools) and the full result for your code — :class:`MediaBytes` for images and audio, the
    structured answer for the other tasks. Model, provider, token, timeout and retries work as in
    :class:`~langchain_hfserverless.ChatHFServerless`; failures raise the same typed errors.

    Media arguments are untrusted (a model may be prompt-injected): a URL is fetched with no credential and only
    from public addresses, and a local path is read only with ``local_files_dir`` or ``allow_local_files``.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TranslationTool

            tool = TranslationTool()  # default model; HF_TOKEN from the environment
            print(tool.invoke({"text": "Hello world", "src_lang": "en_XX", "tgt_lang": "fr_XX"}))
    """

    model_config = ConfigDict(extra="forbid")

    task: ClassVar[str]
    """The Hub task id (``"text-to-image"``)."""
    default_model: ClassVar[str]
    """The model used when neither ``model`` nor ``base_url`` is given."""
    summary: ClassVar[str]
    """The description for the model, with ``{model}`` standing for the configured model."""

    description: str = ""
    """Filled from the class's ``summary`` unless you pass your own."""
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    model: str | None = None
    """Hub model id, optionally ``:provider``; defaults to the task's ``default_model``."""
    base_url: str | None = None
    """A dedicated Inference Endpoint or server: the request goes to this URL as given, in hf-inference form."""
    parameters: dict[str, Any] = Field(default_factory=dict)
    """Task parameters sent with every call (e.g. ``{"num_inference_steps": 4}``); call arguments win."""
    max_input_bytes: int = 20 * 1024 * 1024
    """Largest image or audio input accepted, in bytes (a URL's download stops as soon as it is exceeded)."""
    allow_local_files: bool = False
    """Let media arguments name any local file the process can read. Only for trusted callers: a prompt-injected
    model could send ``~/.ssh/id_rsa``. Prefer ``local_files_dir``. (A ``pathlib.Path`` from Python code is always
    read: a model cannot send one.)"""
    local_files_dir: str | Path | None = None
    """Let media arguments name files inside this directory only (relative names start there; ``..`` and symlinks
    that lead outside are refused). When set, it confines ``allow_local_files=True`` too."""
    allow_private_urls: bool = False
    """Let media URLs reach loopback, private, link-local and other non-public addresses. This exposes whatever
    the machine can reach — localhost services, the intranet, cloud metadata (169.254.169.254) — to the model."""
    fetch_timeout: float = 30.0
    """Seconds allowed for fetching a media URL, redirects included."""

    @model_validator(mode="after")
    def _fill_defaults(self) -> HFServerlessTaskTool:
        if not self.model and not self.base_url:
            self.model = self.default_model
        if "description" not in self.model_fields_set:
            self.description = self.summary.format(model=self.model or "the model behind base_url")
        if self.max_input_bytes <= 0:
            raise ValueError("max_input_bytes must be positive.")
        if self.fetch_timeout <= 0:
            raise ValueError("fetch_timeout must be positive.")
        return self

    # ------------------------------------------------------------------ the two shells

    # The shared drivers run the plan (see langchain_hfserverless._plan); a tool adds the steps only tools take.

    def _run(self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any) -> tuple[Any, Any]:
        transport, limits = self._transport, self._fetch_limits()
        handlers = {
            **transport.handlers,
            Open: lambda step: transport.route(self._request(step)),
            FetchUntrusted: lambda step: fetch_untrusted(step.url, **limits),
        }
        return run(self._plan(**kwargs), handlers)

    async def _arun(self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any) -> tuple[Any, Any]:
        transport, limits = self._transport, self._fetch_limits()
        handlers = {
            **transport.async_handlers,
            Open: lambda step: transport.aroute(self._request(step)),
            FetchUntrusted: lambda step: afetch_untrusted(step.url, **limits),
        }
        return await arun(self._plan(**kwargs), handlers)

    def _fetch_limits(self) -> dict[str, Any]:
        return {
            "max_bytes": self.max_input_bytes,
            "timeout": self.fetch_timeout,
            "allow_private": self.allow_private_urls,
        }

    def _request(self, step: Open) -> TaskRequest:
        return TaskRequest(self.task, self.model, step.inputs, step.parameters, step.extra_payload)

    # ------------------------------------------------------------------ plan building blocks

    def _plan(self, **kwargs: Any) -> Plan:
        raise NotImplementedError

    def _parameters(self, **call: Any) -> dict[str, Any]:
        """The tool's ``parameters``, then the call's arguments that were given (``None`` means not given)."""
        return {**self.parameters, **{k: v for k, v in call.items() if v is not None}}

    def _unreadable(self, route: Route, exc: Exception) -> HFServerlessAPIError:
        return HFServerlessAPIError(
            f"Unreadable {self.task} answer from model {route.model!r} via {route.provider!r}: {exc}",
            model=route.model,
            provider=route.provider,
        )

    def _call_json(
        self,
        inputs: Any,
        parameters: Mapping[str, Any] | None = None,
        extra_payload: Mapping[str, Any] | None = None,
    ) -> Generator[Step, Any, tuple[Any, Route]]:
        """Open, POST, and read a JSON answer; a 200 body that is an error raises the typed error."""
        route: Route = yield Open(inputs, parameters or None, extra_payload or None)
        reply: Reply = yield Post(route)
        payload = reply.json()
        if is_error_event(payload):
            raise error_from_event(payload, model=route.model, provider=route.provider)
        return payload, route

    def _read_json(
        self,
        inputs: Any,
        parameters: Mapping[str, Any] | None,
        read: Callable[[Any], T],
        extra_payload: Mapping[str, Any] | None = None,
    ) -> Generator[Step, Any, T]:
        """The JSON answer of the task call as ``read`` makes it; an answer ``read`` cannot use raises the API error."""
        payload, route = yield from self._call_json(inputs, parameters, extra_payload)
        try:
            return read(payload)
        except AnswerError as exc:
            raise self._unreadable(route, exc) from None

    def _read_media_json(
        self,
        value: Any,
        kind: MediaKind,
        parameters: Mapping[str, Any] | None,
        read: Callable[[Any], T],
        extra: Callable[[MediaBytes], Mapping[str, Any]] | None = None,
    ) -> Generator[Step, Any, T]:
        """:meth:`_read_json` with one media argument as the inputs (``extra`` adds body keys made from it)."""
        media = yield from self._media_input(value, kind)
        return (yield from self._read_json(hub_bytes(media), parameters, read, extra(media) if extra else None))

    def _media_input(self, value: Any, kind: MediaKind) -> Generator[Step, Any, MediaBytes]:
        """A media argument as checked bytes; an http(s) URL is fetched first, without any credential."""
        media = read_media_input(
            value,
            kind,
            max_bytes=self.max_input_bytes,
            allow_local_files=self.allow_local_files,
            local_files_dir=self.local_files_dir,
        )
        if isinstance(media, RemoteMedia):
            try:
                fetched: Fetched = yield FetchUntrusted(media.url)
            except UntrustedFetchError as exc:
                # The URL is the caller's to fix: a ToolException an agent can read and act on.
                raise MediaInputError(f"{exc} {self._instead(exc, kind)}") from None
            media = checked_media(
                fetched.content, kind, declared=fetched.content_type, origin=media.url, max_bytes=self.max_input_bytes
            )
        return media

    def _instead(self, exc: UntrustedFetchError, kind: MediaKind) -> str:
        """What the model can send instead of a URL that could not be used."""
        if exc.category == "too_large":
            limit = human_size(self.max_input_bytes)
            return f"Send a smaller {kind} (at most {limit}), or raise max_input_bytes on the tool."
        if exc.category == "refused":
            return f"Send the {kind} as base64 or a data: URL, or give a public http(s) URL."
        return f"Check the URL, or send the {kind} as base64 or a data: URL."


class HFServerlessMediaTool(HFServerlessTaskTool):
    """Base of the tools that generate an image or audio: answers in every provider style, files, content blocks."""

    output_dir: str | None = None
    """Also save each generated file in this directory, and tell the model its path (to pass to other tools)."""
    include_image_block: bool = True
    """Put a generated image in the tool message as a content block, so a vision model can look at it.
    Turn off for text-only chat models (many reject images in tool messages)."""
    poll_interval: float = 1.0
    """Seconds between two polls of a provider's job."""
    max_polls: int = 300
    """Polls before giving up on a job (then HFServerlessTimeoutError)."""

    def _generate(self, inputs: Any, parameters: Mapping[str, Any] | None, kind: MediaKind, what: str) -> Plan:
        """The whole plan of a generating tool: one call, its image/audio/video in any answer style, the result."""
        route: Route = yield Open(inputs, parameters or None)
        reply: Reply = yield Post(route)
        media = yield from self._answer_media(route, reply, kind)
        return self._media_result(media, what)

    def _output_directory(self) -> Path | None:
        """``output_dir``, created if need be; ``None`` when files are not to be saved."""
        if not self.output_dir:
            return None
        directory = Path(self.output_dir).expanduser()
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def _answer_media(self, route: Route, reply: Reply, kind: MediaKind) -> Generator[Step, Any, MediaBytes]:
        """The generated image/audio of an answer: read in place, fetched from a URL, or awaited from a job."""
        try:
            outcome: Outcome = read_media_answer(
                reply.content, reply.headers.get("content-type"), request_url=route.url
            )
            for _ in range(_MAX_HOPS):
                if isinstance(outcome, Ready):
                    media = media_output(outcome.data, kind, declared=outcome.declared, source_url=outcome.source_url)
                    if media is None:
                        raise AnswerError(f"expected {kind} bytes, got {outcome.data[:60]!r}")
                    return media
                if isinstance(outcome, Job):
                    outcome = yield from self._await_job(route, outcome)
                    continue
                fetched: Reply = yield Get(outcome.url, route.model, route.provider)
                outcome = read_media_answer(
                    fetched.content,
                    fetched.headers.get("content-type"),
                    request_url=route.url,
                    source_url=outcome.url,
                )
            raise AnswerError(f"still no {kind} after following {_MAX_HOPS} URLs")
        except AnswerError as exc:
            raise self._unreadable(route, exc) from None

    def _await_job(self, route: Route, job: Job) -> Generator[Step, Any, Outcome]:
        for _ in range(max(1, self.max_polls)):
            yield Pause(self.poll_interval)
            status: Reply = yield Get(job.status_url, route.model, route.provider)
            outcome = job_progress(job, status.json(), request_url=route.url)
            if outcome is not None:
                return outcome
        raise HFServerlessTimeoutError(
            f"The {self.task} job of model {route.model!r} via {route.provider!r} was still running after "
            f"{self.max_polls} polls of {job.status_url}: raise max_polls or poll_interval, or try again later.",
            model=route.model,
            provider=route.provider,
        )

    def _media_result(self, media: MediaBytes, what: str) -> tuple[Any, MediaBytes]:
        """Content for the model (text, plus the image as a block) and the bytes as the artifact."""
        text = f"{what} ({summarise_media(media)})."
        directory = self._output_directory()
        if directory is not None:
            text += f" Saved to {media.save(directory)}."
        if media.source_url and media.source_url.startswith("https://"):
            text += f" URL: {media.source_url}"
        if media.kind == "image" and self.include_image_block:
            return [{"type": "text", "text": text}, media.to_content_block()], media
        return text, media
