"""Structured output, both ways: a schema -> the request's ``response_format``, and the answer -> the parsed value.

Pure: no I/O. The router's ``/v1`` speaks OpenAI's ``{"type": "json_schema", "json_schema": {name, schema, strict}}``;
TGI speaks its grammar form ``{"type": "json", "value": <schema>}`` (WIRE-FORMAT.md, "Structured output"). Requests
are built in the OpenAI form and translated by :func:`to_dialect` just before they go out, so one binding works
against either server. Answers are parsed by langchain-core's parsers (JSON, Pydantic, tool calls), behind one
step that hands them the answer without its reasoning (:class:`AnswerParser`).
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, BaseMessageChunk
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.output_parsers.transform import BaseCumulativeTransformOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, Generation, GenerationChunk
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.json import parse_json_markdown
from langchain_core.utils.pydantic import is_basemodel_subclass

from langchain_hfserverless._wire.reasoning import CLOSE, split_think

Dialect = Literal["openai", "tgi"]
METHODS = ("json_schema", "function_calling", "json_mode")
JSON_OBJECT_FORMAT: Mapping[str, str] = {"type": "json_object"}
_SCHEMA_KINDS = "a Pydantic model, a TypedDict, or a JSON schema dict with a top-level 'title'"


def schema_function(schema: Any, *, strict: bool | None = None) -> dict[str, Any]:
    """The schema as an OpenAI function (``name``, ``description``, ``parameters``), or a clear ValueError."""
    if schema is None or isinstance(schema, (str, bytes, int, float, list)):
        raise ValueError(f"Unsupported schema {schema!r}: pass {_SCHEMA_KINDS}.")
    if isinstance(schema, Mapping) and "title" not in schema and "name" not in schema and "function" not in schema:
        raise ValueError(
            "A JSON schema dict needs a top-level 'title' (it names the output), e.g. "
            "{'title': 'Joke', 'type': 'object', 'properties': {...}}."
        )
    try:
        return convert_to_openai_tool(schema, strict=strict)["function"]
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Unsupported schema {schema!r}: pass {_SCHEMA_KINDS}. ({exc})") from None


def json_schema_format(schema: Any, *, strict: bool | None = None) -> dict[str, Any]:
    """OpenAI ``response_format`` for ``schema``; an OpenAI ``json_schema`` response_format dict passes through."""
    if isinstance(schema, Mapping) and schema.get("type") == "json_schema" and "json_schema" in schema:
        spec = dict(schema["json_schema"])
        if strict is not None:
            spec["strict"] = strict
        return {"type": "json_schema", "json_schema": spec}
    function = schema_function(schema, strict=strict)
    spec = {"name": function["name"]}
    if function.get("description"):
        spec["description"] = function["description"]
    spec["schema"] = function.get("parameters") or {"type": "object", "properties": {}}
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def to_dialect(response_format: Any, dialect: Dialect) -> Any:
    """``response_format`` as the server reads it: OpenAI forms become TGI's grammar form for ``"tgi"``.

    ``json_schema`` -> ``{"type": "json", "value": <schema>}``; ``json_object`` -> the grammar of any object.
    Anything else (already a grammar, ``regex``, ``text``) is sent as given.
    """
    if dialect != "tgi" or not isinstance(response_format, Mapping):
        return response_format
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        return {"type": "json", "value": spec.get("schema") or {"type": "object"}}
    if kind == "json_object":
        return {"type": "json", "value": {"type": "object"}}
    return response_format


def answer_text(text: str) -> str:
    """The answer without its reasoning: ``<think>…</think>`` (closed or cut off), and whatever comes before a last
    ``</think>`` whose opening tag was in the prompt (chat templates that start the model inside ``<think>``)."""
    answer, _ = split_think(text)
    _, closed, tail = answer.rpartition(CLOSE)
    return tail if closed else answer


def without_reasoning(generation: Generation) -> Generation:
    """The generation as a parser may read it: the answer only, ``reasoning_content`` dropped."""
    if not isinstance(generation, ChatGeneration):
        answer = answer_text(generation.text)
        return generation if answer == generation.text else Generation(text=answer)
    message = generation.message
    text = message.text
    answer = answer_text(text)
    if answer == text and "reasoning_content" not in message.additional_kwargs:
        return generation
    kept = {k: v for k, v in message.additional_kwargs.items() if k != "reasoning_content"}
    return ChatGeneration(message=message.model_copy(update={"content": answer, "additional_kwargs": kept}))


class AnswerParser(BaseCumulativeTransformOutputParser[Any]):
    """One of langchain-core's structured-output parsers, fed the answer only: reasoning is never parsed.

    The step in front of ``parser`` strips ``<think>…</think>`` (closed or cut off) and ``reasoning_content`` from
    the message; langchain-core does the parsing, the partial values of a stream included. On top, what
    ``invoke`` promises holds under ``stream`` too: the complete answer is parsed once more at the end, strictly
    (a cut-off JSON is an error, not a shorter value), and every failure is an
    :class:`~langchain_core.exceptions.OutputParserException` that says what went wrong and what to try.
    """

    parser: BaseCumulativeTransformOutputParser[Any]
    """langchain-core's parser of the answer: ``JsonOutputParser``, ``PydanticOutputParser``,
    ``JsonOutputKeyToolsParser`` or ``PydanticToolsParser``."""
    schema_name: str
    """The schema's name, for error messages."""
    tool_name: str | None = None
    """The tool whose call carries the answer (``function_calling``); ``None`` when the content does."""

    @property
    def _type(self) -> str:
        return "hfserverless_answer"

    @property
    def OutputType(self) -> Any:
        return self.parser.OutputType

    def parse(self, text: str) -> Any:
        return self.parse_result([Generation(text=text)])

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        answer = without_reasoning(result[0])
        if partial:
            try:
                return self.parser.parse_result([answer], partial=True)
            except ValueError:  # the tool parsers may reject a call still streaming in
                return None
        raw = self._checked_raw(result[0], answer)
        try:
            return self.parser.parse_result([answer])
        except ValueError as exc:  # OutputParserException, and pydantic's errors from PydanticToolsParser
            cause = exc.__cause__ if isinstance(exc, OutputParserException) and exc.__cause__ else exc
            raise OutputParserException(
                f"The answer does not match {self.schema_name}: {cause}", llm_output=raw
            ) from None

    def _checked_raw(self, original: Generation, answer: Generation) -> str:
        """The raw answer (content, or the call's arguments) once it is there and is JSON; else a clear error."""
        if self.tool_name is not None:
            return _call_arguments(answer, self.tool_name)
        text = answer.text.strip()
        if not text:
            message = original.message if isinstance(original, ChatGeneration) else None
            reasoned = answer_text(original.text) != original.text or (
                message is not None and bool(message.additional_kwargs.get("reasoning_content"))
            )
            hint = (
                " It only reasoned: the answer was probably cut off, raise max_tokens."
                if reasoned
                else " Ask for JSON in the prompt, or use method='function_calling'."
            )
            raise OutputParserException(f"The model gave no answer to parse.{hint}", llm_output=text)
        try:
            parse_json_markdown(text, parser=json.loads)  # strict: langchain-core would complete a cut-off JSON
        except json.JSONDecodeError as exc:
            raise OutputParserException(
                f"The answer is not valid JSON ({exc}): {text[:300]!r}", llm_output=text
            ) from None
        return text

    # langchain-core yields the partial values; the complete answer is then checked as ``invoke`` checks it.

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:
        chunks: list[str | BaseMessage] = []
        last = None
        for last in super()._transform(_kept(input, chunks)):
            yield last
        yield from self._complete(chunks, last)

    async def _atransform(self, input: AsyncIterator[str | BaseMessage]) -> AsyncIterator[Any]:
        chunks: list[str | BaseMessage] = []
        last = None
        async for last in super()._atransform(_akept(input, chunks)):
            yield last
        for value in self._complete(chunks, last):
            yield value

    def _complete(self, chunks: list[str | BaseMessage], last: Any) -> list[Any]:
        """The complete value, when the stream's last partial one was not already it; raises if it does not parse."""
        if not chunks:
            return []
        complete = self.parse_result([_whole(chunks)])
        return [] if complete == last else [complete]


def _call_arguments(answer: Generation, tool_name: str) -> str:
    """The JSON arguments of the call to ``tool_name``, or why there is none."""
    message = answer.message if isinstance(answer, ChatGeneration) else None
    if not isinstance(message, AIMessage):
        raise OutputParserException("function_calling structured output needs a chat model's AIMessage.")
    for call in message.tool_calls:
        if call["name"] == tool_name:
            return json.dumps(call["args"], ensure_ascii=False)
    for bad in message.invalid_tool_calls:
        if bad.get("name") == tool_name:
            raise OutputParserException(
                f"The arguments of the {tool_name!r} call are not valid JSON ({bad.get('error')}): "
                f"{(bad.get('args') or '')[:300]!r}",
                llm_output=bad.get("args") or "",
            )
    called = [c["name"] for c in message.tool_calls] + [c.get("name") for c in message.invalid_tool_calls]
    said = message.text.strip()
    raise OutputParserException(
        f"The model did not call {tool_name!r}"
        + (f" (it called {called})" if called else "")
        + (f"; it answered {said[:200]!r}" if said else "")
        + ". Try method='json_schema', or a model/provider that supports forced tool_choice.",
        llm_output=said,
    )


def _kept(chunks: Iterator[str | BaseMessage], into: list[str | BaseMessage]) -> Iterator[str | BaseMessage]:
    for chunk in chunks:
        into.append(chunk)
        yield chunk


async def _akept(
    chunks: AsyncIterator[str | BaseMessage], into: list[str | BaseMessage]
) -> AsyncIterator[str | BaseMessage]:
    async for chunk in chunks:
        into.append(chunk)
        yield chunk


def _whole(chunks: list[str | BaseMessage]) -> Generation:
    """The complete answer of a stream, merged as langchain-core merges it (a chat stream in one pass)."""
    first, *rest = chunks
    if isinstance(first, AIMessageChunk) and all(isinstance(c, AIMessageChunk) for c in rest):
        return ChatGeneration(message=first + rest if rest else first)  # type: ignore[operator]
    pieces: list[GenerationChunk | ChatGenerationChunk] = [
        ChatGenerationChunk(message=c)
        if isinstance(c, BaseMessageChunk)
        else ChatGenerationChunk(message=BaseMessageChunk(**c.model_dump()))
        if isinstance(c, BaseMessage)
        else GenerationChunk(text=c)
        for c in chunks
    ]
    return functools.reduce(operator.add, pieces)


def structured_output_parser(schema: Any, *, method: str) -> AnswerParser:
    """The parser of ``method``'s answers for ``schema`` (``None`` allowed for ``json_mode``: a plain dict).

    Pydantic (v2 or v1) schemas come back as instances, TypedDicts and JSON schemas as dicts, as with
    langchain-openai: ``function_calling`` reads the forced tool call, the other methods the content.
    """
    pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    parser: BaseCumulativeTransformOutputParser[Any]
    if method == "function_calling":
        name = schema_function(schema)["name"]
        if pydantic:
            parser = PydanticToolsParser(tools=[schema], first_tool_only=True)
        else:
            parser = JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        return AnswerParser(parser=parser, schema_name=name, tool_name=name)
    parser = PydanticOutputParser(pydantic_object=schema) if pydantic else JsonOutputParser()
    return AnswerParser(parser=parser, schema_name=getattr(schema, "__name__", "the schema"))
