"""``tools/text.py``: the NLP task tools end to end over loopback HTTP (bodies sent, answers read), then
langchain-tests' standard unit suite for each.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import ToolException

from langchain_hfserverless.tools import (
    FillMaskTool,
    QuestionAnsweringTool,
    SentenceSimilarityTool,
    SummarizationTool,
    TextClassificationTool,
    TokenClassificationTool,
    TranslationTool,
    ZeroShotClassificationTool,
)
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.tool_harness import StandardToolUnit, acall, call, header

# The shared fixtures this module uses.
_servers, server = tool_harness._servers, tool_harness.server


JSON_CASES = [
    (
        TextClassificationTool,
        {"text": "I like you"},
        [[{"label": "POSITIVE", "score": 0.9998}, {"label": "NEGATIVE", "score": 0.0002}]],
        {"inputs": "I like you"},
        "POSITIVE (0.9998); NEGATIVE (0.0002)",
        [{"label": "POSITIVE", "score": 0.9998}, {"label": "NEGATIVE", "score": 0.0002}],
    ),
    (
        ZeroShotClassificationTool,
        {"text": "t", "candidate_labels": ["a", "b"], "multi_label": True},
        [{"label": "b", "score": 0.8}, {"label": "a", "score": 0.1}],
        {"inputs": "t", "parameters": {"candidate_labels": ["a", "b"], "multi_label": True}},
        "b (0.8000); a (0.1000)",
        [{"label": "b", "score": 0.8}, {"label": "a", "score": 0.1}],
    ),
    (
        TranslationTool,
        {"text": "Hello world", "src_lang": "en_XX", "tgt_lang": "fr_XX"},
        [{"translation_text": "Bonjour le monde"}],
        {"inputs": "Hello world", "parameters": {"src_lang": "en_XX", "tgt_lang": "fr_XX"}},
        "Bonjour le monde",
        {"translation_text": "Bonjour le monde"},
    ),
    (
        SummarizationTool,
        {"text": "long text"},
        [{"summary_text": " short "}],
        {"inputs": "long text"},
        "short",
        {"summary_text": " short "},
    ),
    (
        TokenClassificationTool,
        {"text": "Ada in Paris"},
        [{"entity_group": "PER", "word": "Ada", "score": 0.99, "start": 0, "end": 3}],
        {"inputs": "Ada in Paris"},
        "PER: Ada (0.9900)",
        [{"entity_group": "PER", "word": "Ada", "score": 0.99, "start": 0, "end": 3}],
    ),
    (
        QuestionAnsweringTool,
        {"question": "Where?", "context": "In Paris."},
        {"answer": "Paris", "score": 0.9, "start": 3, "end": 8},
        {"inputs": {"question": "Where?", "context": "In Paris."}},
        "Paris (score 0.9000)",
        [{"answer": "Paris", "score": 0.9, "start": 3, "end": 8}],
    ),
    (
        SentenceSimilarityTool,
        {"source_sentence": "cats", "sentences": ["kittens", "tax"]},
        [0.8, 0.1],
        {"inputs": {"source_sentence": "cats", "sentences": ["kittens", "tax"]}},
        "0.8000  kittens",
        [0.8, 0.1],
    ),
]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("cls", "args", "answer", "body", "content", "artifact"), JSON_CASES, ids=[c[0].__name__ for c in JSON_CASES]
)
def test_json_tasks_send_exactly_their_inputs_and_read_the_answer(
    server: LoopbackServer,
    use_async: bool,
    cls: type,
    args: dict,
    answer: Any,
    body: dict,
    content: str,
    artifact: Any,
) -> None:
    server.reply(body=answer)
    tool = cls(base_url=f"{server.url}/models/m", api_key="hf_explicit")
    message = (acall if use_async else call)(tool, args)
    assert content in message.content
    assert message.artifact == artifact
    seen = server.requests[0]
    assert seen.path == "/models/m"
    assert seen.json() == body
    assert header(seen, "Authorization") == "Bearer hf_explicit"  # an explicit key goes to base_url


def test_fill_mask_sends_the_text_and_set_parameters_only(server: LoopbackServer) -> None:
    server.reply(
        body=[{"sequence": "paris is the capital of france.", "score": 0.9, "token": 1, "token_str": "capital"}]
    )
    server.reply(body=[{"sequence": "x", "score": 0.1, "token": 2, "token_str": "x"}])
    tool = FillMaskTool(base_url=server.url)
    message = call(tool, {"text": "Paris is the [MASK] of France."})
    assert server.requests[0].json() == {"inputs": "Paris is the [MASK] of France."}
    assert "0.9000  paris is the capital of france." in message.content
    assert message.artifact[0]["token_str"] == "capital"
    call(tool, {"text": "Paris is the [MASK] of France.", "top_k": 2, "targets": ["capital"]}, use_async=True)
    assert server.requests[1].json()["parameters"] == {"top_k": 2, "targets": ["capital"]}


def test_fill_mask_rewrites_masks_to_the_models_token_and_refuses_a_text_without_one(server: LoopbackServer) -> None:
    server.reply(body=[{"sequence": "a b", "score": 0.5}])
    call(FillMaskTool(base_url=server.url, mask_token="<mask>"), {"text": "a [MASK]"})
    assert server.requests[0].json() == {"inputs": "a <mask>"}
    with pytest.raises(ToolException, match=r"write the missing word as \[MASK\]"):
        call(FillMaskTool(base_url=server.url), {"text": "no blank here"})
    assert len(server.requests) == 1


# --------------------------------------------------------------------------------------------- standard suite


class TestTranslationToolUnit(StandardToolUnit):
    tool_class = TranslationTool
    example = {"text": "Hello world", "src_lang": "en_XX", "tgt_lang": "fr_XX"}


class TestSummarizationToolUnit(StandardToolUnit):
    tool_class = SummarizationTool
    example = {"text": "A long article about the Eiffel Tower."}


class TestZeroShotClassificationToolUnit(StandardToolUnit):
    tool_class = ZeroShotClassificationTool
    example = {"text": "My card was charged twice", "candidate_labels": ["billing", "bug"], "multi_label": False}


class TestTextClassificationToolUnit(StandardToolUnit):
    tool_class = TextClassificationTool
    example = {"text": "I love it"}


class TestTokenClassificationToolUnit(StandardToolUnit):
    tool_class = TokenClassificationTool
    example = {"text": "Ada Lovelace was born in London"}


class TestQuestionAnsweringToolUnit(StandardToolUnit):
    tool_class = QuestionAnsweringTool
    example = {"question": "Where?", "context": "In Paris."}


class TestSentenceSimilarityToolUnit(StandardToolUnit):
    tool_class = SentenceSimilarityTool
    example = {"source_sentence": "cats", "sentences": ["kittens", "taxes"]}


class TestFillMaskToolUnit(StandardToolUnit):
    tool_class = FillMaskTool
    example = {"text": "Paris is the [MASK] of France.", "top_k": 3}
