"""Structured output, both ways: a schema -> the request's ``response_format``, and the answer -> the parsed value.

Pure: no I/O. The router's ``/v1`` speaks OpenAI's ``{"type": "json_schema", "json_schema": {name, schema, strict}}``;
TGI speaks its grammar form ``{"type": "json", "value": <schema>}`` (WIRE-FORMAT.md, "Structured output"). Requests
are built in the OpenAI form and translated by :func:`to_dialect` just before they go out, so one binding works
against either server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Annotated, Any, Literal

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, BaseMessage, BaseMessageChunk
from langchain_core.output_parsers.transform import BaseCumulativeTransformOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, Generation, GenerationChunk
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.json import parse_json_markdown
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import SkipValidation
from pydantic import ValidationError as ValidationErrorV2
from pydantic.v1 import ValidationError as ValidationErrorV1

from langchain_hfserverless._wire.reasoning import CLOSE

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
    """The answer after any reasoning: what follows the last ``</think>`` (an opening tag may be absent)."""
    _, closed, tail = text.rpartition(CLOSE)
    return tail if closed else text


def _message_of(generation: Generation) -> BaseMessage | None:
    return generation.message if isinstance(generation, ChatGeneration) else None


def _pydantic_name(schema: type) -> str:
    return getattr(schema, "__name__", str(schema))


class StructuredOutputParser(BaseCumulativeTransformOutputParser[Any]):
    """Parses an answer into the requested schema: the content's JSON, or one named tool call's arguments.

    Reasoning is never parsed: content after the last ``</think>`` is the answer (reasoning fields were already
    split off by the response mapping). Pydantic schemas come back as instances, other schemas as dicts. A bad
    answer raises :class:`~langchain_core.exceptions.OutputParserException`; streams yield partial values and
    raise at the end when the complete answer does not parse.
    """

    tool_name: str | None = None
    """Read the arguments of the call to this tool (``function_calling``); ``None`` reads the content."""
    pydantic_schema: Annotated[type | None, SkipValidation()] = None
    """Validate into this Pydantic (v2 or v1) model; ``None`` returns the plain JSON value."""

    @property
    def _type(self) -> str:
        return "hfserverless_structured_output"

    def parse(self, text: str) -> Any:
        return self.parse_result([Generation(text=text)])

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        generation = result[0]
        if self.tool_name is not None:
            value, raw = self._tool_arguments(generation, partial=partial)
        else:
            value, raw = self._content_json(generation, partial=partial)
        if value is None or self.pydantic_schema is None:
            return value
        return self._validate(value, raw, partial=partial)

    # ------------------------------------------------------------------ sources

    def _content_json(self, generation: Generation, *, partial: bool) -> tuple[Any, str]:
        message = _message_of(generation)
        text = answer_text(message.text if message is not None else generation.text).strip()
        if not text:
            if partial:
                return None, text
            reasoning = message.additional_kwargs.get("reasoning_content") if message is not None else None
            hint = (
                " It only reasoned: the answer was probably cut off, raise max_tokens."
                if reasoning
                else " Ask for JSON in the prompt, or use method='function_calling'."
            )
            raise OutputParserException(f"The model gave no answer to parse.{hint}", llm_output=text)
        try:
            if partial:
                return parse_json_markdown(text), text
            return parse_json_markdown(text, parser=json.loads), text
        except json.JSONDecodeError as exc:
            if partial:
                return None, text
            raise OutputParserException(
                f"The answer is not valid JSON ({exc}): {text[:300]!r}", llm_output=text
            ) from None

    def _tool_arguments(self, generation: Generation, *, partial: bool) -> tuple[Any, str]:
        message = _message_of(generation)
        if not isinstance(message, AIMessage):
            raise OutputParserException("function_calling structured output needs a chat model's AIMessage.")
        for call in message.tool_calls:
            if call["name"] == self.tool_name:
                args = call["args"]
                if partial and not args:
                    return None, ""
                return args, json.dumps(args, ensure_ascii=False)
        if partial:
            return None, ""
        for bad in message.invalid_tool_calls:
            if bad.get("name") == self.tool_name:
                raise OutputParserException(
                    f"The arguments of the {self.tool_name!r} call are not valid JSON ({bad.get('error')}): "
                    f"{(bad.get('args') or '')[:300]!r}",
                    llm_output=bad.get("args") or "",
                )
        called = [c["name"] for c in message.tool_calls] + [c.get("name") for c in message.invalid_tool_calls]
        said = message.text.strip()
        raise OutputParserException(
            f"The model did not call {self.tool_name!r}"
            + (f" (it called {called})" if called else "")
            + (f"; it answered {said[:200]!r}" if said else "")
            + ". Try method='json_schema', or a model/provider that supports forced tool_choice.",
            llm_output=said,
        )

    def _validate(self, value: Any, raw: str, *, partial: bool) -> Any:
        schema: Any = self.pydantic_schema
        try:
            if hasattr(schema, "model_validate"):
                return schema.model_validate(value)
            return schema.parse_obj(value)
        except (ValidationErrorV2, ValidationErrorV1, TypeError, ValueError) as exc:
            if partial:
                return None
            raise OutputParserException(
                f"The answer does not match {_pydantic_name(schema)}: {exc}", llm_output=raw
            ) from None

    # ------------------------------------------------------------------ streaming

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:
        stream = _ParsedStream(self)
        for chunk in input:
            yield from stream.feed(chunk)
        yield from stream.finish()

    async def _atransform(self, input: AsyncIterator[str | BaseMessage]) -> AsyncIterator[Any]:
        stream = _ParsedStream(self)
        async for chunk in input:
            for value in stream.feed(chunk):
                yield value
        for value in stream.finish():
            yield value


class _ParsedStream:
    """One stream through a parser: a value each time the partial answer parses to something new, then the
    complete answer, which must parse (as under ``invoke``)."""

    def __init__(self, parser: StructuredOutputParser) -> None:
        self._parser = parser
        self._acc: ChatGenerationChunk | GenerationChunk | None = None
        self._previous: Any = None

    def feed(self, chunk: str | BaseMessage) -> list[Any]:
        piece: ChatGenerationChunk | GenerationChunk
        if isinstance(chunk, BaseMessageChunk):
            piece = ChatGenerationChunk(message=chunk)
        elif isinstance(chunk, BaseMessage):
            piece = ChatGenerationChunk(message=BaseMessageChunk(**chunk.model_dump()))
        else:
            piece = GenerationChunk(text=chunk)
        self._acc = piece if self._acc is None else self._acc + piece  # type: ignore[operator]
        return self._fresh(self._parser.parse_result([self._acc], partial=True))

    def finish(self) -> list[Any]:
        return [] if self._acc is None else self._fresh(self._parser.parse_result([self._acc]))

    def _fresh(self, parsed: Any) -> list[Any]:
        if parsed is None or parsed == self._previous:
            return []
        self._previous = parsed
        return [parsed]


def structured_output_parser(schema: Any, *, method: str) -> StructuredOutputParser:
    """The parser of ``method``'s answers for ``schema`` (``None`` allowed for ``json_mode``: a plain dict)."""
    pydantic_schema = schema if isinstance(schema, type) and is_basemodel_subclass(schema) else None
    if method == "function_calling":
        return StructuredOutputParser(tool_name=schema_function(schema)["name"], pydantic_schema=pydantic_schema)
    return StructuredOutputParser(pydantic_schema=pydantic_schema)
