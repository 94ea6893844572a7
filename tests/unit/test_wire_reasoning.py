"""Reasoning: ``reasoning_content`` / ``reasoning`` fields and inline ``<think>…</think>``, whole and streamed.

The streamed splitter is checked property-style: for a text and every way to cut it into deltas, the streamed
answer and reasoning equal the whole-text result.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_hfserverless._wire.reasoning import ThinkSplitter, split_think
from langchain_hfserverless._wire.responses import message_from_wire, reasoning_of
from langchain_hfserverless._wire.stream import ChatStreamState

TEXTS = [
    "<think>I should add 2 and 2.</think>4",
    "<think>\nstep one\nstep two\n</think>\n\nThe answer is 4.",
    "  \n<think>leading whitespace</think>  answer",
    "<think>unclosed because max_tokens cut it",
    "<think>a < b and c </thi are not tags</think>done",
    "<think>r</think></think> stays in the answer",
    "<think></think>empty reasoning",
    "<think>only reasoning</think>",
    "<think>only reasoning</think>   \n ",
    "no tags at all",
    "an answer that mentions <think> later",
    "<thin",
    "<",
    "   ",
    "<think>",
    "<think>x</",
]


def _whole(text: str) -> tuple[str, str]:
    answer, reasoning = split_think(text)
    return answer, reasoning or ""


def _streamed(pieces: Iterable[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    answer = reasoning = ""
    for piece in pieces:
        a, r = splitter.feed(piece)
        answer += a
        reasoning += r
    a, r = splitter.flush()
    return answer + a, reasoning + r


def _cut(text: str, cuts: Sequence[int]) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[i:j] for i, j in itertools.pairwise(bounds)]


# ---------------------------------------- whole text


@pytest.mark.parametrize(
    ("text", "answer", "reasoning"),
    [
        ("<think>plan</think>answer", "answer", "plan"),
        ("<think>\nplan\n</think>\n\nanswer", "answer", "\nplan\n"),
        ("  <think>plan</think> answer", "answer", "plan"),
        ("<think>cut off by max_tok", "", "cut off by max_tok"),
        ("plain answer", "plain answer", None),
        ("answer <think>not leading</think>", "answer <think>not leading</think>", None),
        ("<think>a</think>b</think>c", "b</think>c", "a"),
    ],
)
def test_split_think(text: str, answer: str, reasoning: str | None) -> None:
    assert split_think(text) == (answer, reasoning)


# ---------------------------------------- streamed = whole


@pytest.mark.parametrize("text", TEXTS)
def test_every_single_split_point_gives_the_whole_text_result(text: str) -> None:
    expected = _whole(text)
    for cut in range(len(text) + 1):
        assert _streamed([text[:cut], text[cut:]]) == expected, (text, cut)


@pytest.mark.parametrize("text", TEXTS)
def test_every_pair_of_split_points_gives_the_whole_text_result(text: str) -> None:
    expected = _whole(text)
    for cuts in itertools.combinations(range(1, len(text)), 2):
        assert _streamed(_cut(text, cuts)) == expected, (text, cuts)


@pytest.mark.parametrize("text", TEXTS)
def test_one_character_per_delta_gives_the_whole_text_result(text: str) -> None:
    assert _streamed(list(text)) == _whole(text)


_TAGGY = st.text(alphabet=st.sampled_from(list("<>/thinkab \n")), max_size=30)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    head=st.sampled_from(["", " ", "<think>", " \n<think>", "<th"]),
    body=_TAGGY,
    data=st.data(),
)
def test_random_texts_and_random_cuts(head: str, body: str, data: st.DataObject) -> None:
    text = head + body
    cuts = sorted(data.draw(st.sets(st.integers(min_value=1, max_value=max(1, len(text) - 1)), max_size=6)))
    cuts = [c for c in cuts if 0 < c < len(text)]
    assert _streamed(_cut(text, cuts)) == _whole(text)


def test_text_flows_out_without_waiting_for_the_end() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<think>first thoughts") == ("", "first thoughts")
    assert splitter.feed(" more</th") == ("", " more")  # only the possible tag start is held back
    assert splitter.feed("ink>The answer") == ("The answer", "")
    assert splitter.feed(" continues") == (" continues", "")
    assert splitter.flush() == ("", "")


def test_plain_answer_is_not_held_back() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Hello") == ("Hello", "")
    assert splitter.feed(" <think>") == (" <think>", "")


# ---------------------------------------- fields


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_reasoning_field(key: str) -> None:
    message = message_from_wire({"role": "assistant", "content": "4", key: "2 + 2 = 4"})
    assert message.content == "4"
    assert message.additional_kwargs["reasoning_content"] == "2 + 2 = 4"


def test_reasoning_content_preferred_over_reasoning() -> None:
    assert reasoning_of({"reasoning_content": "a", "reasoning": "b"}) == "a"
    assert reasoning_of({"reasoning_content": None, "reasoning": "b"}) == "b"
    assert reasoning_of({"reasoning_content": "", "reasoning": None}) is None


def test_null_reasoning_keys_add_nothing() -> None:
    message = message_from_wire({"role": "assistant", "content": "hi", "reasoning": None, "reasoning_content": None})
    assert message.content == "hi"
    assert "reasoning_content" not in message.additional_kwargs


def test_inline_think_in_whole_answer() -> None:
    message = message_from_wire({"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"})
    assert message.content == "4"
    assert message.additional_kwargs["reasoning_content"] == "\nadd them\n"


def test_unclosed_think_in_whole_answer_is_all_reasoning() -> None:
    message = message_from_wire({"role": "assistant", "content": "<think>still thinking when max_tokens hit"})
    assert message.content == ""
    assert message.additional_kwargs["reasoning_content"] == "still thinking when max_tokens hit"


def test_field_and_inline_reasoning_are_both_kept() -> None:
    message = message_from_wire(
        {"role": "assistant", "reasoning_content": "field", "content": "<think>inline</think>x"}
    )
    assert message.content == "x"
    assert "field" in message.additional_kwargs["reasoning_content"]
    assert "inline" in message.additional_kwargs["reasoning_content"]


# ---------------------------------------- through the stream


def _event(delta: dict) -> dict:
    return {"id": "c", "model": "m", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}


def _stream_result(events: list[dict]) -> tuple[str, str]:
    state = ChatStreamState()
    chunks = [c for c in (state.chunk_from_event(e) for e in events) if c is not None]
    chunks.append(state.final_chunk({}))
    message = chunks[0].message
    for chunk in chunks[1:]:
        message = message + chunk.message
    return str(message.content), message.additional_kwargs.get("reasoning_content", "")


@pytest.mark.parametrize("text", TEXTS)
def test_stream_state_at_every_split_point(text: str) -> None:
    expected = _whole(text)
    for cut in range(1, len(text)):
        events = [_event({"role": "assistant", "content": text[:cut]}), _event({"content": text[cut:]})]
        assert _stream_result(events) == expected, (text, cut)


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_streamed_reasoning_fields(key: str) -> None:
    events = [
        _event({"role": "assistant", "content": None, key: "Let me "}),
        _event({"content": None, key: "think."}),
        _event({"content": "Answer", key: None}),
        _event({"content": "."}),
    ]
    assert _stream_result(events) == ("Answer.", "Let me think.")
