"""Which completion dialect a server speaks, and the OpenAI completions dialect itself. Pure: no I/O.

Two request forms exist for a bare prompt: TGI's text generation (``{"inputs", "parameters", "stream"}``: the
router's hf-inference, TGI, Inference Endpoints) and OpenAI completions (``{"prompt", "max_tokens", "stop", ...}``
on ``/v1/completions``: vLLM, SGLang, llama.cpp's llama-server, TGI's own ``/v1/completions``). A ``base_url``
names one by its path; a server root or ``/v1`` does not, so :func:`candidates` lists both and
:func:`names_other_form` reads the refusal that says the other form is wanted.

Answers: OpenAI ``{"choices": [{"text", "finish_reason", "logprobs"}], "usage"}`` (stream events alike, usage in
the last one) and llama.cpp's own ``/completion`` ``{"content", "stop", "stop_type", "tokens_predicted",
"tokens_evaluated"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

TGI: Final = "tgi"
OPENAI: Final = "openai"
Dialect = Literal["tgi", "openai"]

# Text-generation parameters and their OpenAI completions name.
_OPENAI_NAMES = {"max_new_tokens": "max_tokens", "temperature": "temperature", "top_p": "top_p", "seed": "seed"}
# TGI-only: no completions server reads them.
_TGI_ONLY = frozenset({"watermark", "grammar"})
# The field each dialect cannot do without (what a server names when it is missing).
_REQUIRED_FIELD = {TGI: "inputs", OPENAI: "prompt"}
_MISSING_WORDS = ("missing", "not found", "required")
_NO_ROUTE = frozenset({404, 405})
_REFUSED = frozenset({400, 422})  # llama.cpp and vLLM say 400, TGI's JSON extractor 422

# llama.cpp's stop_type -> OpenAI finish_reason
_LLAMA_CPP_FINISH = {"eos": "stop", "word": "stop", "limit": "length"}


class UnsupportedParameters(ValueError):
    """Parameters the chosen dialect has no way to carry; ``args[0]`` lists them."""


@dataclass(frozen=True)
class Candidate:
    """One way to send a prompt: the URL and the body form."""

    url: str
    dialect: Dialect


def candidates(base_url: str) -> list[Candidate]:
    """Where and how a prompt may go on a ``base_url`` server, most likely first.

    ``…/completions`` is OpenAI and ``…/generate`` / ``…/generate_stream`` TGI, used as given. A server root is
    POSTed in TGI form first (TGI and Inference Endpoints answer there), then OpenAI at its ``/v1/completions``;
    a ``…/v1`` is OpenAI at ``…/v1/completions`` first, then TGI at the root. Any other path is used as given,
    in TGI form first, then (when the server asks for ``prompt``) in OpenAI form.
    """
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")

    def at(new_path: str) -> str:
        return urlunsplit(parts._replace(path=new_path))

    if path.endswith("/completions"):
        return [Candidate(base_url, OPENAI)]
    if path.endswith(("/generate", "/generate_stream")):
        return [Candidate(base_url, TGI)]
    if not path:
        return [Candidate(base_url, TGI), Candidate(at("/v1/completions"), OPENAI)]
    if path.endswith("/v1"):
        return [Candidate(at(f"{path}/completions"), OPENAI), Candidate(at(path[: -len("/v1")] or "/"), TGI)]
    return [Candidate(base_url, TGI), Candidate(base_url, OPENAI)]


def no_route_hint(tried: list[str]) -> str:
    """What to do when every route tried on a ``base_url`` answered 404/405."""
    return (
        f"No completion route answered at {' nor '.join(tried)}. Give the full route: TGI serves …/generate, "
        "OpenAI-style servers (vLLM, SGLang, llama.cpp's llama-server, TGI) serve …/v1/completions."
    )


def url_for(candidate: Candidate, stream: bool) -> str:
    """TGI serves whole answers on ``/generate`` and streams on ``/generate_stream``: the one the call needs."""
    parts = urlsplit(candidate.url)
    path = parts.path.rstrip("/")
    if candidate.dialect == TGI and stream and path.endswith("/generate"):
        return urlunsplit(parts._replace(path=f"{path}_stream"))
    if candidate.dialect == TGI and not stream and path.endswith("/generate_stream"):
        return urlunsplit(parts._replace(path=path[: -len("_stream")]))
    return candidate.url


def names_other_form(status: int | None, message: str, tried: Candidate, other: Candidate) -> bool:
    """Does this refusal of ``tried`` say ``other`` is the way to go?

    A 404/405 does when ``other`` is another URL (no such route here). A 400/422 does when the server says the
    field of ``other``'s form is missing: llama.cpp's "key 'prompt' not found", TGI's "missing field `inputs`",
    vLLM's ``('body', 'prompt')`` "Field required".
    """
    if status in _NO_ROUTE:
        return other.url != tried.url
    if status not in _REFUSED or other.dialect == tried.dialect:
        return False
    return says_missing(message, _REQUIRED_FIELD[other.dialect])


def says_missing(message: str, name: str) -> bool:
    """Does a server's message say the body field ``name`` is missing?"""
    words = message.lower()
    quoted = any(f"{q}{name}{q}" in words for q in ("'", "`", '"'))
    return quoted and any(word in words for word in _MISSING_WORDS)


# ---------------------------------------------------------------------------------------------- requests


def openai_body(prompt: str, params: Mapping[str, Any], *, model: str | None, stream: bool) -> dict[str, Any]:
    """Text-generation parameters -> an OpenAI completions body; only what was set goes out.

    ``max_new_tokens`` becomes ``max_tokens``; ``do_sample=False`` becomes ``temperature: 0`` (greedy) unless a
    temperature is set; ``details=True`` asks for ``logprobs: 1``; ``return_full_text`` is left to the caller
    (llama.cpp ignores ``echo``). Other keys (``model_kwargs``, call keywords) go as given. A stream asks for usage.

    Raises:
        UnsupportedParameters: TGI-only parameters (``watermark``, ``grammar``) were set.
    """
    unsupported = sorted(k for k in params if k in _TGI_ONLY)
    if unsupported:
        raise UnsupportedParameters(", ".join(unsupported))
    body: dict[str, Any] = {"prompt": prompt}
    if model:
        body["model"] = model
    for key, value in params.items():
        if key in _OPENAI_NAMES:
            body[_OPENAI_NAMES[key]] = value
        elif key in ("return_full_text", "do_sample", "details"):
            continue
        else:
            body[key] = value
    if params.get("do_sample") is False:
        body.setdefault("temperature", 0)
    if params.get("details"):
        body.setdefault("logprobs", 1)
    body["stream"] = stream
    if stream:
        body.setdefault("stream_options", {"include_usage": True})
    return body


# ---------------------------------------------------------------------------------------------- answers


def usage_of(raw: Any) -> dict[str, int] | None:
    """The integer counts of a ``usage`` object (nested details dropped)."""
    if not isinstance(raw, Mapping):
        return None
    usage = {k: int(v) for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}
    return usage or None


@dataclass
class CompletionDelta:
    """What one completions answer or stream event says about prompt 0."""

    text: str
    finish_reason: str | None = None
    logprobs: Any = None
    usage: dict[str, int] | None = None


def _llama_cpp_usage(data: Mapping[str, Any]) -> dict[str, int] | None:
    prompt, completion = data.get("tokens_evaluated"), data.get("tokens_predicted")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_delta(data: Mapping[str, Any]) -> CompletionDelta | None:
    """An OpenAI completions answer or event (``choices[].text``; chat-style ``message``/``delta`` content too),
    or llama.cpp's ``{"content", "stop"}`` -> prompt 0's text and info; ``None`` for any other shape.

    An event with ``choices: []`` (the usage-only last event of a stream) is an empty delta with its usage.
    """
    usage = usage_of(data.get("usage"))
    choices = data.get("choices")
    if isinstance(choices, list):
        # TGI answers a batch of prompts out of order (index 1 first): prompt 0's choice.
        mine = [c for c in choices if isinstance(c, Mapping) and c.get("index", 0) == 0]
        if not mine:
            return CompletionDelta("", usage=usage) if not choices else None
        choice = mine[0]
        text = choice.get("text")
        if not isinstance(text, str):
            inner = choice.get("message") or choice.get("delta")
            text = inner.get("content") if isinstance(inner, Mapping) else None
        if not isinstance(text, str):
            if "text" in choice or "delta" in choice:  # a finish-only event: no text, or null content
                text = ""
            else:
                return None
        return CompletionDelta(text, choice.get("finish_reason") or None, choice.get("logprobs"), usage)
    if isinstance(data.get("content"), str) and isinstance(data.get("stop"), bool):
        finish = _LLAMA_CPP_FINISH.get(str(data.get("stop_type"))) if data["stop"] else None
        probs = data.get("completion_probabilities")
        return CompletionDelta(data["content"], finish, probs or None, _llama_cpp_usage(data) if data["stop"] else None)
    return None


def info_of(delta: CompletionDelta) -> dict[str, Any]:
    """``generation_info`` of a whole answer: finish_reason, logprobs and usage, those the server sent."""
    info: dict[str, Any] = {}
    if delta.finish_reason is not None:
        info["finish_reason"] = delta.finish_reason
    return with_logprobs_and_usage(info, delta.logprobs, delta.usage)


def with_logprobs_and_usage(info: dict[str, Any], logprobs: Any, usage: Any) -> dict[str, Any]:
    """``info`` with the answer's logprobs and usage added, those the server sent (both forms read them alike)."""
    if logprobs is not None:
        info["logprobs"] = logprobs
    if usage:
        info["usage"] = usage
    return info


def merge_logprobs(kept: Any, piece: Any) -> Any:
    """Stream logprobs joined: list values (``content``, legacy ``tokens``/``token_logprobs``...) appended."""
    if piece is None:
        return kept
    if kept is None:
        if isinstance(piece, Mapping):  # a copy: later pieces are appended to its lists
            return {k: list(v) if isinstance(v, list) else v for k, v in piece.items()}
        return piece
    if isinstance(kept, dict) and isinstance(piece, Mapping):
        for key, value in piece.items():
            if isinstance(value, list) and isinstance(kept.get(key), list):
                kept[key].extend(value)
            elif value is not None:
                kept[key] = value
        return kept
    if isinstance(kept, list) and isinstance(piece, list):
        return kept + piece
    return piece
