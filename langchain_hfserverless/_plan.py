"""One plan, two drivers: how every request-shaped operation of the package is written.

An operation is a generator *plan*. It yields steps — :class:`Open` a route, :class:`Post` and read, open an
:class:`Events` stream and :class:`Next` through it, :class:`Get` a URL, :class:`Pause` — and receives each step's
result at its ``yield`` (or the step's error, raised there). A streaming plan also yields values that are not
steps (chunks): the driver hands those to the caller. The plan never awaits and never touches a socket, so the
logic exists once; :func:`run` / :func:`stream` execute it with blocking calls, :func:`arun` / :func:`astream`
with awaitable ones. Which callable executes which step is a table (``handlers``) the transport builds.

Adding an operation means writing one plan; adding a kind of I/O means one step class and one handler per table.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import BaseRetrying, DoAttempt, DoSleep, RetryCallState

_R = TypeVar("_R")

END: Any = object()
"""What :class:`Next` answers when a source is exhausted."""


@dataclass(frozen=True, slots=True)
class Open:
    """Route a request (a ``ChatRequest`` or ``TaskRequest`` of the transport); answers a ``Route``."""

    request: Any


@dataclass(frozen=True, slots=True)
class Post:
    """Send a route (POST, or GET for a fetch route) once and read the whole answer; answers a ``Reply``."""

    route: Any
    body: Any = None


@dataclass(frozen=True, slots=True)
class Get:
    """GET a URL a provider answered with (a file, a job's status); answers a ``Reply``."""

    url: str
    model: str | None = None
    """The model and provider of the call, to name them in errors."""
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    seconds: float


@dataclass(frozen=True, slots=True)
class Events:
    """POST with ``stream: true``; answers a source of JSON events to pull with :class:`Next`."""

    route: Any
    body: Any
    meta: Any = None


@dataclass(frozen=True, slots=True)
class _RunnableStep:
    runnable: Any
    input: Any
    config: Any = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Relay(_RunnableStep):
    """Stream another runnable through its public interface (``stream``/``astream``): its callbacks, cache and
    rate limiter apply. Answers a source of its chunks."""


@dataclass(frozen=True, slots=True)
class Invoke(_RunnableStep):
    """Call another runnable's ``invoke``/``ainvoke``; answers its output."""


@dataclass(frozen=True, slots=True)
class _SourceStep:
    source: Any


@dataclass(frozen=True, slots=True)
class Next(_SourceStep):
    """The next item of a source opened by :class:`Events` or :class:`Relay`, or :data:`END`."""


@dataclass(frozen=True, slots=True)
class Close(_SourceStep):
    """Close a source early (the driver closes every source it opened when the plan ends anyway)."""


Plan = Generator[Any, Any, _R]
Handlers = Mapping[type, Callable[[Any], Any]]
AsyncHandlers = Mapping[type, Callable[[Any], Awaitable[Any]]]

# Steps whose result is a source the driver must close when the plan ends, however it ends.
_OPENS = frozenset({Events, Relay})

# The handlers every table shares: runnables and sources need no transport.
SYNC_RUNNABLE_HANDLERS: Handlers = {
    Next: lambda step: next(step.source, END),
    Close: lambda step: step.source.close(),
    Invoke: lambda step: step.runnable.invoke(step.input, step.config, **step.kwargs),
    Relay: lambda step: step.runnable.stream(step.input, step.config, **step.kwargs),
}
ASYNC_RUNNABLE_HANDLERS: AsyncHandlers = {
    Next: lambda step: anext(step.source, END),
    Close: lambda step: step.source.aclose(),
    Invoke: lambda step: step.runnable.ainvoke(step.input, step.config, **step.kwargs),
    Relay: lambda step: _ready(step.runnable.astream(step.input, step.config, **step.kwargs)),
}


async def _ready(value: Any) -> Any:
    return value


# ---------------------------------------------------------------------------------------------- the drivers
# A step's result is sent into the plan; its error is thrown in at the ``yield``. Anything the plan yields that
# has no handler is output, passed on to the caller.
#
# There is one driver loop, :func:`_drive`, and it is the sync driver. The async driver is a shell around it: its
# handlers return awaitables, which the loop hands out (through :class:`_AsyncIO`) for the shell to await and send
# back. So the stepping, the error routing and the closing of sources exist once; the sync path (a stream's every
# chunk) pays nothing for the async one, and the async one about 0.1 us a step over a loop of its own.


class _AsyncIO:
    """What the loop and the async shell share: the awaitable the loop hands out (it yields :data:`_AWAIT`, the shell
    answers with its result or a :class:`_Failed`), and the sources the plan opened, for the shell to close."""

    __slots__ = ("opened", "pending")

    def __init__(self) -> None:
        self.opened: list[Any] = []
        self.pending: Any = None


_AWAIT: Any = object()


@dataclass(frozen=True, slots=True)
class _Failed:
    error: Exception


def stream(plan: Plan[_R], handlers: Handlers) -> Generator[Any, None, _R]:
    """Run ``plan`` with blocking I/O, yielding its output; returns the plan's return value."""
    return _drive(plan, handlers, None)


def _drive(plan: Plan[_R], handlers: Mapping[type, Callable[[Any], Any]], io: _AsyncIO | None) -> Any:
    """The driver loop. With ``io=None`` it is the sync driver: each handler's result is the step's answer, and the
    sources the plan opened close here when it ends. With an :class:`_AsyncIO` (the async shell), each handler's
    result is an awaitable, handed out through it; the sources it answers are left in it for the shell to close.
    """
    opened = [] if io is None else io.opened
    result: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                item = plan.send(result) if error is None else plan.throw(error)
            except StopIteration as done:
                return done.value
            kind = item.__class__
            handler = handlers.get(kind)
            if handler is None:
                result = error = None
                yield item
                continue
            try:
                result, error = handler(item), None
                if io is not None:
                    io.pending = result
                    result = yield _AWAIT
                    if result.__class__ is _Failed:
                        raise result.error
            except Exception as exc:
                result, error = None, exc
            else:
                if kind in _OPENS:
                    opened.append(result)
    finally:
        plan.close()
        if io is None:
            for source in opened:
                source.close()


async def astream(plan: Plan[Any], handlers: AsyncHandlers, box: list[Any] | None = None) -> AsyncIterator[Any]:
    """:func:`stream` with awaitable I/O; the plan's return value is appended to ``box``."""
    io = _AsyncIO()
    steps = _drive(plan, handlers, io)
    answer: Any = None
    try:
        while True:
            try:
                item = steps.send(answer)
            except StopIteration as done:
                if box is not None:
                    box.append(done.value)
                return
            if item is not _AWAIT:
                answer = None
                yield item
            else:
                try:
                    answer = await io.pending
                except Exception as exc:
                    answer = _Failed(exc)
    finally:
        steps.close()
        for source in io.opened:
            await source.aclose()


def run(plan: Plan[_R], handlers: Handlers) -> _R:
    """Run a plan that yields only steps; returns its value."""
    outputs = stream(plan, handlers)
    try:
        item = next(outputs)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    outputs.close()
    raise TypeError(f"A plan run for its value yielded {type(item).__name__}; stream it instead.")


async def arun(plan: Plan[_R], handlers: AsyncHandlers) -> _R:
    """:func:`run` with awaitable I/O."""
    box: list[Any] = []
    async for item in astream(plan, handlers, box):
        raise TypeError(f"A plan run for its value yielded {type(item).__name__}; stream it instead.")
    return box[0]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------- retries


def retried(
    attempt: Callable[[], Plan[Any]], retrying: Callable[[], BaseRetrying], retryable: Callable[[BaseException], bool]
) -> Plan[Any]:
    """The result of the plan ``attempt()``, attempted again as tenacity's ``retrying()`` says (its stop, waits,
    logs, reraise).

    Tenacity decides; the plan only does what it says, so its waits are :class:`Pause` steps that sync and async
    drivers both execute. The first attempt runs before tenacity is built: its bookkeeping costs 15-70 us, more
    than the rest of a call's overhead (see README, Performance), and most calls never retry.
    """
    try:
        return (yield from attempt())
    except Exception as exc:
        if not retryable(exc):
            raise
        first = exc
    policy = retrying()
    policy.begin()
    state = RetryCallState(policy, fn=None, args=(), kwargs={})
    state.set_exception((type(first), first, first.__traceback__))
    while True:
        do = policy.iter(retry_state=state)
        if isinstance(do, DoAttempt):
            try:
                state.set_result((yield from attempt()))
            except Exception:
                state.set_exception(sys.exc_info())  # type: ignore[arg-type]
        elif isinstance(do, DoSleep):
            state.prepare_for_next_attempt()
            yield Pause(float(do))
        else:
            return do
