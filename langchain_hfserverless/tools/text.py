"""Text tools: translation, summarization, classification (fixed and zero-shot), entities, QA, similarity,
fill-mask."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import ToolException
from pydantic import BaseModel, Field

from langchain_hfserverless.tools._answers import (
    answers_answer,
    entities_answer,
    fill_mask_answer,
    labels_answer,
    similarity_answer,
    text_answer,
)
from langchain_hfserverless.tools._base import HFServerlessTaskTool, Plan


class TranslationInput(BaseModel):
    text: str = Field(min_length=1, description="The text to translate.")
    src_lang: str | None = Field(
        default=None,
        description="Source language code in the model's convention (mBART-50: en_XX, fr_XX, de_DE, es_XX, it_IT, "
        "pt_XX, zh_CN, ja_XX, ru_RU, ar_AR, hi_IN...). Optional for single-pair models.",
    )
    tgt_lang: str | None = Field(
        default=None, description="Target language code, same convention as src_lang (e.g. fr_XX)."
    )


class TranslationTool(HFServerlessTaskTool):
    """Translate text (Hub task ``translation``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TranslationTool

            print(TranslationTool().invoke({"text": "Good morning", "src_lang": "en_XX", "tgt_lang": "de_DE"}))
    """

    name: str = "translate_text"
    task = "translation"
    default_model = "facebook/mbart-large-50-many-to-many-mmt"
    summary = (
        "Translate a text from one language to another with a dedicated translation model ({model}). Give "
        "src_lang and tgt_lang codes in the model's convention (mBART-50 style: en_XX, fr_XX, de_DE, es_XX)."
    )
    args_schema: type[BaseModel] = TranslationInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = TranslationInput(**kwargs)
        parameters = self._parameters(src_lang=args.src_lang, tgt_lang=args.tgt_lang)
        return self._read_json(args.text, parameters, lambda p: text_answer(p, "translation_text"))


class SummarizationInput(BaseModel):
    text: str = Field(min_length=1, description="The long text (article, report, transcript) to summarise.")


class SummarizationTool(HFServerlessTaskTool):
    """Summarise a long text (Hub task ``summarization``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import SummarizationTool

            print(SummarizationTool().invoke({"text": open("article.txt").read()}))
    """

    name: str = "summarize_text"
    task = "summarization"
    default_model = "facebook/bart-large-cnn"
    summary = (
        "Condense a long text into a short summary with a dedicated summarisation model ({model}). Use it for "
        "articles, reports or transcripts too long to read in full."
    )
    args_schema: type[BaseModel] = SummarizationInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = SummarizationInput(**kwargs)
        return self._read_json(args.text, self._parameters(), lambda p: text_answer(p, "summary_text"))


class ZeroShotInput(BaseModel):
    text: str = Field(min_length=1, description="The text to classify.")
    candidate_labels: list[str] = Field(
        min_length=1, description="The labels to choose from, e.g. ['billing', 'bug report', 'feature request']."
    )
    multi_label: bool | None = Field(
        default=None, description="True if several labels may apply at once (scores then don't sum to 1)."
    )


class ZeroShotClassificationTool(HFServerlessTaskTool):
    """Classify text into labels you choose at call time (Hub task ``zero-shot-classification``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import ZeroShotClassificationTool

            tool = ZeroShotClassificationTool()
            print(tool.invoke({"text": "My card was charged twice", "candidate_labels": ["billing", "bug"]}))
    """

    name: str = "classify_text_with_labels"
    task = "zero-shot-classification"
    default_model = "facebook/bart-large-mnli"
    summary = (
        "Score how well a text fits each of the candidate labels you provide (zero-shot classification, model "
        "{model}). Use it to route, tag or triage text into categories of your choosing."
    )
    args_schema: type[BaseModel] = ZeroShotInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = ZeroShotInput(**kwargs)
        parameters = self._parameters(candidate_labels=args.candidate_labels, multi_label=args.multi_label)
        return self._read_json(args.text, parameters, labels_answer)


class TextInput(BaseModel):
    text: str = Field(min_length=1, description="The text to analyse.")


class TextClassificationTool(HFServerlessTaskTool):
    """Classify text with a fine-tuned classifier's own labels (Hub task ``text-classification``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TextClassificationTool

            print(TextClassificationTool().invoke({"text": "I love this phone"}))
    """

    name: str = "classify_text"
    task = "text-classification"
    default_model = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
    summary = (
        "Classify a text with the fixed labels of model {model} (the default model detects sentiment: "
        "POSITIVE / NEGATIVE), with a confidence score per label."
    )
    args_schema: type[BaseModel] = TextInput

    def _plan(self, **kwargs: Any) -> Plan:
        return self._read_json(TextInput(**kwargs).text, self._parameters(), labels_answer)


class TokenClassificationTool(HFServerlessTaskTool):
    """Extract named entities from text (Hub task ``token-classification``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TokenClassificationTool

            print(TokenClassificationTool().invoke({"text": "Ada Lovelace was born in London."}))
    """

    name: str = "extract_entities"
    task = "token-classification"
    default_model = "dslim/bert-base-NER"
    summary = (
        "Find the named entities in a text — people (PER), organisations (ORG), locations (LOC), misc (MISC) — "
        "with their character offsets (named-entity recognition, model {model})."
    )
    args_schema: type[BaseModel] = TextInput

    def _plan(self, **kwargs: Any) -> Plan:
        return self._read_json(TextInput(**kwargs).text, self._parameters(), entities_answer)


class QuestionAnsweringInput(BaseModel):
    question: str = Field(min_length=1, description="The question to answer.")
    context: str = Field(min_length=1, description="The passage that contains the answer.")


class QuestionAnsweringTool(HFServerlessTaskTool):
    """Extract the answer to a question from a passage (Hub task ``question-answering``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import QuestionAnsweringTool

            tool = QuestionAnsweringTool()
            print(tool.invoke({"question": "Where is the Eiffel Tower?", "context": "The Eiffel Tower is in Paris."}))
    """

    name: str = "answer_from_context"
    task = "question-answering"
    default_model = "deepset/roberta-base-squad2"
    summary = (
        "Find the exact span of a given passage that answers a question (extractive question answering, model "
        "{model}). Use it to pull a fact out of a document; the answer is always quoted from the passage."
    )
    args_schema: type[BaseModel] = QuestionAnsweringInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = QuestionAnsweringInput(**kwargs)
        inputs = {"question": args.question, "context": args.context}
        return self._read_json(inputs, self._parameters(), answers_answer)


class SentenceSimilarityInput(BaseModel):
    source_sentence: str = Field(min_length=1, description="The reference sentence.")
    sentences: list[str] = Field(min_length=1, description="The sentences to compare with the reference.")


class SentenceSimilarityTool(HFServerlessTaskTool):
    """Score how close in meaning sentences are to a reference sentence (Hub task ``sentence-similarity``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import SentenceSimilarityTool

            tool = SentenceSimilarityTool()
            print(tool.invoke({"source_sentence": "I like cats", "sentences": ["Cats are great", "Taxes are due"]}))
    """

    name: str = "compare_sentences"
    task = "sentence-similarity"
    default_model = "sentence-transformers/all-MiniLM-L6-v2"
    summary = (
        "Score the semantic similarity (0-1) between a reference sentence and each of several other sentences "
        "(embedding model {model}). Use it to find the closest match, detect duplicates or rank candidates."
    )
    args_schema: type[BaseModel] = SentenceSimilarityInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = SentenceSimilarityInput(**kwargs)
        inputs = {"source_sentence": args.source_sentence, "sentences": args.sentences}
        return self._read_json(inputs, self._parameters(), lambda p: similarity_answer(p, args.sentences))


_MASKS = ("[MASK]", "<mask>")


class FillMaskInput(BaseModel):
    text: str = Field(
        min_length=1,
        description="A sentence with ONE missing word written as [MASK] (the model's mask token; RoBERTa-family "
        "models use <mask>), e.g. 'Paris is the [MASK] of France.'",
    )
    top_k: int | None = Field(default=None, ge=1, le=50, description="How many completions to return (optional).")
    targets: list[str] | None = Field(
        default=None, description="Only score these candidate words for the blank (optional), e.g. ['capital', 'city']."
    )


class FillMaskTool(HFServerlessTaskTool):
    """Predict the missing word of a sentence (Hub task ``fill-mask``).

    The artifact is the server's list of ``{"sequence", "score", "token", "token_str"}``, most likely first.
    Set ``mask_token`` to the model's own token when it is neither ``[MASK]`` nor ``<mask>``; then both of those
    in the text are rewritten to it, so an agent can always write ``[MASK]``.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import FillMaskTool

            print(FillMaskTool().invoke({"text": "Paris is the [MASK] of France."}))
    """

    name: str = "fill_in_the_blank"
    task = "fill-mask"
    default_model = "google-bert/bert-base-uncased"
    summary = (
        "Guess the missing word of a sentence written with a [MASK] blank, with a probability per candidate "
        "(masked language model {model}). Use it to complete, check or disambiguate a word in context."
    )
    args_schema: type[BaseModel] = FillMaskInput

    mask_token: str | None = None
    """The model's mask token, when the text may use another one (``[MASK]`` / ``<mask>`` are rewritten to it)."""

    def _plan(self, **kwargs: Any) -> Plan:
        args = FillMaskInput(**kwargs)
        text = args.text
        if self.mask_token:
            for mask in _MASKS:
                text = text.replace(mask, self.mask_token)
        if not any(mask in text for mask in (*_MASKS, self.mask_token or "[MASK]")):
            raise ToolException(
                f"The text has no blank to fill: write the missing word as {self.mask_token or '[MASK]'}, e.g. "
                "'Paris is the [MASK] of France.'"
            )
        parameters = self._parameters(top_k=args.top_k, targets=args.targets)
        return self._read_json(text, parameters, fill_mask_answer)
