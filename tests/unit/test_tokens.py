"""Token counting without transformers: the model's tokenizer.json through ``tokenizers``, or an estimate.

Every tokenizer here is a tiny BPE trained in the test and saved to tmp_path; the Hub is never asked (the "Hub"
case reads a file laid out in a temporary huggingface_hub cache, offline).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import constants
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, trim_messages
from langchain_core.messages.utils import count_tokens_approximately

from langchain_hfserverless import ChatHFServerless, HFServerlessLLM
from tests.loopback import LoopbackServer

tokenizers = pytest.importorskip("tokenizers")

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "hello world, hello tokens, hello counting",
    "user assistant system tool messages are counted",
] * 20
TEXT = "hello quick brown world"
CHATML = ["<|im_start|>", "<|im_end|>"]


def train(special: list[str]) -> Any:
    tokenizer = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=120, special_tokens=["[UNK]", *special])
    tokenizer.train_from_iterator(CORPUS, trainer)
    return tokenizer


@pytest.fixture
def tokenizer_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokenizer.json"
    train(CHATML).save(str(path))
    return path


@pytest.fixture
def offline_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty huggingface_hub cache, offline: hf_hub_download may only read what is laid out in it."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


def put_in_cache(cache: Path, repo: str, tokenizer: Any) -> Path:
    folder = cache / f"models--{repo.replace('/', '--')}"
    commit = "0" * 40
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    tokenizer.save(str(snapshot / "tokenizer.json"))
    return snapshot / "tokenizer.json"


MESSAGES = [SystemMessage("be brief"), HumanMessage("hello world"), AIMessage("hello tokens")]


def chatml(messages: list[Any]) -> str:
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    turns = "".join(f"<|im_start|>{roles[m.type]}\n{m.content}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"


# ---------------------------------------------------------------------------------------------- with a tokenizer


@pytest.mark.parametrize("factory", [ChatHFServerless, HFServerlessLLM])
def test_counts_match_the_tokenizer_from_a_path(factory: Any, tokenizer_file: Path, server: LoopbackServer) -> None:
    model = factory(base_url=server.url, tokenizer=str(tokenizer_file))
    expected = tokenizers.Tokenizer.from_file(str(tokenizer_file)).encode(TEXT).ids
    assert model.get_token_ids(TEXT) == expected
    assert model.get_num_tokens(TEXT) == len(expected)
    assert server.requests == []


def test_tokenizer_object_and_folder_are_accepted(tokenizer_file: Path) -> None:
    tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
    expected = tokenizer.encode(TEXT).ids
    assert ChatHFServerless(base_url="http://127.0.0.1:9", tokenizer=tokenizer).get_token_ids(TEXT) == expected
    assert (
        ChatHFServerless(base_url="http://127.0.0.1:9", tokenizer=tokenizer_file.parent).get_token_ids(TEXT) == expected
    )


def test_chatml_messages_count_as_the_template_renders_them(tokenizer_file: Path) -> None:
    chat = ChatHFServerless(base_url="http://127.0.0.1:9", tokenizer=str(tokenizer_file))
    tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
    expected = len(tokenizer.encode(chatml(MESSAGES), add_special_tokens=False).ids)
    assert chat.get_num_tokens_from_messages(MESSAGES) == expected
    assert expected > sum(chat.get_num_tokens(m.text) for m in MESSAGES)  # role markers are counted


def test_unknown_template_adds_a_per_message_overhead(tmp_path: Path) -> None:
    path = tmp_path / "plain.json"
    train([]).save(str(path))
    chat = ChatHFServerless(base_url="http://127.0.0.1:9", tokenizer=str(path))
    one = chat.get_num_tokens_from_messages(MESSAGES[:1])
    two = chat.get_num_tokens_from_messages(MESSAGES[:2])
    assert two - one == chat.get_num_tokens_from_messages(MESSAGES[1:2]) - chat.get_num_tokens_from_messages([])
    assert two - one > len(tokenizers.Tokenizer.from_file(str(path)).encode("hello world").ids)


def test_tools_are_counted(tokenizer_file: Path) -> None:
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return city

    chat = ChatHFServerless(base_url="http://127.0.0.1:9", tokenizer=str(tokenizer_file))
    assert chat.get_num_tokens_from_messages(MESSAGES, tools=[get_weather]) > chat.get_num_tokens_from_messages(
        MESSAGES
    )


def test_hub_model_reads_tokenizer_json_from_the_cache_offline(offline_hub: Path) -> None:
    file = put_in_cache(offline_hub, "org/tiny", train(CHATML))
    chat = ChatHFServerless(model="org/tiny:together")
    expected = tokenizers.Tokenizer.from_file(str(file)).encode(TEXT).ids
    assert chat.get_token_ids(TEXT) == expected
    file.unlink()  # kept per model: a second instance does not read it again
    assert ChatHFServerless(model="org/tiny").get_token_ids(TEXT) == expected
    assert HFServerlessLLM(model="org/tiny").get_num_tokens(TEXT) == len(expected)


def test_trim_messages_with_the_model_as_counter(tokenizer_file: Path) -> None:
    chat = ChatHFServerless(base_url="http://127.0.0.1:9", tokenizer=str(tokenizer_file))
    history = [HumanMessage("hello world " * 5), AIMessage("hello tokens " * 5), HumanMessage("the lazy dog")]
    budget = chat.get_num_tokens_from_messages(history[1:])
    kept = trim_messages(history, max_tokens=budget, token_counter=chat, strategy="last")
    assert kept == history[1:]


def test_llm_counts_messages_as_its_prompt(tokenizer_file: Path) -> None:
    llm = HFServerlessLLM(base_url="http://127.0.0.1:9", tokenizer=str(tokenizer_file))
    assert llm.get_num_tokens_from_messages(MESSAGES) == llm.get_num_tokens(
        "System: be brief\nHuman: hello world\nAI: hello tokens"
    )
    assert trim_messages(MESSAGES, max_tokens=10_000, token_counter=llm) == MESSAGES


# ---------------------------------------------------------------------------------------------- estimates


def without_tokenizers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tokenizers", None)


@pytest.mark.parametrize("factory", [ChatHFServerless, HFServerlessLLM])
def test_without_tokenizers_counts_are_estimates_with_one_warning(
    factory: Any, monkeypatch: pytest.MonkeyPatch, offline_hub: Path, recwarn: pytest.WarningsRecorder
) -> None:
    without_tokenizers(monkeypatch)
    put_in_cache(offline_hub, "org/tiny", train(CHATML))  # there, but unreadable without the package
    model = factory(model="org/tiny")
    assert model.get_num_tokens(TEXT) == count_tokens_approximately([HumanMessage(TEXT)], extra_tokens_per_message=0)
    count = model.get_num_tokens_from_messages(MESSAGES)
    assert isinstance(count, int) and count > 0
    assert trim_messages(MESSAGES, max_tokens=10_000, token_counter=model) == MESSAGES
    warned = [w for w in recwarn if "estimates" in str(w.message)]
    assert len(warned) == 1
    assert "langchain-hfserverless[tokenizers]" in str(warned[0].message)


def test_chat_estimate_is_langchain_cores_counter(server: LoopbackServer) -> None:
    chat = ChatHFServerless(base_url=server.url)
    with pytest.warns(UserWarning, match="no Hub repo"):
        assert chat.get_num_tokens_from_messages(MESSAGES) == count_tokens_approximately(MESSAGES)
    assert server.requests == []  # a base_url model is never asked for a tokenizer


def test_hub_model_missing_from_the_offline_cache_is_estimated(offline_hub: Path) -> None:
    chat = ChatHFServerless(model="org/absent")
    with pytest.warns(UserWarning, match=r"org/absent.s tokenizer\.json could not be read"):
        assert chat.get_num_tokens(TEXT) > 0


def test_token_ids_without_a_tokenizer_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    without_tokenizers(monkeypatch)
    chat = ChatHFServerless(base_url="http://127.0.0.1:9")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="tokenizers package is not installed"):
        chat.get_token_ids(TEXT)


def test_custom_get_token_ids_still_wins() -> None:
    chat = ChatHFServerless(base_url="http://127.0.0.1:9", custom_get_token_ids=lambda text: [1] * len(text))
    assert chat.get_num_tokens("abc") == 3


def test_a_missing_tokenizer_file_is_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        ChatHFServerless(base_url="http://127.0.0.1:9", tokenizer=str(tmp_path / "nope.json"))
    with pytest.raises(ValueError, match=r"tokenizers\.Tokenizer"):
        ChatHFServerless(base_url="http://127.0.0.1:9", tokenizer=42)
