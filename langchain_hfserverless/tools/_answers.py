"""JSON answers of the NLP, vision and speech tasks -> (a short text for the model, the structured artifact).

Pure. Each reader accepts every shape the Inference API has used for its task (single-input batches wrapped in an
extra list, a dict where a list is usual, zero-shot's legacy ``{"labels", "scores"}``) and returns one normalised
artifact, so code reading ``ToolMessage.artifact`` sees the same structure whoever served the request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_hfserverless.tools._jobs import AnswerError

_SHOWN = 5  # labels / answers quoted to the model; the artifact keeps them all


def _unwrap(payload: Any) -> Any:
    """``[[a, b]]`` (a batch of one) -> ``[a, b]``."""
    while isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], list):
        payload = payload[0]
    return payload


def _items(payload: Any, what: str) -> list[dict[str, Any]]:
    payload = _unwrap(payload)
    if isinstance(payload, Mapping):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(item, Mapping) for item in payload):
        raise AnswerError(f"expected a list of {what}, got {_kind(payload)}")
    return [dict(item) for item in payload]


def _first(payload: Any, what: str) -> dict[str, Any]:
    items = _items(payload, what)
    if not items:
        raise AnswerError(f"the answer holds no {what}")
    return items[0]


def _kind(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:120]}"


def _score(value: Any) -> str:
    return f"{float(value):.4f}" if isinstance(value, (int, float)) else "?"


def _more(total: int) -> str:
    return f" (+{total - _SHOWN} more)" if total > _SHOWN else ""


def labels_answer(payload: Any) -> tuple[str, list[dict[str, Any]]]:
    """Classification (text, image, zero-shot): ``[{"label", "score"}]`` in the server's order."""
    if isinstance(payload, Mapping) and isinstance(payload.get("labels"), list):  # zero-shot, legacy shape
        scores = payload.get("scores") or []
        if len(scores) != len(payload["labels"]):
            raise AnswerError("zero-shot answer has different numbers of labels and scores")
        items = [{"label": label, "score": score} for label, score in zip(payload["labels"], scores, strict=True)]
    else:
        items = _items(payload, "labels")
        if any("label" not in item for item in items):
            raise AnswerError(f"expected items with a 'label', got {_kind(items[:1])}")
    if not items:
        return "The model returned no labels.", items
    shown = "; ".join(f"{item['label']} ({_score(item.get('score'))})" for item in items[:_SHOWN])
    return shown + _more(len(items)), items


def detection_answer(payload: Any) -> tuple[str, list[dict[str, Any]]]:
    """Object detection: ``[{"label", "score", "box": {"xmin", "ymin", "xmax", "ymax"}}]``."""
    items = _items(payload, "detections")
    if not items:
        return "No objects detected.", items
    parts = []
    for item in items[:_SHOWN]:
        box = item.get("box") or {}
        where = (
            f" at [{box.get('xmin')}, {box.get('ymin')}, {box.get('xmax')}, {box.get('ymax')}]"
            if isinstance(box, Mapping)
            else ""
        )
        parts.append(f"{item.get('label')} ({_score(item.get('score'))}){where}")
    return f"{len(items)} object(s): " + "; ".join(parts) + _more(len(items)), items


def entities_answer(payload: Any) -> tuple[str, list[dict[str, Any]]]:
    """Token classification: ``[{"entity_group" or "entity", "word", "score", "start", "end"}]``."""
    items = _items(payload, "entities")
    if not items:
        return "No entities found.", items
    parts = [
        f"{item.get('entity_group') or item.get('entity')}: {str(item.get('word', '')).strip()} "
        f"({_score(item.get('score'))})"
        for item in items
    ]
    return "; ".join(parts), items


def answers_answer(payload: Any) -> tuple[str, list[dict[str, Any]]]:
    """Question answering (extractive or visual): ``[{"answer", "score", ...}]``, best first."""
    items = _items(payload, "answers")
    if not items:
        return "The model found no answer.", items
    if any("answer" not in item for item in items):
        raise AnswerError(f"expected items with an 'answer', got {_kind(items[:1])}")
    best = items[0]
    text = f"{best['answer']}" + (f" (score {_score(best['score'])})" if "score" in best else "")
    if len(items) > 1:
        others = "; ".join(f"{i['answer']} ({_score(i.get('score'))})" for i in items[1:_SHOWN])
        text += f". Other candidates: {others}" + _more(len(items))
    return text, items


def text_answer(payload: Any, key: str) -> tuple[str, dict[str, Any]]:
    """Generated text under ``key`` (``generated_text``, ``translation_text``, ``summary_text``, ``text``)."""
    item = _first(payload, f"'{key}' answers")
    text = item.get(key)
    if not isinstance(text, str):
        raise AnswerError(f"expected a '{key}' string, got keys {sorted(item)}")
    return text.strip(), item


def similarity_answer(payload: Any, sentences: Sequence[str]) -> tuple[str, list[float]]:
    """Sentence similarity: one score per compared sentence, in order."""
    scores = _unwrap(payload)
    if not isinstance(scores, list) or not all(isinstance(s, (int, float)) for s in scores):
        raise AnswerError(f"expected a list of scores, got {_kind(scores)}")
    if len(scores) != len(sentences):
        raise AnswerError(f"got {len(scores)} scores for {len(sentences)} sentences")
    lines = [f"{_score(score)}  {sentence}" for score, sentence in zip(scores, sentences, strict=True)]
    return "Similarity to the source sentence (1 = same meaning):\n" + "\n".join(lines), [float(s) for s in scores]


def fill_mask_answer(payload: Any) -> tuple[str, list[dict[str, Any]]]:
    """Fill-mask: ``[{"sequence", "score", "token", "token_str"}]``, most likely first."""
    items = _items(payload, "completions")
    if not items:
        return "The model proposed no completion.", items
    if any(not isinstance(item.get("sequence"), str) for item in items):
        raise AnswerError(f"expected items with a 'sequence', got {_kind(items[:1])}")
    shown = "\n".join(f"{_score(item.get('score'))}  {item['sequence'].strip()}" for item in items[:_SHOWN])
    return "Most likely completions (score, sentence):\n" + shown + _more(len(items)), items


def table_answer(payload: Any) -> tuple[str, dict[str, Any]]:
    """Table question answering: ``{"answer", "coordinates", "cells", "aggregator"}``."""
    item = _first(payload, "table answers")
    if not isinstance(item.get("answer"), str):
        raise AnswerError(f"expected an 'answer' string, got keys {sorted(item)}")
    cells = item.get("cells")
    aggregator = item.get("aggregator")
    text = f"Answer: {item['answer']}"
    if isinstance(cells, list) and cells:
        text += f". Cells used: {', '.join(str(c) for c in cells[:20])}" + (" ..." if len(cells) > 20 else "")
    if isinstance(aggregator, str) and aggregator and aggregator.upper() != "NONE":
        text += f". Aggregation: {aggregator}"
    return text, item


def predictions_answer(payload: Any, rows: int) -> tuple[str, list[Any]]:
    """Tabular classification / regression: one prediction per input row, in order."""
    predictions = _unwrap(payload)
    if isinstance(predictions, Mapping) and isinstance(predictions.get("predictions"), list):
        predictions = predictions["predictions"]
    if not isinstance(predictions, list) or any(isinstance(p, (Mapping, list)) for p in predictions):
        raise AnswerError(f"expected a list of predictions, got {_kind(predictions)}")
    if len(predictions) != rows:
        raise AnswerError(f"got {len(predictions)} predictions for {rows} rows")
    lines = [f"row {i}: {p}" for i, p in enumerate(predictions[:50], start=1)]
    more = f"\n(+{rows - 50} more rows)" if rows > 50 else ""
    return "Predictions, one per row:\n" + "\n".join(lines) + more, predictions
