"""with_structured_output over a real HTTP server: request shape per method and dialect, parsing, errors."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.utils.function_calling import convert_to_json_schema
from pydantic import BaseModel, Field
from pydantic.v1 import BaseModel as BaseModelV1
from typing_extensions import TypedDict

from langchain_hfserverless import ChatHFServerless
from langchain_hfserverless._wire.response_format import (
    answer_text,
    json_schema_format,
    structured_output_parser,
    to_dialect,
)
from tests.loopback import LoopbackServer, sse


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


class JokeDict(TypedDict):
    """Joke to tell user."""

    setup: Annotated[str, ..., "question to set up a joke"]
    punchline: Annotated[str, ..., "answer to resolve the joke"]


class JokeV1(BaseModelV1):
    """Joke to tell user."""

    setup: str
    punchline: str


JOKE = {"setup": "Why did the cat sit on the computer?", "punchline": "To keep an eye on the mouse."}
JOKE_TEXT = json.dumps(JOKE)


def completion(content: Any = None, *, tool_calls: list[Any] | None = None, **message: Any) -> dict[str, Any]:
    """A router chat completion, shaped like the cerebras answers in chatlas' recordings."""
    msg: dict[str, Any] = {"role": "assistant", "content": content, **message}
    if tool_calls is not None:
        msg["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-57a03339",
        "object": "chat.completion",
        "created": 1767213636,
        "model": "llama3.1-8b",
        "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {"prompt_tokens": 209, "completion_tokens": 19, "total_tokens": 228},
    }


def call(name: str, arguments: str, call_id: str = "call_1") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def content_stream(*pieces: str) -> list[bytes]:
    events: list[Any] = [{"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    events += [{"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    events.append({"id": "c", "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return sse(*events)


@pytest.fixture
def llm(server: LoopbackServer) -> ChatHFServerless:
    return ChatHFServerless(base_url=server.url, model="tgi", max_retries=0)


# ---------------------------------------------------------------------------- json_schema (default)


def test_json_schema_is_the_default_and_sends_openai_response_format(
    server: LoopbackServer, llm: ChatHFServerless
) -> None:
    server.reply(body=completion(JOKE_TEXT))
    result = llm.with_structured_output(Joke).invoke("Tell me a joke about cats.")
    assert result == Joke(**JOKE)
    body = server.requests[0].json()
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "Joke",
            "description": "Joke to tell user.",
            "schema": {
                "type": "object",
                "properties": {
                    "setup": {"description": "question to set up a joke", "type": "string"},
                    "punchline": {"description": "answer to resolve the joke", "type": "string"},
                },
                "required": ["setup", "punchline"],
            },
        },
    }
    assert "tools" not in body and "tool_choice" not in body


def test_strict_true_is_sent_and_closes_the_schema(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(JOKE_TEXT))
    llm.with_structured_output(Joke, strict=True).invoke("joke")
    spec = server.requests[0].json()["response_format"]["json_schema"]
    assert spec["strict"] is True
    assert spec["schema"]["additionalProperties"] is False


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (Joke, Joke(**JOKE)),
        (JokeDict, JOKE),
        (Joke.model_json_schema(), JOKE),
        (JokeV1, JokeV1(**JOKE)),
    ],
    ids=["pydantic", "typeddict", "json_schema_dict", "pydantic_v1"],
)
def test_every_schema_kind_parses_to_its_own_type(
    server: LoopbackServer, llm: ChatHFServerless, schema: Any, expected: Any
) -> None:
    server.reply(body=completion(JOKE_TEXT))
    result = llm.with_structured_output(schema).invoke("joke")
    assert type(result) is type(expected)
    assert result == expected
    assert server.requests[0].json()["response_format"]["json_schema"]["name"] in ("Joke", "JokeDict", "JokeV1")


def test_openai_response_format_dict_passes_through(server: LoopbackServer, llm: ChatHFServerless) -> None:
    given = {"type": "json_schema", "json_schema": {"name": "structured_data", "schema": {"type": "object"}}}
    server.reply(body=completion('{"title": "Apples"}'))
    assert llm.with_structured_output(given).invoke("x") == {"title": "Apples"}
    assert server.requests[0].json()["response_format"] == given


def test_markdown_fenced_json_is_read(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(f"```json\n{JOKE_TEXT}\n```"))
    assert llm.with_structured_output(JokeDict).invoke("joke") == JOKE


async def test_async_invoke_and_stream(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(JOKE_TEXT))
    server.reply(body=content_stream('{"setup": "Why did the cat sit', ' on the computer?", "punch', 'line": "x"}'))
    structured = llm.with_structured_output(Joke)
    assert await structured.ainvoke("joke") == Joke(**JOKE)
    parts = [part async for part in structured.astream("joke")]
    assert parts[-1] == Joke(setup="Why did the cat sit on the computer?", punchline="x")
    assert all(isinstance(p, Joke) for p in parts)


def test_stream_yields_growing_dicts_then_the_whole(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=content_stream('{"setup": "Why', ' did the cat"', ', "punchline": "To keep"}'))
    parts = list(llm.with_structured_output(JokeDict).stream("joke"))
    assert parts[0] == {"setup": "Why"}
    assert parts[-1] == {"setup": "Why did the cat", "punchline": "To keep"}
    assert server.requests[0].json()["stream"] is True


def test_stream_of_a_broken_answer_raises_at_the_end(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=content_stream('{"setup": "Why', " did the cat"))
    with pytest.raises(OutputParserException, match="not valid JSON"):
        list(llm.with_structured_output(JokeDict).stream("joke"))


def test_traced_structured_output_format_matches_langchain(server: LoopbackServer, llm: ChatHFServerless) -> None:
    class Options(BaseCallbackHandler):
        def __init__(self) -> None:
            self.options: list[Any] = []

        def on_chat_model_start(self, serialized: Any, messages: Any, *, options: Any = None, **kw: Any) -> None:
            self.options.append(options)

    server.reply(body=completion(JOKE_TEXT))
    handler = Options()
    llm.with_structured_output(Joke).invoke("joke", config={"callbacks": [handler]})
    traced = handler.options[0]["ls_structured_output_format"]
    assert traced["schema"] == convert_to_json_schema(Joke)
    assert traced["kwargs"] == {"method": "json_schema", "strict": None}
    assert "ls_structured_output_format" not in server.requests[0].json()


# ---------------------------------------------------------------------------- TGI grammar dialect


def test_tgi_dialect_sends_the_grammar_form(server: LoopbackServer) -> None:
    llm = ChatHFServerless(base_url=server.url, response_format_dialect="tgi", max_retries=0)
    # Answer as TGI 2.x did in huggingface_hub's test_chat_completion_with_response_format recording.
    server.reply(body=completion('{ \n\n"setup": "a", \n"punchline": "b" \n}'))
    assert llm.with_structured_output(Joke).invoke("joke") == Joke(setup="a", punchline="b")
    rf = server.requests[0].json()["response_format"]
    assert rf == {"type": "json", "value": json_schema_format(Joke)["json_schema"]["schema"]}


def test_auto_dialect_learns_tgi_grammar_from_the_rejection(server: LoopbackServer) -> None:
    llm = ChatHFServerless(base_url=server.url, max_retries=0)
    rejection = (
        "Failed to deserialize the JSON body into the target type: response_format: unknown variant "
        "`json_schema`, expected `json` or `regex` at line 1 column 412"
    )
    server.reply(422, rejection, headers={"content-type": "text/plain; charset=utf-8"})
    server.reply(body=completion(JOKE_TEXT))
    server.reply(body=completion(JOKE_TEXT))
    structured = llm.with_structured_output(Joke)
    assert structured.invoke("joke") == Joke(**JOKE)
    assert structured.invoke("again") == Joke(**JOKE)
    kinds = [r.json()["response_format"]["type"] for r in server.requests]
    assert kinds == ["json_schema", "json", "json"]  # rejected once, then grammar straight away


def test_openai_dialect_never_rewrites(server: LoopbackServer) -> None:
    llm = ChatHFServerless(base_url=server.url, response_format_dialect="openai", max_retries=0)
    server.reply(422, {"error": "response_format: unknown variant `json_schema`", "error_type": "validation"})
    with pytest.raises(Exception, match="unknown variant"):
        llm.with_structured_output(Joke).invoke("joke")
    assert len(server.requests) == 1


def test_to_dialect_maps_json_object_and_leaves_grammar_alone() -> None:
    assert to_dialect({"type": "json_object"}, "tgi") == {"type": "json", "value": {"type": "object"}}
    regex = {"type": "regex", "value": "[0-9]+"}
    assert to_dialect(regex, "tgi") is regex
    openai = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    assert to_dialect(openai, "openai") is openai


# ---------------------------------------------------------------------------- function_calling


def test_function_calling_forces_the_schema_tool(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(None, tool_calls=[call("Joke", JOKE_TEXT)]))
    assert llm.with_structured_output(Joke, method="function_calling").invoke("joke") == Joke(**JOKE)
    body = server.requests[0].json()
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Joke"}}
    assert [t["function"]["name"] for t in body["tools"]] == ["Joke"]
    assert "response_format" not in body and "parallel_tool_calls" not in body


def test_function_calling_reads_tgi_object_arguments(server: LoopbackServer, llm: ChatHFServerless) -> None:
    # TGI 1.4: integer id, arguments as a JSON object (huggingface_hub's test_chat_completion_with_tool).
    raw = {"id": 0, "type": "function", "function": {"description": None, "name": "JokeDict", "arguments": JOKE}}
    server.reply(body=completion(None, tool_calls=[raw]))
    assert llm.with_structured_output(JokeDict, method="function_calling").invoke("joke") == JOKE


def test_function_calling_stream(server: LoopbackServer, llm: ChatHFServerless) -> None:
    def delta(args: str, name: str | None = None) -> dict[str, Any]:
        fn: dict[str, Any] = {"arguments": args, "name": name}
        tc = {"index": 0, "id": "0", "type": "function", "function": fn}
        return {"id": "", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [tc]}}]}

    server.reply(body=sse(delta('{"setup": "a', "Joke"), delta('", "punchline"'), delta(': "b"}'), done=False))
    parts = list(llm.with_structured_output(Joke, method="function_calling").stream("joke"))
    assert parts[-1] == Joke(setup="a", punchline="b")


def test_function_calling_without_a_call_raises(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion("I'd rather not."))
    with pytest.raises(OutputParserException, match=r"did not call 'Joke'.*rather not"):
        llm.with_structured_output(Joke, method="function_calling").invoke("joke")


def test_function_calling_with_broken_arguments_raises(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(None, tool_calls=[call("Joke", '{"setup": ')]))
    with pytest.raises(OutputParserException, match="not valid JSON"):
        llm.with_structured_output(Joke, method="function_calling").invoke("joke")


def test_function_calling_traces_strict(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(None, tool_calls=[call("Joke", JOKE_TEXT)]))
    llm.with_structured_output(Joke, method="function_calling", strict=True).invoke("joke")
    tool = server.requests[0].json()["tools"][0]["function"]
    assert tool["strict"] is True


# ---------------------------------------------------------------------------- json_mode


def test_json_mode_sends_json_object(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(JOKE_TEXT))
    server.reply(body=completion('{"anything": [1, 2]}'))
    assert llm.with_structured_output(Joke, method="json_mode").invoke("joke") == Joke(**JOKE)
    assert llm.with_structured_output(method="json_mode").invoke("x") == {"anything": [1, 2]}
    assert [r.json()["response_format"] for r in server.requests] == [{"type": "json_object"}] * 2


def test_json_mode_on_tgi_is_the_object_grammar(server: LoopbackServer) -> None:
    llm = ChatHFServerless(base_url=server.url, response_format_dialect="tgi")
    server.reply(body=completion(JOKE_TEXT))
    llm.with_structured_output(JokeDict, method="json_mode").invoke("joke")
    assert server.requests[0].json()["response_format"] == {"type": "json", "value": {"type": "object"}}


# ---------------------------------------------------------------------------- failures and include_raw


def test_not_json_raises_output_parser_exception(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion("Sure! Here is a joke: ..."))
    with pytest.raises(OutputParserException, match="not valid JSON"):
        llm.with_structured_output(Joke).invoke("joke")


@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
def test_cut_off_json_is_an_error_not_a_shorter_value(
    server: LoopbackServer, llm: ChatHFServerless, method: Any
) -> None:
    # langchain-core's JsonOutputParser would close the string and the object and return {"setup": "Why did"}.
    server.reply(body=completion('{"setup": "Why did'))
    with pytest.raises(OutputParserException, match="not valid JSON"):
        llm.with_structured_output(JokeDict, method=method).invoke("joke")


def test_stream_without_the_forced_call_raises_at_the_end(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=content_stream("I'd rather", " not."))
    with pytest.raises(OutputParserException, match=r"did not call 'Joke'.*rather not"):
        list(llm.with_structured_output(Joke, method="function_calling").stream("joke"))


def test_function_calling_arguments_that_do_not_match(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(None, tool_calls=[call("Joke", '{"setup": "only half"}')]))
    with pytest.raises(OutputParserException, match="does not match Joke") as info:
        llm.with_structured_output(Joke, method="function_calling").invoke("joke")
    assert info.value.llm_output == '{"setup": "only half"}'


def test_schema_mismatch_raises_output_parser_exception(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion('{"setup": "only half"}'))
    with pytest.raises(OutputParserException, match="does not match Joke"):
        llm.with_structured_output(Joke).invoke("joke")


def test_include_raw_success(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion(JOKE_TEXT))
    out = llm.with_structured_output(Joke, include_raw=True).invoke("joke")
    assert isinstance(out["raw"], AIMessage) and out["raw"].content == JOKE_TEXT
    assert out["parsed"] == Joke(**JOKE)
    assert out["parsing_error"] is None


def test_include_raw_keeps_the_message_and_the_error(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion('{"setup": "only half"}'))
    out = llm.with_structured_output(Joke, include_raw=True).invoke("joke")
    assert out["raw"].content == '{"setup": "only half"}'
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)


async def test_include_raw_async_function_calling(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion("no tool for you"))
    out = await llm.with_structured_output(Joke, method="function_calling", include_raw=True).ainvoke("joke")
    assert out["parsed"] is None and "did not call" in str(out["parsing_error"])


# ---------------------------------------------------------------------------- reasoning models


@pytest.mark.parametrize(
    "message",
    [
        {"content": f"<think>They want JSON {{not this}}.</think>\n{JOKE_TEXT}"},
        {"content": f"The user wants a joke {{maybe}}.</think>\n\n{JOKE_TEXT}"},  # template opened the tag
        {"content": JOKE_TEXT, "reasoning_content": 'Think: {"setup": "wrong"}'},
        {"content": JOKE_TEXT, "reasoning": "Thinking about cats."},
    ],
    ids=["inline_think", "open_tag_in_template", "reasoning_content", "reasoning_field"],
)
def test_reasoning_is_never_parsed(server: LoopbackServer, llm: ChatHFServerless, message: dict[str, Any]) -> None:
    content = message.pop("content")
    server.reply(body=completion(content, **message))
    assert llm.with_structured_output(Joke).invoke("joke") == Joke(**JOKE)


def test_reasoning_cut_off_says_raise_max_tokens(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion("<think>Let me think about cats and computers and"))
    with pytest.raises(OutputParserException, match="raise max_tokens"):
        llm.with_structured_output(Joke).invoke("joke")


def test_streamed_reasoning_then_answer(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=content_stream("<think>{not", " json}</think>", '{"setup": "a", ', '"punchline": "b"}'))
    parts = list(llm.with_structured_output(Joke).stream("joke"))
    assert parts[-1] == Joke(setup="a", punchline="b")


def test_answer_text_keeps_plain_answers() -> None:
    assert answer_text('{"a": 1}') == '{"a": 1}'
    assert answer_text('x</think>{"a": 1}') == '{"a": 1}'


def test_answer_text_drops_closed_and_cut_off_think() -> None:
    assert answer_text('<think>{"no": 1}</think>\n{"a": 1}') == '{"a": 1}'
    assert answer_text('  <think>{"no": 1} and then') == ""


def test_reasoning_content_alone_is_never_the_answer(server: LoopbackServer, llm: ChatHFServerless) -> None:
    server.reply(body=completion("", reasoning_content=JOKE_TEXT))
    with pytest.raises(OutputParserException, match="raise max_tokens"):
        llm.with_structured_output(JokeDict).invoke("joke")


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


def test_structured_runnable_declares_its_output_type(llm: ChatHFServerless) -> None:
    assert llm.with_structured_output(Joke).OutputType is Joke


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((Joke,), {"method": "xml"}, "Unknown method 'xml'"),
        ((Joke,), {"foo": 1}, "Unsupported arguments \\['foo'\\]"),
        ((None,), {}, "needs a schema"),
        (({"type": "object", "properties": {}},), {}, "needs a top-level 'title'"),
        (("Joke",), {}, "Unsupported schema"),
        ((Joke,), {"method": "json_mode", "strict": True}, "strict applies"),
    ],
)
def test_bad_arguments_say_what_to_do(llm: ChatHFServerless, args: Any, kwargs: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        llm.with_structured_output(*args, **kwargs)
