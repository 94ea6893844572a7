"""HFServerlessLLM against llama-server: OpenAI ``/v1/completions`` named by the URL, and learned on the root, its
``/v1`` and llama.cpp's own ``/completion``. The model's text is random: the tests assert structure."""

from __future__ import annotations

import pytest
from langchain_core.exceptions import ContextOverflowError, ModelAuthenticationError
from langchain_core.outputs import Generation

from langchain_hfserverless import HFServerlessLLM
from langchain_hfserverless.errors import HFServerlessContextOverflowError
from tests.real_servers.conftest import API_KEY, N_CTX, CountingProxy

pytestmark = pytest.mark.real_server

PROMPT = "Once upon a time"
FORMS = ["/v1/completions", "", "/v1", "/completion"]
FINISHED = ("length", "stop", "stop_sequence")


def llm_at(url: str, **kwargs: object) -> HFServerlessLLM:
    settings: dict[str, object] = {"api_key": API_KEY, "max_new_tokens": 6, "max_retries": 0, **kwargs}
    return HFServerlessLLM(base_url=url, **settings)  # type: ignore[arg-type]


def assert_usage(info: dict, completion_at_most: int) -> None:
    usage = info["usage"]
    assert usage["prompt_tokens"] > 0 and 0 < usage["completion_tokens"] <= completion_at_most
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize("form", FORMS)
def test_invoke_on_every_url_form(chat_url: str, form: str) -> None:
    generation = llm_at(chat_url + form, seed=1).generate([PROMPT]).generations[0][0]
    assert isinstance(generation, Generation) and generation.text
    info = generation.generation_info or {}
    assert info["finish_reason"] == "length"
    assert_usage(info, 6)


@pytest.mark.parametrize("form", FORMS)
def test_stream_on_every_url_form(chat_url: str, form: str) -> None:
    chunks = list(llm_at(chat_url + form, seed=1)._stream(PROMPT))
    assert "".join(c.text for c in chunks)
    info = chunks[-1].generation_info or {}
    assert info["finish_reason"] == "length"
    assert_usage(info, 6)


@pytest.mark.parametrize(("form", "first_try"), [("", "/"), ("/v1", None), ("/completion", "/completion")])
def test_the_form_is_learned_once(chat_proxy: CountingProxy, form: str, first_try: str | None) -> None:
    llm = llm_at(chat_proxy.url + form)
    llm.invoke(PROMPT)
    list(llm.stream(PROMPT))
    llm.invoke(PROMPT)
    answered = "/completion" if form == "/completion" else "/v1/completions"
    if first_try == answered:  # /completion: the TGI form once, then the prompt form on the same route
        assert chat_proxy.count(answered) == 4
    else:
        assert chat_proxy.count(answered) == 3
        if first_try:
            assert chat_proxy.count(first_try) == 1


async def test_async_invoke_and_stream(chat_url: str) -> None:
    llm = llm_at(chat_url, seed=2)
    text = await llm.ainvoke(PROMPT)
    streamed = "".join([chunk async for chunk in llm.astream(PROMPT)])
    assert text and text == streamed


def test_seed_makes_a_completion_repeatable(chat_url: str) -> None:
    llm = llm_at(f"{chat_url}/v1/completions", max_new_tokens=12, temperature=1.0)
    assert llm.invoke(PROMPT, seed=7) == llm.invoke(PROMPT, seed=7)
    assert llm.invoke(PROMPT, seed=7) == "".join(llm.stream(PROMPT, seed=7))


def test_stop_sequence_ends_the_text(chat_url: str) -> None:
    llm = llm_at(f"{chat_url}/v1/completions", max_new_tokens=40, seed=3)
    whole = llm.invoke(PROMPT)
    assert " " in whole  # the tiny model's tokens mostly start with a space
    stop = whole[whole.index(" ", 1) :][:2] if " " in whole[1:] else " "
    generation = llm.generate([PROMPT], stop=[stop]).generations[0][0]
    assert stop not in generation.text and whole.startswith(generation.text)
    assert (generation.generation_info or {})["finish_reason"] in ("stop", "stop_sequence")
    streamed = "".join(llm.stream(PROMPT, stop=[stop]))
    assert streamed == generation.text


def test_details_bring_logprobs(chat_url: str) -> None:
    generation = llm_at(f"{chat_url}/v1", details=True, max_new_tokens=3).generate([PROMPT]).generations[0][0]
    logprobs = (generation.generation_info or {})["logprobs"]
    assert isinstance(logprobs, dict) and len(logprobs["content"]) == 3


def test_return_full_text_gives_the_prompt_back(chat_url: str) -> None:
    llm = llm_at(chat_url, return_full_text=True, seed=4)
    text = llm.invoke(PROMPT)
    assert text.startswith(PROMPT) and len(text) > len(PROMPT)
    assert "".join(llm.stream(PROMPT)) == text


@pytest.mark.parametrize("form", ["/v1/completions", ""])
def test_context_overflow_is_typed_and_sent_once(chat_proxy: CountingProxy, form: str) -> None:
    llm = llm_at(chat_proxy.url + form, max_retries=2)
    too_long = "hello " * (N_CTX * 2)
    with pytest.raises(HFServerlessContextOverflowError) as caught:
        llm.invoke(too_long)
    assert isinstance(caught.value, ContextOverflowError)
    assert "exceeds the available context size" in (caught.value.server_message or "")
    assert chat_proxy.count("/v1/completions") == 1
    with pytest.raises(ContextOverflowError):
        list(llm.stream(too_long))
    assert chat_proxy.count("/v1/completions") == 2


@pytest.mark.parametrize("form", ["/v1/completions", ""])
def test_a_wrong_key_is_an_authentication_error(chat_proxy: CountingProxy, form: str) -> None:
    llm = HFServerlessLLM(base_url=chat_proxy.url + form, api_key="wrong-key", max_retries=2)
    with pytest.raises(ModelAuthenticationError) as caught:
        llm.invoke(PROMPT)
    assert "wrong-key" not in str(caught.value)
    assert chat_proxy.count("/v1/completions") == 1  # not retried (llama-server answers a missing route 404 first)
