"""Token counting with the model's own tokenizer, without transformers; an estimate when it cannot be had.

The tokenizer is the repo's ``tokenizer.json`` read by the ``tokenizers`` package (``pip install
'langchain-hfserverless[tokenizers]'``), fetched through huggingface_hub's cache (``HF_HUB_OFFLINE`` respected) and
kept per model for the process. Chat messages are laid out as the model's chat template would lay them out, for
the template families recognised by their special tokens; anything else counts as an estimate.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, get_buffer_string
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field, PrivateAttr, field_validator

from langchain_hfserverless._transport import split_model

_HUB_TOKENIZERS: dict[str, Any] = {}
_HUB_LOCK = threading.Lock()
_INSTALL = "pip install 'langchain-hfserverless[tokenizers]'"


class TokenizerUnavailable(Exception):
    """The model's tokenizer cannot be had; the message says why."""


def load_tokenizer(source: Any, repo: str | None, token: str | None) -> Any:
    """A ``tokenizers.Tokenizer`` from ``source`` (a Tokenizer, a tokenizer.json path or folder, a Hub repo id),
    else from the Hub ``repo``'s ``tokenizer.json``.

    Raises:
        TokenizerUnavailable: ``tokenizers`` is not installed, there is no repo, or the file cannot be fetched.
    """
    if source is not None and not isinstance(source, (str, os.PathLike)):
        return source
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise TokenizerUnavailable(f"the tokenizers package is not installed ({_INSTALL})") from None
    if source is not None:
        path = Path(source)
        if path.is_dir():
            path = path / "tokenizer.json"
        if path.is_file():
            return Tokenizer.from_file(str(path))
        repo = str(source)
    if not repo:
        raise TokenizerUnavailable("a base_url model has no Hub repo to read a tokenizer from")
    with _HUB_LOCK:
        cached = _HUB_TOKENIZERS.get(repo)
    if cached is not None:
        return cached
    from huggingface_hub import constants, hf_hub_download

    try:
        file = hf_hub_download(repo, "tokenizer.json", token=token, local_files_only=bool(constants.HF_HUB_OFFLINE))
        tokenizer = Tokenizer.from_file(file)
    except Exception as exc:  # offline, gated, no tokenizer.json, unreachable: all mean "estimate instead"
        raise TokenizerUnavailable(f"{repo}'s tokenizer.json could not be read ({type(exc).__name__})") from None
    with _HUB_LOCK:
        return _HUB_TOKENIZERS.setdefault(repo, tokenizer)


# ---------------------------------------------------------------------------------------------- chat layout


@dataclass(frozen=True)
class ChatLayout:
    """How a chat template family lays messages out, as text whose special tokens the tokenizer knows."""

    marker: str
    """A special token only this family has: its presence in the vocabulary selects the layout."""
    begin: str
    message: str
    """One message, with ``{role}`` and ``{content}``."""
    reply: str
    """The generation prompt the answer follows."""


LAYOUTS = (
    # ChatML: Qwen, SmolLM, Hermes, Phi-3.5-MoE... (Qwen's default system prompt, when none is given, is not added).
    ChatLayout("<|im_start|>", "", "<|im_start|>{role}\n{content}<|im_end|>\n", "<|im_start|>assistant\n"),
    # Llama 3.x (the template's own "Cutting Knowledge Date" system header is not added).
    ChatLayout(
        "<|start_header_id|>",
        "<|begin_of_text|>",
        "<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>",
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
)
GENERIC_MESSAGE_OVERHEAD = 3
"""Tokens per message for unknown templates: a start marker, the role, an end marker."""

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}


def _role(message: BaseMessage) -> str:
    return getattr(message, "role", None) or _ROLES.get(message.type, message.type)


def _content(message: BaseMessage) -> str:
    """The text the template would render: text content, then tool calls as JSON (images are not counted)."""
    text = str(message.text)
    if isinstance(message, AIMessage) and message.tool_calls:
        calls = [{"name": c["name"], "arguments": c["args"]} for c in message.tool_calls]
        text += json.dumps(calls, ensure_ascii=False)
    return text


def layout_of(tokenizer: Any) -> ChatLayout | None:
    return next((layout for layout in LAYOUTS if tokenizer.token_to_id(layout.marker) is not None), None)


def count_chat_tokens(tokenizer: Any, messages: Sequence[BaseMessage], tools: Sequence[Any] | None = None) -> int:
    """Tokens of ``messages`` (and ``tools``) as the prompt the model reads, generation prompt included.

    Exact for text messages under a ChatML or Llama 3 template (the tokenizer encodes the same text the template
    renders), except where the template adds text of its own (default system prompts, dates). Other templates:
    the encoded ``role`` and content plus ``GENERIC_MESSAGE_OVERHEAD`` per message. Tool schemas and tool calls
    count as their JSON, which templates render in their own words: close, not exact.
    """
    extra = 0
    if tools:
        schemas = json.dumps([convert_to_openai_tool(tool) for tool in tools], ensure_ascii=False)
        extra = len(tokenizer.encode(schemas, add_special_tokens=False).ids)
    layout = layout_of(tokenizer)
    if layout is None:
        total = extra + GENERIC_MESSAGE_OVERHEAD  # the reply's own role marker
        for message in messages:
            text = f"{_role(message)}\n{_content(message)}"
            total += len(tokenizer.encode(text, add_special_tokens=False).ids) + GENERIC_MESSAGE_OVERHEAD
        return total
    rendered = layout.begin
    rendered += "".join(layout.message.format(role=_role(m), content=_content(m)) for m in messages)
    rendered += layout.reply
    return extra + len(tokenizer.encode(rendered, add_special_tokens=False).ids)


# ---------------------------------------------------------------------------------------------- the mixin


class TokenCounting(BaseModel):
    """``get_token_ids`` / ``get_num_tokens`` / ``get_num_tokens_from_messages`` on the model's own tokenizer."""

    tokenizer: Any = Field(default=None, exclude=True)
    """For token counting: a ``tokenizers.Tokenizer``, a path to a ``tokenizer.json`` (or its folder), or a Hub
    repo id. Default: the model's repo (none for a ``base_url``). Without one, counts are estimates."""

    _tokenizer_state: Any = PrivateAttr(default=None)
    _estimate_warned: bool = PrivateAttr(default=False)

    @field_validator("tokenizer")
    @classmethod
    def _check_tokenizer(cls, value: Any) -> Any:
        if value is None or (hasattr(value, "encode") and hasattr(value, "token_to_id")):
            return value
        if isinstance(value, (str, os.PathLike)):
            text = os.fspath(value)
            if (isinstance(value, os.PathLike) or text.endswith(".json")) and not Path(text).exists():
                raise ValueError(f"tokenizer={text!r}: no such file.")
            return value
        raise ValueError(
            f"tokenizer must be a tokenizers.Tokenizer, a path to a tokenizer.json or a Hub repo id, "
            f"not {type(value).__name__}."
        )

    def _tokenizer_source(self) -> tuple[str | None, str | None]:
        """The Hub repo the model's tokenizer comes from, and the token to fetch it with (never a base_url's)."""
        if getattr(self, "base_url", None):
            return None, None
        model = getattr(self, "model", None)
        api_key = getattr(self, "api_key", None)
        return (split_model(model)[0] if model else None), (api_key.get_secret_value() if api_key else None)

    def _model_tokenizer(self) -> Any:
        """The tokenizer, or ``None`` (warned once per instance) when counts must be estimates."""
        if self._tokenizer_state is None:
            repo, token = self._tokenizer_source()
            try:
                self._tokenizer_state = load_tokenizer(self.tokenizer, repo, token)
            except TokenizerUnavailable as exc:
                self._tokenizer_state = exc
        if isinstance(self._tokenizer_state, TokenizerUnavailable):
            if not self._estimate_warned:
                self._estimate_warned = True
                warnings.warn(
                    f"Token counts for {type(self).__name__} are estimates (about 4 characters a token): "
                    f"{self._tokenizer_state}. Pass tokenizer= (a tokenizers.Tokenizer, a tokenizer.json path or a "
                    "Hub repo id) for exact counts.",
                    UserWarning,
                    stacklevel=3,
                )
            return None
        return self._tokenizer_state

    def get_token_ids(self, text: str) -> list[int]:
        """The model tokenizer's ids for ``text`` (special tokens added as ``Tokenizer.encode`` adds them).

        Raises:
            ValueError: no tokenizer can be had (``get_num_tokens`` still gives an estimate then).
        """
        custom = getattr(self, "custom_get_token_ids", None)
        if custom is not None:
            return custom(text)
        tokenizer = self._model_tokenizer()
        if tokenizer is None:
            raise ValueError(
                f"Token ids need the model's tokenizer: {self._tokenizer_state}. get_num_tokens gives an estimate."
            )
        return list(tokenizer.encode(text).ids)

    def get_num_tokens(self, text: str) -> int:
        """Tokens in ``text``: exact with the model's tokenizer, else an estimate (one warning per instance)."""
        if getattr(self, "custom_get_token_ids", None) is not None:
            return len(self.get_token_ids(text))
        tokenizer = self._model_tokenizer()
        if tokenizer is None:
            return count_tokens_approximately([HumanMessage(text)], extra_tokens_per_message=0)
        return len(tokenizer.encode(text).ids)

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Sequence[Any] | None = None) -> int:
        """Tokens of a conversation as the model reads it (see :func:`count_chat_tokens` for how exact).

        Without a tokenizer: langchain-core's ``count_tokens_approximately`` (one warning per instance).
        """
        if getattr(self, "custom_get_token_ids", None) is not None:
            return sum(self.get_num_tokens(get_buffer_string([m])) for m in messages)
        tokenizer = self._model_tokenizer()
        if tokenizer is None:
            return count_tokens_approximately(messages, tools=list(tools) if tools else None)
        return count_chat_tokens(tokenizer, messages, tools)
