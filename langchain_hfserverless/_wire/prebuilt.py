"""LangChain messages and generations built without pydantic validation, for the two hot paths that make them.

Nearly every streamed chunk is text (or reasoning) only, and nearly every whole answer is text without tool calls.
For those, langchain-core's validators (tool-call parsing, ``text`` copied from the message) have nothing to do, and
validation costs more than all the rest of our per-object work; pydantic's ``model_construct`` is a Python loop over
the fields that saves little. So they are built as ``model_construct`` builds one — the four slots pydantic keeps,
every field as validation sets it — in a third of the time.

This is guarded: :func:`builds_alike` compares built and validated objects slot by slot (and checks pydantic's slots,
post-init hooks and private attributes) once, at import; a caller uses its built form only when they are alike, and
validation otherwise. ``tests/unit/test_wire_stream.py`` and ``test_wire_responses.py`` compare the two as a user sees
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

_SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
_M = TypeVar("_M", bound=BaseModel)
_new = object.__new__
_set = object.__setattr__


def built(cls: type[_M], values: dict[str, Any], fields_set: set[str], extra: dict[str, Any] | None) -> _M:
    """An instance of ``cls`` holding ``values`` as they are (no validation, no copy)."""
    obj = _new(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", fields_set)
    _set(obj, "__pydantic_extra__", extra)
    _set(obj, "__pydantic_private__", None)
    return obj


def builds_alike(classes: Iterable[type[BaseModel]], samples: Callable[[], Iterable[tuple[Any, Any]]]) -> bool:
    """Whether the built generations of ``samples()`` (pairs of built and validated) equal the validated ones, slot
    by slot, for them and their messages; ``False`` as soon as pydantic keeps models in a way this module does not
    know."""
    if BaseModel.__slots__ != _SLOTS:
        return False
    for cls in classes:
        if cls.__pydantic_post_init__ or cls.__private_attributes__ or cls.__pydantic_root_model__:
            return False
    for ours_generation, their_generation in samples():
        for ours, theirs in ((ours_generation, their_generation), (ours_generation.message, their_generation.message)):
            if type(ours) is not type(theirs) or type(ours.text) is not type(theirs.text):
                return False
            if any(getattr(ours, slot) != getattr(theirs, slot) for slot in _SLOTS):
                return False
    return True
