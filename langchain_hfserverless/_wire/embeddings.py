"""Feature-extraction requests and answers, pure: request bodies per dialect, and every output shape -> vectors.

Two dialects exist on the router: the Hugging Face one (``{"inputs": [...], "normalize", "truncate",
"truncation_direction", "prompt_name"}``, hf-inference and TEI) and OpenAI ``/v1/embeddings`` (``{"input": [...],
"model"}`` -> ``{"data": [{"embedding", "index"}]}``) that some providers speak. Answers come as ``[dim]`` for one
text, ``[n][dim]`` for a batch (sentence-transformers), or token-level ``[tokens][hidden]`` per text, wrapped as
``[1][tokens][hidden]`` (plain transformers; a batch adds a dimension): those are pooled here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import urlsplit

HF: Final = "hf"
OPENAI: Final = "openai"
Dialect = Literal["hf", "openai"]
Pooling = Literal["mean", "cls", "none"]

_HF_ONLY_OPTIONS = ("truncate", "truncation_direction", "prompt_name")


class EmbeddingShapeError(ValueError):
    """The answer is not a list of vectors of the expected count and shape."""


class TokenLevelError(EmbeddingShapeError):
    """Token-level output arrived and ``pooling="none"`` forbids reducing it."""


class DimensionsError(ValueError):
    """``dimensions`` asks for more than the model returns."""


class UnsupportedOptionError(ValueError):
    """An option the chosen dialect has no way to express."""


def dialect_of(url: str, payload: Mapping[str, Any] | None) -> Dialect:
    """OpenAI when the prepared body says ``input`` (provider helpers) or the URL is an ``…/embeddings`` route."""
    if payload and "input" in payload and "inputs" not in payload:
        return OPENAI
    if urlsplit(url).path.rstrip("/").endswith("/embeddings"):
        return OPENAI
    return HF


def body_template(payload: Mapping[str, Any] | None, dialect: Dialect, model: str | None) -> tuple[dict[str, Any], str]:
    """The prepared body without its inputs, and the key the inputs go under (``inputs`` or ``input``)."""
    template = {k: v for k, v in (payload or {}).items() if k not in ("input", "inputs")}
    if dialect == OPENAI:
        if "model" not in template and model:
            template["model"] = model
        return template, "input"
    return template, "inputs"


def request_options(
    dialect: Dialect,
    *,
    normalize: bool | None,
    truncate: bool | None,
    truncation_direction: str | None,
    prompt_name: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Body keys for one call: the Hugging Face options that were set, then ``extra`` as given.

    OpenAI ``/v1/embeddings`` has no ``truncate``, ``truncation_direction`` or ``prompt_name``: asking for them
    there raises :class:`UnsupportedOptionError`. ``normalize`` is never sent to it (it is applied client-side).
    """
    values = {
        "normalize": normalize,
        "truncate": truncate,
        "truncation_direction": truncation_direction,
        "prompt_name": prompt_name,
    }
    if dialect == OPENAI:
        unsupported = [name for name in _HF_ONLY_OPTIONS if values[name] is not None]
        if unsupported:
            raise UnsupportedOptionError(", ".join(unsupported))
        options: dict[str, Any] = {}
    else:
        options = {k: v for k, v in values.items() if v is not None}
    options.update(extra or {})
    return options


def batch_body(template: Mapping[str, Any], key: str, inputs: str | list[str], options: Mapping[str, Any]) -> dict:
    body: dict[str, Any] = {key: inputs}
    body.update(template)
    body.update(options)
    return body


# ---------------------------------------------------------------------------------------------- answers


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list):
        if not value:
            raise EmbeddingShapeError("an empty list where a vector was expected")
        value = value[0]
        depth += 1
    return depth


def _floats(vector: list[Any]) -> list[float]:
    """Check a vector holds finite numbers (one ``sum``, at C speed); JSON integers at its ends become floats.

    Servers write floats throughout; converting every value would cost more than the HTTP round trip saves.
    """
    try:
        total = sum(vector)
    except TypeError:
        bad = next(x for x in vector if not isinstance(x, (int, float)))
        raise EmbeddingShapeError(f"a vector holds {str(bad)[:50]}, not a number") from None
    if not math.isfinite(total):
        raise EmbeddingShapeError("a vector holds NaN or infinite values")
    if type(vector[0]) is float and type(vector[-1]) is float:
        return vector
    return [float(x) for x in vector]


def pool(tokens: list[list[Any]], pooling: Pooling) -> list[float]:
    """Token vectors ``[tokens][hidden]`` -> one vector: the mean over tokens, or the first (CLS) token."""
    if pooling == "none":
        raise TokenLevelError(f"token-level embeddings ({len(tokens)} tokens x {len(tokens[0])} hidden)")
    width = len(tokens[0])
    if any(len(row) != width for row in tokens):
        raise EmbeddingShapeError("token vectors of different lengths in one text")
    if pooling == "cls":
        return _floats(tokens[0])
    if pooling != "mean":
        raise ValueError(f"unknown pooling {pooling!r}: use 'mean', 'cls' or 'none'")
    count = len(tokens)
    try:
        return [sum(column) / count for column in zip(*tokens, strict=True)]
    except TypeError:
        raise EmbeddingShapeError("a token vector holds something that is not a number") from None


def _sentence_vector(item: Any, pooling: Pooling) -> list[float]:
    """One text's answer (``[dim]``, ``[1][dim]``, ``[tokens][hidden]`` or ``[1][tokens][hidden]``) -> ``[dim]``."""
    depth = _depth(item)
    if depth == 3 and len(item) == 1:
        item, depth = item[0], 2
    if depth == 1:
        return _floats(item)
    if depth == 2:
        return _floats(item[0]) if len(item) == 1 else pool(item, pooling)
    raise EmbeddingShapeError(f"a {depth}-dimensional answer for one text")


def _openai_vectors(data: Mapping[str, Any]) -> list[Any]:
    items = data.get("data")
    if not isinstance(items, list):
        raise EmbeddingShapeError(f"an object without a 'data' list (keys {sorted(data)[:10]})")
    if all(isinstance(i, Mapping) and isinstance(i.get("index"), int) for i in items):
        items = sorted(items, key=lambda i: i["index"])
    vectors = []
    for item in items:
        vector = item.get("embedding") if isinstance(item, Mapping) else None
        if isinstance(vector, str):
            raise EmbeddingShapeError("base64-encoded embeddings: do not set encoding_format='base64'")
        if not isinstance(vector, list):
            raise EmbeddingShapeError("a data[] item without an 'embedding' list")
        vectors.append(vector)
    return vectors


def vectors_from_wire(data: Any, count: int | None, pooling: Pooling = "mean") -> list[list[float]]:
    """An answer -> one float vector per text, in input order.

    Args:
        data: the parsed answer, of any shape the router returns.
        count: the number of texts sent as a list, or ``None`` when one text was sent as a bare string.
        pooling: how token-level output is reduced: ``"mean"``, ``"cls"``, or ``"none"`` (raise).

    Raises:
        EmbeddingShapeError: wrong count or shape (``TokenLevelError`` for token-level output with ``"none"``).
    """
    if isinstance(data, Mapping):
        vectors = data["embeddings"] if "data" not in data and "embeddings" in data else _openai_vectors(data)
        if not isinstance(vectors, list) or len(vectors) != (count or 1):
            got = len(vectors) if isinstance(vectors, list) else type(vectors).__name__
            raise EmbeddingShapeError(f"{got} vectors for {count or 1} texts")
        return [_sentence_vector(item, pooling) for item in vectors]
    if not isinstance(data, list):
        raise EmbeddingShapeError(f"{type(data).__name__} instead of a list of vectors")
    if count is None:
        return [_sentence_vector(data, pooling)]
    if len(data) != count:
        raise EmbeddingShapeError(f"{len(data)} vectors for {count} texts")
    return [_sentence_vector(item, pooling) for item in data]


def l2_normalize(vector: list[float]) -> list[float]:
    """Unit length; a vector already of unit length (or all zeros) comes back as it is."""
    norm = math.hypot(*vector)
    if norm == 0.0 or abs(norm - 1.0) < 1e-9:
        return vector
    return [x / norm for x in vector]


def fit_dimensions(vectors: list[list[float]], dimensions: int | None, normalize: bool) -> list[list[float]]:
    """Matryoshka truncation to ``dimensions`` (then renormalised), and L2 normalisation when asked.

    Raises:
        DimensionsError: the vectors are shorter than ``dimensions``.
    """
    if dimensions is not None and vectors and len(vectors[0]) < dimensions:
        raise DimensionsError(f"the model returns {len(vectors[0])} dimensions; dimensions={dimensions} asks for more")
    if dimensions is not None and vectors and len(vectors[0]) > dimensions:
        return [l2_normalize(v[:dimensions]) for v in vectors]
    if normalize:
        return [l2_normalize(v) for v in vectors]
    return vectors


def check_width(vectors: list[list[float]], expected: int | None) -> int:
    """Every vector as long as ``expected`` (or as the first one); returns the width."""
    width = expected if expected is not None else len(vectors[0])
    for position, vector in enumerate(vectors):
        if len(vector) != width:
            raise EmbeddingShapeError(f"vector {position} has {len(vector)} dimensions, the others {width}")
    return width
