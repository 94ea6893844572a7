"""``_wire/response_format.py``, purely: the response_format of each dialect, the answer text of a message (reasoning
left out), and the structured-output parser over whole messages and streamed chunks."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, AIMessageChunk
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_hfserverless._wire.response_format import answer_text, structured_output_parser, to_dialect


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


class JokeDict(TypedDict):
    """Joke to tell user."""

    setup: Annotated[str, ..., "question to set up a joke"]
    punchline: Annotated[str, ..., "answer to resolve the joke"]


JOKE = {"setup": "Why did the cat sit on the computer?", "punchline": "To keep an eye on the mouse."}


JOKE_TEXT = json.dumps(JOKE)


def test_to_dialect_maps_json_object_and_leaves_grammar_alone() -> None:
    assert to_dialect({"type": "json_object"}, "tgi") == {"type": "json", "value": {"type": "object"}}
    regex = {"type": "regex", "value": "[0-9]+"}
    assert to_dialect(regex, "tgi") is regex
    openai = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    assert to_dialect(openai, "openai") is openai


def test_answer_text_keeps_plain_answers() -> None:
    assert answer_text('{"a": 1}') == '{"a": 1}'
    assert answer_text('x</think>{"a": 1}') == '{"a": 1}'


def test_answer_text_drops_closed_and_cut_off_think() -> None:
    assert answer_text('<think>{"no": 1}</think>\n{"a": 1}') == '{"a": 1}'
    assert answer_text('  <think>{"no": 1} and then') == ""


@pytest.mark.parametrize(
    "message",
    [
        AIMessage(content="<think>They want {not this}.</think>" + JOKE_TEXT),
        AIMessage(content="They want {not this}.</think>" + JOKE_TEXT),
        AIMessage(content=JOKE_TEXT, additional_kwargs={"reasoning_content": '{"setup": "wrong"}'}),
    ],
    ids=["inline_think", "open_tag_in_template", "reasoning_content"],
)
def test_parser_reads_the_answer_of_any_message(message: AIMessage) -> None:
    assert structured_output_parser(Joke, method="json_schema").invoke(message) == Joke(**JOKE)


def test_parser_on_a_message_cut_off_while_thinking() -> None:
    parser = structured_output_parser(JokeDict, method="json_mode")
    with pytest.raises(OutputParserException, match="raise max_tokens"):
        parser.invoke(AIMessage(content="<think>Cats like keyboards because"))


def test_parser_streams_partial_values_over_message_chunks() -> None:
    pieces = ["<think>{no</think>", '{"setup": "a"', ', "punchline": "b"}']
    parts = list(
        structured_output_parser(JokeDict, method="json_schema").transform(AIMessageChunk(content=p) for p in pieces)
    )
    assert parts == [{"setup": "a"}, {"setup": "a", "punchline": "b"}]
