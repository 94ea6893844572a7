"""Inline ``<think>…</think>`` reasoning, split out of the answer — whole or streamed, closed or cut off."""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


def split_think(text: str) -> tuple[str, str | None]:
    """``"<think>r</think>answer"`` -> ``("answer", "r")``; an unclosed tag makes everything reasoning."""
    stripped = text.lstrip()
    if not stripped.startswith(OPEN):
        return text, None
    body = stripped[len(OPEN) :]
    reasoning, closed, answer = body.partition(CLOSE)
    if not closed:
        return "", reasoning
    return answer.lstrip(), reasoning


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest tail of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    """Streaming form of :func:`split_think`: feed content deltas, get ``(answer, reasoning)`` pieces.

    Holds back only as many characters as could still be the start of a tag, so text flows out as it comes.
    """

    __slots__ = ("_held", "_state")

    def __init__(self) -> None:
        self._state = "start"  # start -> (think -> answer) | answer
        self._held = ""

    def feed(self, text: str) -> tuple[str, str]:
        if self._state == "answer":
            return text, ""
        text = self._held + text
        self._held = ""
        if self._state == "start":
            stripped = text.lstrip()
            if not stripped:
                self._held = text
                return "", ""
            if stripped.startswith(OPEN):
                self._state = "think"
                text = stripped[len(OPEN) :]
            elif OPEN.startswith(stripped):
                self._held = text
                return "", ""
            else:
                self._state = "answer"
                return text, ""
        if self._state == "after":
            answer = text.lstrip()
            if answer:
                self._state = "answer"
            return answer, ""
        reasoning, closed, answer = text.partition(CLOSE)
        if closed:
            answer = answer.lstrip()
            self._state = "answer" if answer else "after"
            return answer, reasoning
        keep = _partial_suffix(text, CLOSE)
        if keep:
            self._held = text[-keep:]
            text = text[:-keep]
        return "", text

    def flush(self) -> tuple[str, str]:
        """End of stream: whatever was held back."""
        held, self._held = self._held, ""
        if self._state == "think":
            return "", held
        return held, ""
