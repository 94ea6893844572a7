"""The plan drivers: one plan, run with blocking handlers by ``run``/``stream`` and awaitable ones by
``arun``/``astream``, must behave the same — results and errors at the ``yield``, output passed on, sources closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from langchain_hfserverless._plan import (
    ASYNC_RUNNABLE_HANDLERS,
    END,
    SYNC_RUNNABLE_HANDLERS,
    Close,
    Events,
    Next,
    Pause,
    Plan,
    arun,
    astream,
    run,
    stream,
)


class Source:
    """A source of items that records whether it was closed (sync or async)."""

    def __init__(self, items: list[Any]) -> None:
        self.items, self.closed = list(items), 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if not self.items:
            raise StopIteration
        item = self.items.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def __aiter__(self) -> AsyncIterator[Any]:
        return self  # type: ignore[return-value]

    async def __anext__(self) -> Any:
        try:
            return self.__next__()
        except StopIteration:
            raise StopAsyncIteration from None

    def close(self) -> None:
        self.closed += 1

    async def aclose(self) -> None:
        self.closed += 1


def tables(source: Source) -> tuple[dict[type, Any], dict[type, Any]]:
    async def async_pause(step: Pause) -> None:
        raise TimeoutError(f"paused {step.seconds}")

    def sync_pause(step: Pause) -> None:
        raise TimeoutError(f"paused {step.seconds}")

    sync = {**SYNC_RUNNABLE_HANDLERS, Events: lambda step: source, Pause: sync_pause}
    async_ = {**ASYNC_RUNNABLE_HANDLERS, Events: lambda step: _ready(source), Pause: async_pause}
    return sync, async_


async def _ready(value: Any) -> Any:
    return value


def drive_both(make_plan: Any, items: list[Any]) -> tuple[Any, Any, Source, Source]:
    """(sync outputs-or-error, async outputs-or-error, sync source, async source) for the same plan."""

    def sync_run() -> tuple[Any, Source]:
        source = Source(items)
        outputs: list[Any] = []
        try:
            returned = yield_from(stream(make_plan(), tables(source)[0]), outputs)
        except Exception as exc:
            return (outputs, type(exc).__name__, str(exc)), source
        return (outputs, returned), source

    async def async_run() -> tuple[Any, Source]:
        source = Source(items)
        outputs: list[Any] = []
        box: list[Any] = []
        try:
            async for item in astream(make_plan(), tables(source)[1], box):
                outputs.append(item)
        except Exception as exc:
            return (outputs, type(exc).__name__, str(exc)), source
        return (outputs, box[0]), source

    sync_result, sync_source = sync_run()
    async_result, async_source = asyncio.run(async_run())
    return sync_result, async_result, sync_source, async_source


def yield_from(generator: Any, outputs: list[Any]) -> Any:
    while True:
        try:
            outputs.append(next(generator))
        except StopIteration as done:
            return done.value


def relay_plan() -> Plan[int]:
    events = yield Events(None, None)
    pull, count = Next(events), 0
    item = yield pull
    while item is not END:
        count += 1
        yield f"out:{item}"
        item = yield pull
    return count


def test_outputs_and_return_value_alike_and_sources_closed() -> None:
    sync, async_, sync_source, async_source = drive_both(relay_plan, [1, 2, 3])
    assert sync == async_ == (["out:1", "out:2", "out:3"], 3)
    assert sync_source.closed == async_source.closed == 1


def test_a_handler_error_is_raised_at_the_yield_and_can_be_handled() -> None:
    def plan() -> Plan[str]:
        events = yield Events(None, None)
        try:
            yield Next(events)
        except ValueError as exc:
            yield "recovered"
            try:
                yield Pause(2)
            except TimeoutError as again:
                return f"{exc} / {again}"
        return "no error"

    sync, async_, sync_source, async_source = drive_both(plan, [ValueError("bad item")])
    assert sync == async_ == (["recovered"], "bad item / paused 2")
    assert sync_source.closed == async_source.closed == 1


def test_an_unhandled_error_ends_the_run_and_still_closes_sources() -> None:
    sync, async_, sync_source, async_source = drive_both(relay_plan, [1, RuntimeError("broke")])
    assert sync == async_ == (["out:1"], "RuntimeError", "broke")
    assert sync_source.closed == async_source.closed == 1


def test_closing_early_closes_the_plan_and_its_sources() -> None:
    closed: list[str] = []

    def plan() -> Plan[None]:
        try:
            yield from relay_plan()
        finally:
            closed.append("plan")

    source = Source([1, 2, 3])
    outputs = stream(plan(), tables(source)[0])
    assert next(outputs) == "out:1"
    outputs.close()

    async def early() -> Source:
        asource = Source([1, 2, 3])
        agen = astream(plan(), tables(asource)[1])
        assert await anext(agen) == "out:1"
        await agen.aclose()  # type: ignore[attr-defined]
        return asource

    asource = asyncio.run(early())
    assert closed == ["plan", "plan"] and source.closed == asource.closed == 1


def test_close_step_and_run_values() -> None:
    def plan() -> Plan[list[Any]]:
        events = yield Events(None, None)
        first = yield Next(events)
        yield Close(events)
        return [first]

    source = Source([7, 8])
    assert run(plan(), tables(source)[0]) == [7] and source.closed == 2  # the Close step, then the driver
    asource = Source([7, 8])
    assert asyncio.run(arun(plan(), tables(asource)[1])) == [7] and asource.closed == 2


def test_run_refuses_a_plan_that_yields_output() -> None:
    with pytest.raises(TypeError, match="stream it instead"):
        run(relay_plan(), tables(Source([1]))[0])
    with pytest.raises(TypeError, match="stream it instead"):
        asyncio.run(arun(relay_plan(), tables(Source([1]))[1]))
