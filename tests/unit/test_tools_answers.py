"""``tools/_answers.py``: pure readers of the JSON tasks' answers (labels, detections, entities, answers, text,
similarity). Generated media and jobs are read by ``tools/_jobs.py``: ``test_tools_jobs.py``."""

from __future__ import annotations

import pytest

from langchain_hfserverless.tools._answers import (
    answers_answer,
    detection_answer,
    entities_answer,
    labels_answer,
    similarity_answer,
    text_answer,
)
from langchain_hfserverless.tools._jobs import AnswerError

# ------------------------------------------------------------------------------------------- JSON task answers


def test_labels_from_batches_lists_and_legacy_zero_shot() -> None:
    nested = [[{"label": "POSITIVE", "score": 0.99987}, {"label": "NEGATIVE", "score": 0.00013}]]
    text, items = labels_answer(nested)
    assert text == "POSITIVE (0.9999); NEGATIVE (0.0001)"
    assert items == nested[0]
    legacy = {"sequence": "s", "labels": ["a", "b"], "scores": [0.7, 0.3]}
    assert labels_answer(legacy)[1] == [{"label": "a", "score": 0.7}, {"label": "b", "score": 0.3}]
    many = [{"label": str(i), "score": 0.1} for i in range(8)]
    assert labels_answer(many)[0].endswith("(+3 more)")
    assert labels_answer([]) == ("The model returned no labels.", [])
    with pytest.raises(AnswerError, match="labels and scores"):
        labels_answer({"labels": ["a"], "scores": []})
    with pytest.raises(AnswerError, match="'label'"):
        labels_answer([{"answer": "x"}])


def test_detections_entities_and_answers() -> None:
    boxes = [{"score": 0.9, "label": "cat", "box": {"xmin": 1, "ymin": 2, "xmax": 3, "ymax": 4}}]
    assert detection_answer(boxes) == ("1 object(s): cat (0.9000) at [1, 2, 3, 4]", boxes)
    assert detection_answer([])[0] == "No objects detected."
    entities = [
        {"entity_group": "PER", "word": " Ada", "score": 0.99},
        {"entity": "B-LOC", "word": "Paris", "score": 0.5},
    ]
    assert entities_answer(entities)[0] == "PER: Ada (0.9900); B-LOC: Paris (0.5000)"
    assert answers_answer({"answer": "42", "score": 0.5, "start": 0, "end": 2}) == (
        "42 (score 0.5000)",
        [{"answer": "42", "score": 0.5, "start": 0, "end": 2}],
    )
    text, _ = answers_answer([{"answer": "woman", "score": 0.9}, {"answer": "girl", "score": 0.3}])
    assert text == "woman (score 0.9000). Other candidates: girl (0.3000)"


def test_generated_text_and_similarity() -> None:
    assert text_answer([{"translation_text": " Hallo Welt "}], "translation_text") == (
        "Hallo Welt",
        {"translation_text": " Hallo Welt "},
    )
    assert text_answer({"summary_text": "s"}, "summary_text")[0] == "s"
    with pytest.raises(AnswerError, match="expected a 'generated_text' string, got keys"):
        text_answer([{"text": "x"}], "generated_text")
    with pytest.raises(AnswerError, match="no 'text' answers"):
        text_answer([], "text")
    text, scores = similarity_answer([0.5, 0.25], ["a", "b"])
    assert scores == [0.5, 0.25]
    assert text.splitlines()[1:] == ["0.5000  a", "0.2500  b"]
    with pytest.raises(AnswerError, match="got 1 scores for 2 sentences"):
        similarity_answer([0.5], ["a", "b"])
    with pytest.raises(AnswerError, match="expected a list of scores"):
        similarity_answer({"x": 1}, ["a"])
