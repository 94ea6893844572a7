"""Server-sent events, line by line, for every dialect the router speaks.

Pure: feed it the lines of a response (``iter_lines``), get parsed JSON payloads back. Handles ``data: {...}`` and
``data:{...}`` (older TGI), ``[DONE]`` or a plain end of stream, comments, ``event:``/``id:``/``retry:`` fields,
multi-line ``data`` events, and bare JSON lines some servers stream without the ``data:`` prefix.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

DONE: Final = object()
"""Returned by :meth:`SSEDecoder.feed` for ``data: [DONE]``."""


class SSEDecodeError(ValueError):
    """A ``data`` payload that is not JSON."""


class SSEDecoder:
    """Turns lines into JSON payloads; one instance per stream."""

    __slots__ = ("_buffer", "_event")

    def __init__(self) -> None:
        self._buffer: list[str] = []
        self._event = ""

    def feed(self, line: str) -> Any:
        """Returns a parsed payload, :data:`DONE`, or ``None`` while an event is incomplete."""
        if not line or line == "\r":
            return self._flush()
        if line.startswith("data:"):
            value = line[6:] if line.startswith("data: ") else line[5:]
            if not self._buffer:
                stripped = value.strip()
                if stripped == "[DONE]":
                    return DONE
                if not stripped:
                    return None
                try:
                    return self._tag(orjson.loads(stripped))
                except orjson.JSONDecodeError:
                    pass
            self._buffer.append(value)
            return None
        if line.startswith(":"):
            return None
        if line.startswith("event:"):
            self._event = line[6:].strip()
            return None
        if line.startswith(("id:", "retry:")):
            return None
        if line.lstrip().startswith("{"):
            # Some servers stream bare JSON lines (NDJSON) instead of SSE.
            try:
                return self._tag(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise SSEDecodeError(f"Unreadable stream line: {line[:200]!r}") from exc
        return None

    def close(self) -> Any:
        """Call at end of stream: returns a last buffered payload, or ``None``."""
        return self._flush()

    def _flush(self) -> Any:
        if not self._buffer:
            self._event = ""
            return None
        data = "\n".join(self._buffer).strip()
        self._buffer = []
        if data == "[DONE]":
            return DONE
        try:
            return self._tag(orjson.loads(data))
        except orjson.JSONDecodeError as exc:
            raise SSEDecodeError(f"Unreadable stream event (truncated?): {data[:200]!r}") from exc

    def _tag(self, payload: Any) -> Any:
        if not self._event:  # the common case, once per chunk
            return payload
        if self._event == "error" and isinstance(payload, dict) and "error" not in payload:
            payload = {"error": payload}
        self._event = ""
        return payload


def is_error_event(payload: Any) -> bool:
    """``{"error": ...}`` inside a 200 stream (TGI, providers) — never a normal chunk."""
    return isinstance(payload, dict) and payload.get("error") is not None and not payload.get("choices")
