"""Read real recorded traffic in place: ``../shared/hf-recordings`` (or the folder ``HFSERVERLESS_RECORDINGS`` names).

Cassettes are YAML from other projects, never copied into this repository. The loader reads the shapes their
writers use: vcrpy (string, ``!!binary`` or ``{"string": ...}`` bodies; request bodies pickled as
``!!python/object/new:_io.BytesIO``), pydantic-ai's serializers (``parsed_body``, ``{"type": "json", "content"}``,
a bare ``status: 200``) and R's vcr (``http_interactions``). The YAML itself is read by ``tests/cassettes.py``, the
same reader VCR replays our own cassettes with. TGI's integration snapshots (parsed JSON answers) are found here too.

The second half says, independently of the package, what a recorded chat answer contains: the replay tests
compare the package's result with it.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.cassettes import RECORDINGS, read_cassette

SHARED = RECORDINGS
"""The shared recordings: the repository is checked out beside ``shared/``."""

TGI_SNAPSHOTS = "text-generation-inference/integration-tests/models/__snapshots__"


def _as_bytes(value: Any) -> bytes | None:
    """A stored body in any of the shapes cassette writers use, as the bytes that travelled.

    vcrpy: a string, ``!!binary`` bytes, or ``{"string": ...}`` (responses); pydantic-ai's serializers:
    ``{"type": "json" | "text", "content": ...}``; R's vcr: ``{"encoding": ..., "string": ...}``; a body kept as
    parsed YAML (a mapping or a list) is JSON.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, Mapping) and "string" in value:
        return _as_bytes(value["string"])
    if isinstance(value, Mapping) and "content" in value and set(value) <= {"type", "content", "encoding"}:
        content = value["content"]
        return _as_bytes(content) if isinstance(content, (str, bytes)) or content is None else _json(content)
    if isinstance(value, (Mapping, list)):
        return _json(value)
    raise TypeError(f"unexpected cassette body {type(value).__name__}")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _body_of(part: Mapping[str, Any]) -> bytes | None:
    """``parsed_body`` (pydantic-ai) wins over ``body``: it is the body, parsed at record time."""
    if part.get("parsed_body") is not None:
        return _json(part["parsed_body"])
    return _as_bytes(part.get("body"))


def _status(raw: Any) -> int:
    """``{"code": 200}`` (vcrpy), ``{"status_code": "200"}`` (R vcr) or a bare ``200``."""
    if isinstance(raw, Mapping):
        raw = raw.get("code", raw.get("status_code"))
    return int(raw)


def _headers(raw: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in (raw or {}).items():
        values = value if isinstance(value, list) else [value]
        out[str(key)] = [str(v) for v in values]
    return out


def _header(headers: Mapping[str, list[str]], name: str) -> str | None:
    lowered = name.lower()
    return next((v[0] for k, v in headers.items() if k.lower() == lowered and v), None)


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its answer."""

    cassette: str
    """Path of the cassette, relative to the shared recordings folder."""
    index: int
    method: str
    uri: str
    request_headers: dict[str, list[str]] = field(repr=False)
    request_body: bytes | None = field(repr=False)
    status: int
    response_headers: dict[str, list[str]] = field(repr=False)
    raw_response_body: bytes = field(repr=False)

    @property
    def id(self) -> str:
        stem = self.cassette.rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
        origin = self.cassette.split("/", 1)[0]
        return f"{origin}:{stem}#{self.index}"

    def response_header(self, name: str) -> str | None:
        return _header(self.response_headers, name)

    @property
    def response_body(self) -> bytes:
        """The body as the client read it: gzip/deflate undone when the cassette kept it compressed."""
        encoding = (self.response_header("content-encoding") or "").lower()
        body = self.raw_response_body
        if encoding == "gzip" and body[:2] == b"\x1f\x8b":
            return gzip.decompress(body)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return body
        return body

    @property
    def is_event_stream(self) -> bool:
        """The answer is server-sent events (by content type, or by its first bytes when none was kept)."""
        content_type = (self.response_header("content-type") or "").lower()
        if content_type:
            return content_type.startswith("text/event-stream")
        return self.response_body.lstrip().startswith(b"data:")

    def request_json(self) -> Any:
        """The request body parsed, or ``None`` when it was not stored or is not JSON."""
        if not self.request_body:
            return None
        try:
            return json.loads(self.request_body)
        except ValueError:
            return None

    def response_json(self) -> Any:
        return json.loads(self.response_body)

    @property
    def is_chat_completion(self) -> bool:
        return self.method.upper() == "POST" and self.uri.split("?", 1)[0].rstrip("/").endswith("/chat/completions")


def load_cassette(path: Path) -> list[Interaction]:
    """Every interaction of one cassette (vcrpy, pydantic-ai or R vcr YAML); ``[]`` for other YAML files."""
    data = read_cassette(path)
    if not isinstance(data, Mapping):
        return []
    items = data.get("interactions") or data.get("http_interactions") or ()
    relative = path.relative_to(recordings_root()).as_posix()
    out = []
    for index, item in enumerate(items):
        request, response = item["request"], item["response"]
        out.append(
            Interaction(
                cassette=relative,
                index=index,
                method=str(request.get("method", "GET")).upper(),
                uri=str(request.get("uri", "")),
                request_headers=_headers(request.get("headers")),
                request_body=_body_of(request),
                status=_status(response["status"]),
                response_headers=_headers(response.get("headers")),
                raw_response_body=_body_of(response) or b"",
            )
        )
    return out


def recordings_root() -> Path:
    """``HFSERVERLESS_RECORDINGS`` when set (to replay another folder of recordings), else ``SHARED``."""
    override = os.environ.get("HFSERVERLESS_RECORDINGS")
    return Path(override).resolve() if override else SHARED


def cassette_paths() -> list[Path]:
    """Every YAML cassette under the recordings folder, sorted; empty when the folder is absent."""
    root = recordings_root()
    if not root.is_dir():
        return []
    found = []
    for folder, _, files in os.walk(root, followlinks=True):  # folders may be symlinked in
        found.extend(Path(folder) / name for name in files if name.endswith((".yaml", ".yml")))
    return sorted(found)


@cache
def _load_all() -> tuple[tuple[Interaction, ...], tuple[str, ...]]:
    interactions: list[Interaction] = []
    unreadable: list[str] = []
    for path in cassette_paths():
        try:
            interactions.extend(load_cassette(path))
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            unreadable.append(f"{path}: {type(exc).__name__}: {exc}")
    return tuple(interactions), tuple(unreadable)


def all_interactions() -> tuple[Interaction, ...]:
    """Every interaction of every readable cassette."""
    return _load_all()[0]


def unreadable_cassettes() -> tuple[str, ...]:
    """Cassettes that could not be read, with the reason (a test asserts there are none)."""
    return _load_all()[1]


def chat_interactions() -> Iterator[Interaction]:
    """Recorded chat-completions POSTs whose request body was stored (Hub look-ups are left out)."""
    for interaction in all_interactions():
        if interaction.is_chat_completion and interaction.request_json() is not None:
            yield interaction


def tgi_snapshot_paths() -> list[Path]:
    root = recordings_root() / TGI_SNAPSHOTS
    if not root.is_dir():
        return []
    return sorted(
        Path(folder) / n for folder, _, files in os.walk(root, followlinks=True) for n in files if n.endswith(".json")
    )


# ---------------------------------------------------------------------------------------------- what an answer says
# Parsed here, independently of the package, so the replay compares the package against the recording itself.


@dataclass
class RecordedAnswer:
    """What a recorded chat answer says: the text, reasoning and tool calls of choice 0, and the final figures."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """``{"name", "args", "id"}``; ``args`` is a dict when the arguments are a JSON object, else the raw text."""
    usage: Mapping[str, Any] | None = None
    finish_reason: str | None = None
    model: str | None = None
    error: str | None = None
    """The server's words when the answer is an error (a 200 body or stream event carrying ``error``)."""


def parsed_arguments(arguments: Any) -> Any:
    """Tool-call arguments as JSON when they parse (a string may hold a JSON string: TGI double-encodes)."""
    value = arguments
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError:
            return arguments
    return value


def _split_think(content: str) -> tuple[str, str]:
    stripped = content.lstrip()
    if not stripped.startswith("<think>"):
        return content, ""
    thought, closed, answer = stripped[len("<think>") :].partition("</think>")
    return (answer.lstrip(), thought) if closed else ("", thought)


def _reasoning(message: Mapping[str, Any]) -> str:
    for key in ("reasoning_content", "reasoning"):
        if isinstance(message.get(key), str) and message[key]:
            return str(message[key])
    return ""


def _finish(answer: RecordedAnswer, content: str, reasoning: str) -> RecordedAnswer:
    answer.content, inline = _split_think(content)
    answer.reasoning = f"{reasoning}\n{inline}" if reasoning and inline else reasoning or inline
    return answer


def _listed(calls: Any) -> list[Any]:
    """``tool_calls`` as a list: TGI 1.4 streamed a single object instead of a one-item list."""
    if isinstance(calls, Mapping):
        return [calls]
    return list(calls or ())


def _arguments(function: Mapping[str, Any]) -> Any:
    """``arguments``; TGI 1.4.3 put them in ``parameters`` (an object) instead."""
    arguments = function.get("arguments")
    return function.get("parameters") if arguments is None else arguments


def error_text(data: Any) -> str:
    """The server's own words in an error body of any shape."""
    error = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(error, Mapping):
        error = error.get("message")
    if isinstance(error, list):
        error = error[0] if error else ""
    if error is None and isinstance(data, Mapping):
        error = data.get("detail") or data.get("message") or data.get("title")
        if isinstance(error, list):
            error = error[0].get("msg", error[0]) if error and isinstance(error[0], Mapping) else error[0]
    return str(error)


def _is_error(data: Any) -> bool:
    return isinstance(data, Mapping) and data.get("error") is not None and not data.get("choices")


def answer_of_body(data: Mapping[str, Any]) -> RecordedAnswer:
    """A whole (non-streamed) chat-completions answer."""
    if _is_error(data):
        return RecordedAnswer(error=error_text(data))
    choice = data["choices"][0]
    message = choice.get("message") or choice.get("delta") or {}
    answer = RecordedAnswer(usage=data.get("usage") or None, finish_reason=choice.get("finish_reason") or None)
    answer.model = data.get("model") or None
    for call in _listed(message.get("tool_calls")):
        function = call.get("function") or {}
        answer.tool_calls.append(
            {"name": function.get("name"), "args": parsed_arguments(_arguments(function)), "id": call.get("id")}
        )
    return _finish(answer, message.get("content") or "", _reasoning(message))


def answer_of_events(events: Iterable[Mapping[str, Any]]) -> RecordedAnswer:
    """Streamed chunks, accumulated: texts joined, tool-call fragments joined per index, last figures kept."""
    answer = RecordedAnswer()
    content, reasoning = [], []
    calls: dict[int, dict[str, Any]] = {}
    for event in events:
        if _is_error(event):
            answer.error = error_text(event)
            return answer
        answer.model = answer.model or event.get("model") or None
        answer.usage = event.get("usage") or (event.get("x_groq") or {}).get("usage") or answer.usage
        for choice in event.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            answer.finish_reason = choice.get("finish_reason") or answer.finish_reason
            delta = choice.get("delta") or choice.get("message") or {}
            content.append(delta.get("content") or "")
            reasoning.append(_reasoning(delta))
            for position, call in enumerate(_listed(delta.get("tool_calls"))):
                slot = calls.setdefault(call.get("index", position), {"name": None, "args": "", "id": None})
                function = call.get("function") or {}
                slot["name"] = slot["name"] or function.get("name")
                slot["id"] = slot["id"] if slot["id"] not in (None, "") else call.get("id")
                arguments = _arguments(function)
                slot["args"] += arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    for _, slot in sorted(calls.items()):
        answer.tool_calls.append({**slot, "args": parsed_arguments(slot["args"]) if slot["args"] else {}})
    return _finish(answer, "".join(content), "".join(reasoning))


def sse_payloads(body: bytes) -> list[Any]:
    """The JSON payloads of an SSE body (``data: {...}`` or ``data:{...}``), up to ``[DONE]``."""
    payloads = []
    event = ""
    for line in body.decode("utf-8").splitlines():
        if line.startswith("event:"):
            event = line[len("event:") :].strip()
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        if data:
            payload = json.loads(data)
            if event == "error" and isinstance(payload, dict) and "error" not in payload:
                payload = {"error": payload}  # `event: error` names the payload an error
            payloads.append(payload)
            event = ""
    return payloads


def answer_of(interaction: Interaction) -> RecordedAnswer:
    """What one recorded chat interaction answered."""
    if interaction.is_event_stream:
        return answer_of_events(sse_payloads(interaction.response_body))
    return answer_of_body(interaction.response_json())


def error_text_of(interaction: Interaction) -> str:
    """The server's words in a recorded error answer (JSON of any shape, or plain text)."""
    try:
        data = interaction.response_json()
    except ValueError:
        return interaction.response_body.decode("utf-8", "replace").strip()
    return error_text(data)
