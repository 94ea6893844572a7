"""HFServerlessLLM and ``_wire/text_generation``: the body it sends, answers, streams, stop sequences, fallback.

HTTP runs against the loopback server; TGI answers are shaped like the recordings in ../shared/hf-recordings
(``[{"generated_text", "details"}]``, stream events ``{"index", "token", "generated_text", "details"}``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from langchain_hfserverless._wire.text_generation import (
    StopTrimmer,
    TextStreamState,
    UnreadableAnswer,
    chat_fallback_params,
    generation_from_wire,
    is_chat_only_message,
    trim_at_stop,
)
from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessContextOverflowError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
)
from langchain_hfserverless.llms import HFServerlessLLM
from tests.loopback import Answer, LoopbackServer, Seen, sse

CHAT_ONLY = (
    "Model meta-llama/Llama-3.1-8B-Instruct is not supported for task text-generation and provider together. "
    "Supported task: conversational."
)


def token(i: int, text: str, *, special: bool = False, final: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "index": i,
        "token": {"id": i, "text": text, "logprob": -0.5, "special": special},
        "generated_text": None if final is None else final.pop("generated_text", None),
        "details": final,
    }


def chat_answer(content: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "llama3.1-8b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


# ---------------------------------------------------------------------------------------------- pure mapping


def test_answers_of_every_shape() -> None:
    details = {"finish_reason": "length", "generated_tokens": 1, "seed": None, "tokens": [{"id": 3, "text": " "}]}
    text, info = generation_from_wire([{"generated_text": "", "details": details}])
    assert text == "" and info["details"] == details
    assert info["finish_reason"] == "length" and info["generated_tokens"] == 1 and "seed" not in info
    assert generation_from_wire({"generated_text": "bare object"}) == ("bare object", {})
    completion = {"choices": [{"text": " hi", "finish_reason": "stop"}], "usage": {"prompt_tokens": 2}}
    assert generation_from_wire(completion) == (" hi", {"finish_reason": "stop", "usage": {"prompt_tokens": 2}})
    for bad in ([], "text", {"unexpected": 1}, [{"choices": []}]):
        with pytest.raises(UnreadableAnswer):
            generation_from_wire(bad)


def test_trim_at_the_earliest_stop() -> None:
    assert trim_at_stop("a. b\n c", [".", "\n"]) == ("a", True)
    assert trim_at_stop("a b", ["."]) == ("a b", False)
    assert trim_at_stop("a b", None) == ("a b", False)
    assert trim_at_stop("a b", [""]) == ("a b", False)


def test_stop_trimmer_holds_back_a_possible_stop() -> None:
    trimmer = StopTrimmer(["##END"])
    out = [trimmer.feed(piece) for piece in ["Hello", " wor", "ld#", "#E", "ND", " never"]]
    assert out == ["Hello", " wor", "ld", "", "", ""]
    assert trimmer.stopped and trimmer.flush() == ""
    partial = StopTrimmer(["##END"])
    assert partial.feed("ab#") == "ab"
    assert partial.feed("#x") == "##x"  # not a stop after all: released
    assert partial.feed("#") == "" and partial.flush() == "#"


def test_stream_state_tgi_and_openai_events() -> None:
    state = TextStreamState(None)
    assert state.text_from_event(token(1, "Hi")) == "Hi"
    assert state.text_from_event(token(2, "</s>", special=True)) == ""
    final = {"finish_reason": "eos_token", "generated_tokens": 2, "seed": 7, "generated_text": "Hi"}
    assert state.text_from_event(token(3, "!", final=final)) == "!"
    info = state.final_info()
    assert info["finish_reason"] == "eos_token" and info["seed"] == 7 and len(info["tokens"]) == 3
    completion = TextStreamState(None)
    assert completion.text_from_event({"choices": [{"index": 0, "text": "a", "finish_reason": None}]}) == "a"
    completion.text_from_event({"choices": [{"index": 0, "text": "", "finish_reason": "length"}], "usage": {"x": 1}})
    assert completion.final_info() == {"finish_reason": "length", "usage": {"x": 1}}


def test_chat_only_detection() -> None:
    assert is_chat_only_message(CHAT_ONLY)
    assert is_chat_only_message("Task 'text-generation' not supported for provider 'cerebras'. Available tasks: [...]")
    assert is_chat_only_message(
        "Model 'x' doesn't support task 'text-generation'. Supported tasks: 'image-text-to-text'"
    )
    assert not is_chat_only_message(
        "Model x is not supported for task text-generation. Supported task: feature-extraction."
    )
    assert not is_chat_only_message("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1024")


def test_chat_fallback_params() -> None:
    body, unmapped = chat_fallback_params(
        {
            "max_new_tokens": 5,
            "temperature": 0.1,
            "top_k": 3,
            "stop": ["x"],
            "return_full_text": False,
            "do_sample": True,
            "grammar": {},
            "watermark": True,
        }
    )
    assert body == {"max_tokens": 5, "temperature": 0.1, "top_k": 3}
    assert sorted(unmapped) == ["grammar", "watermark"]


# ---------------------------------------------------------------------------------------------- requests


def test_needs_a_target_and_a_valid_grammar() -> None:
    with pytest.raises(ValueError, match=r"model= .* or base_url="):
        HFServerlessLLM()
    with pytest.raises(ValueError, match="grammar must be"):
        HFServerlessLLM(model="m", grammar={"json": {}})
    assert HFServerlessLLM(model="m", huggingfacehub_api_token="hf_x").api_key.get_secret_value() == "hf_x"  # type: ignore[union-attr]
    assert "hf_x" not in repr(HFServerlessLLM(model="m", api_key="hf_x"))


def test_nothing_is_sent_that_was_not_set(server: LoopbackServer) -> None:
    server.reply(body=[{"generated_text": " world"}])
    assert HFServerlessLLM(base_url=f"{server.url}/generate").invoke("hello") == " world"
    seen = server.requests[0]
    assert seen.path == "/generate"
    assert seen.json() == {"inputs": "hello", "stream": False}


def test_every_field_goes_into_parameters(server: LoopbackServer) -> None:
    server.reply(body=[{"generated_text": "{}"}])
    grammar = {"type": "json", "value": {"type": "object"}}
    llm = HFServerlessLLM(
        base_url=server.url,
        max_new_tokens=10,
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        repetition_penalty=1.3,
        seed=42,
        stop=["\n"],
        return_full_text=False,
        do_sample=True,
        watermark=False,
        details=False,
        grammar=grammar,
        model_kwargs={"truncate": 512},
    )
    llm.invoke("prompt", typical_p=0.95)
    assert server.requests[0].json() == {
        "inputs": "prompt",
        "parameters": {
            "max_new_tokens": 10,
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 40,
            "repetition_penalty": 1.3,
            "seed": 42,
            "stop": ["\n"],
            "return_full_text": False,
            "do_sample": True,
            "watermark": False,
            "details": False,
            "grammar": grammar,
            "truncate": 512,
            "typical_p": 0.95,
        },
        "stream": False,
    }


def test_call_time_stop_wins_and_is_trimmed(server: LoopbackServer) -> None:
    # TGI leaves the stop string in generated_text: it is cut client-side.
    details = {"finish_reason": "stop_sequence", "generated_tokens": 3, "seed": None}
    server.reply(body=[{"generated_text": " Paris.\nNext", "details": details}])
    llm = HFServerlessLLM(base_url=server.url, stop="never")
    result = llm.generate(["The capital of France is"], stop=["."])
    generation = result.generations[0][0]
    assert generation.text == " Paris"
    assert generation.generation_info["finish_reason"] == "stop_sequence"  # type: ignore[index]
    assert server.requests[0].json()["parameters"] == {"stop": ["."]}


def test_stop_on_a_server_that_ignores_it(server: LoopbackServer) -> None:
    server.reply(body=[{"generated_text": "one\ntwo", "details": {"finish_reason": "length", "generated_tokens": 9}}])
    generation = HFServerlessLLM(base_url=server.url).generate(["x"], stop=["\n"]).generations[0][0]
    assert generation.text == "one"
    assert generation.generation_info["finish_reason"] == "stop_sequence"  # type: ignore[index]


def test_return_full_text_never_cuts_inside_the_prompt(server: LoopbackServer) -> None:
    server.reply(body=[{"generated_text": "Q. A: yes. more"}])
    llm = HFServerlessLLM(base_url=server.url, return_full_text=True)
    assert llm.invoke("Q.", stop=["."]) == "Q. A: yes"


def test_details_in_generation_info(server: LoopbackServer) -> None:
    details = {
        "finish_reason": "length",
        "generated_tokens": 1,
        "seed": 3,
        "prefill": [{"id": 0, "text": "<pad>", "logprob": None}],
        "tokens": [{"id": 3, "text": " ", "logprob": -2.0078125, "special": False}],
    }
    server.reply(body=[{"generated_text": " ", "details": details}], headers={"x-inference-provider": "hf-inference"})
    generation = HFServerlessLLM(base_url=server.url, details=True).generate(["test"]).generations[0][0]
    info = generation.generation_info or {}
    assert info["details"] == details and info["seed"] == 3 and info["generated_tokens"] == 1
    assert info["inference_provider"] == "hf-inference"


def test_errors_are_typed_with_the_server_words(server: LoopbackServer) -> None:
    server.reply(
        422,
        {
            "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1024. Given: "
            "1 `inputs` tokens and 10000 `max_new_tokens`",
            "error_type": "validation",
        },
    )
    with pytest.raises(HFServerlessContextOverflowError, match="must be <= 1024"):
        HFServerlessLLM(base_url=server.url, max_new_tokens=10000).invoke("x")
    server.reply(200, {"unexpected": True})
    with pytest.raises(HFServerlessAPIError, match="Unreadable text-generation answer"):
        HFServerlessLLM(base_url=server.url).invoke("x")


def test_batch_keeps_order_and_bounds_concurrency(server: LoopbackServer) -> None:
    def echo(seen: Seen) -> Answer:
        prompt = seen.json()["inputs"]
        delay = 0.2 if prompt == "p0" else 0.0
        return Answer(
            200,
            {"content-type": "application/json"},
            json.dumps([{"generated_text": prompt.upper()}]).encode(),
            delay=delay,
        )

    server.queue = _Responder(server, echo)  # type: ignore[assignment]
    llm = HFServerlessLLM(base_url=server.url, max_concurrency=4)
    assert llm.batch([f"p{i}" for i in range(10)]) == [f"P{i}" for i in range(10)]
    assert len(server.requests) == 10


async def test_async_invoke_and_batch(server: LoopbackServer) -> None:
    def echo(seen: Seen) -> Answer:
        body = json.dumps([{"generated_text": seen.json()["inputs"] + "!"}]).encode()
        return Answer(200, {"content-type": "application/json"}, body, delay=0.2 if seen.json()["inputs"] == "a" else 0)

    server.queue = _Responder(server, echo)  # type: ignore[assignment]
    llm = HFServerlessLLM(base_url=server.url, max_new_tokens=3)
    assert await llm.ainvoke("x") == "x!"
    assert await llm.abatch(["a", "b", "c"]) == ["a!", "b!", "c!"]
    assert all(r.json()["parameters"] == {"max_new_tokens": 3} for r in server.requests)


class _Responder:
    def __init__(self, server: LoopbackServer, answer: Any) -> None:
        self.server, self.answer = server, answer

    def __bool__(self) -> bool:
        return True

    def popleft(self) -> Answer:
        return self.answer(self.server.requests[-1])  # recorded just before, under the server's lock


# ---------------------------------------------------------------------------------------------- streaming


class Tokens(BaseCallbackHandler):
    """The tokens of the LLM's own run, and those of any run nested in it (the chat fallback's)."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.nested: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        (self.tokens if kwargs.get("parent_run_id") is None else self.nested).append(token)


@pytest.mark.parametrize(("done", "space"), [(True, True), (False, True), (False, False)])
def test_stream_tgi_events(server: LoopbackServer, done: bool, space: bool) -> None:
    final = {"finish_reason": "eos_token", "generated_tokens": 3, "seed": None, "generated_text": "Hello world"}
    server.reply(
        body=sse(
            token(1, "Hello"), token(2, " world"), token(3, "</s>", special=True, final=final), done=done, space=space
        )
    )
    callback = Tokens()
    chunks = list(HFServerlessLLM(base_url=server.url).stream("Hi", config={"callbacks": [callback]}))
    assert "".join(c for c in chunks) == "Hello world"
    assert callback.tokens == ["Hello", " world"]
    assert server.requests[0].json() == {"inputs": "Hi", "stream": True}


def test_stream_final_chunk_carries_details(server: LoopbackServer) -> None:
    final = {"finish_reason": "length", "generated_tokens": 2, "seed": 11, "input_length": 1, "generated_text": "ab"}
    server.reply(
        body=sse(token(1, "a"), token(2, "b", final=final), done=False),
        headers={"x-inference-provider": "hf-inference"},
    )
    llm = HFServerlessLLM(base_url=server.url)
    chunks = list(llm._stream("x"))
    last = chunks[-1]
    info = last.generation_info or {}
    assert info["finish_reason"] == "length" and info["seed"] == 11 and info["generated_tokens"] == 2
    assert [t["text"] for t in info["tokens"]] == ["a", "b"]
    assert info["inference_provider"] == "hf-inference"


def test_stream_stops_at_a_stop_sequence_across_tokens(server: LoopbackServer) -> None:
    server.reply(
        body=sse(
            token(1, "Hello"),
            token(2, " wor"),
            token(3, "ld#"),
            token(4, "#E"),
            token(5, "ND"),
            token(6, " after the stop"),
            done=False,
        )
    )
    chunks = list(HFServerlessLLM(base_url=server.url)._stream("x", stop=["##END"]))
    assert "".join(c.text for c in chunks) == "Hello world"
    assert (chunks[-1].generation_info or {})["finish_reason"] == "stop_sequence"
    assert server.requests[0].json()["parameters"] == {"stop": ["##END"]}


def test_stream_error_event_inside_200(server: LoopbackServer) -> None:
    server.reply(body=sse(token(1, "a"), {"error": "Input validation error: bad", "error_type": "validation"}))
    with pytest.raises(HFServerlessInvalidRequestError, match="bad"):
        list(HFServerlessLLM(base_url=server.url).stream("x"))


def test_stream_openai_completion_chunks(server: LoopbackServer) -> None:
    server.reply(
        body=sse(
            {"choices": [{"index": 0, "text": "Hel", "finish_reason": None}]},
            {
                "choices": [{"index": 0, "text": "lo", "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
            },
        )
    )
    chunks = list(HFServerlessLLM(base_url=server.url)._stream("x"))
    assert "".join(c.text for c in chunks) == "Hello"
    assert chunks[-1].generation_info == {
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "inference_provider": chunks[-1].generation_info["inference_provider"],
    }  # type: ignore[index]


async def test_astream(server: LoopbackServer) -> None:
    final = {"finish_reason": "stop_sequence", "generated_tokens": 3, "seed": None, "generated_text": "a b."}
    server.reply(body=sse(token(1, "a"), token(2, " b"), token(3, ".", final=final), done=False, space=False))
    llm = HFServerlessLLM(base_url=server.url)
    chunks = [c async for c in llm._astream("x", stop=["."])]
    assert "".join(c.text for c in chunks) == "a b"
    assert (chunks[-1].generation_info or {})["finish_reason"] == "stop_sequence"
    server.reply(body=sse(token(1, "z"), done=True))
    assert "".join([c async for c in llm.astream("y")]) == "z"


# ---------------------------------------------------------------------------------------------- chat-only models


def test_chat_only_model_is_a_clear_error(server: LoopbackServer) -> None:
    server.reply(400, {"error": CHAT_ONLY})
    llm = HFServerlessLLM(base_url=server.url, model="meta-llama/Llama-3.1-8B-Instruct")
    with pytest.raises(HFServerlessInvalidRequestError, match=r"chat \(conversational\) model only.*fallback_to_chat"):
        llm.invoke("x")
    assert len(server.requests) == 1


def test_fallback_to_chat_sends_one_user_message(server: LoopbackServer) -> None:
    server.reply(400, {"error": CHAT_ONLY})
    server.reply(body=chat_answer("Paris. It is"), headers={"x-inference-provider": "together"})
    server.reply(body=chat_answer("Rome"))
    llm = HFServerlessLLM(
        base_url=server.url,
        model="meta-llama/Llama-3.1-8B-Instruct",
        fallback_to_chat=True,
        max_new_tokens=8,
        temperature=0.2,
        top_k=5,
        return_full_text=False,
    )
    generation = llm.generate(["Capital of France?"], stop=["."]).generations[0][0]
    assert generation.text == "Paris"
    info = generation.generation_info or {}
    assert info["fallback"] == "chat" and "not supported for task text-generation" in info["fallback_reason"]
    assert info["usage"]["total_tokens"] == 7 and info["inference_provider"] == "together"
    chat = server.requests[1]
    assert chat.path == "/v1/chat/completions"
    assert chat.json() == {
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "messages": [{"role": "user", "content": "Capital of France?"}],
        "max_tokens": 8,
        "temperature": 0.2,
        "top_k": 5,
        "stop": ["."],
        "stream": False,
    }
    # Known chat-only now: the next call goes straight to the chat route.
    assert llm.invoke("Capital of Italy?") == "Rome"
    assert [r.path for r in server.requests] == ["/", "/v1/chat/completions", "/v1/chat/completions"]


def test_fallback_chat_connects_like_the_llm(server: LoopbackServer) -> None:
    server.reply(400, {"error": CHAT_ONLY})
    server.reply(body=chat_answer("Paris"))
    llm = HFServerlessLLM(
        base_url=server.url,
        model="m",
        api_key="hf_explicit_key",
        fallback_to_chat=True,
        default_headers={"x-trace": "t1"},
        bill_to="my-org",
        use_cache=False,
        wait_for_model=True,
    )
    assert llm.invoke("Capital of France?") == "Paris"
    chat = {k.lower(): v for k, v in server.requests[1].headers.items()}
    assert chat["authorization"] == "Bearer hf_explicit_key"
    assert (chat["x-trace"], chat["x-hf-bill-to"]) == ("t1", "my-org")
    assert (chat["x-use-cache"], chat["x-wait-for-model"]) == ("false", "true")


def test_fallback_stream(server: LoopbackServer) -> None:
    server.reply(404, {"error": CHAT_ONLY})
    chunk = {"id": "c", "object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": {}}]}
    pieces = [
        dict(chunk, choices=[{"index": 0, "delta": {"content": t}, "finish_reason": None}]) for t in ("Hi", " there")
    ]
    pieces.append(dict(chunk, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    server.reply(body=sse(*pieces))
    llm = HFServerlessLLM(base_url=server.url, model="m", fallback_to_chat=True)
    chunks = list(llm._stream("Hello"))
    assert "".join(c.text for c in chunks) == "Hi there"
    assert (chunks[-1].generation_info or {})["fallback"] == "chat"
    assert server.requests[1].json()["stream"] is True


async def test_fallback_astream_echoes_the_prompt_and_cuts_at_stop(server: LoopbackServer) -> None:
    server.reply(400, {"error": CHAT_ONLY})
    chunk = {"id": "c", "object": "chat.completion.chunk", "model": "m"}
    pieces = [
        dict(chunk, choices=[{"index": 0, "delta": {"content": t}, "finish_reason": None}])
        for t in ("Rome", ". And", " more")
    ]
    server.reply(body=sse(*pieces, done=False))
    callback = Tokens()
    llm = HFServerlessLLM(base_url=server.url, model="m", fallback_to_chat=True, return_full_text=True)
    text = "".join([c async for c in llm.astream("Capital of Italy? ", stop=["."], config={"callbacks": [callback]})])
    assert text == "Capital of Italy? Rome"
    assert callback.tokens == ["Capital of Italy? Rome"]
    assert callback.nested == ["Rome", ". And"]  # the chat model's own run, nested: its callbacks apply
    assert server.requests[1].json()["stop"] == ["."]


async def test_fallback_async(server: LoopbackServer) -> None:
    server.reply(400, {"error": CHAT_ONLY})
    server.reply(body=chat_answer("yes"))
    llm = HFServerlessLLM(base_url=server.url, model="m", fallback_to_chat=True, return_full_text=True)
    assert await llm.ainvoke("Q: ") == "Q: yes"


def test_fallback_refuses_parameters_chat_cannot_carry(server: LoopbackServer) -> None:
    server.reply(400, {"error": CHAT_ONLY})
    llm = HFServerlessLLM(base_url=server.url, model="m", fallback_to_chat=True, watermark=True)
    with pytest.raises(HFServerlessInvalidRequestError, match="cannot send watermark"):
        llm.invoke("x")
    assert len(server.requests) == 1


def test_other_not_supported_errors_are_not_a_chat_fallback(server: LoopbackServer) -> None:
    server.reply(
        400, {"error": "Model x is not supported for task text-generation. Supported task: feature-extraction."}
    )
    llm = HFServerlessLLM(base_url=server.url, model="x", fallback_to_chat=True, max_retries=0)
    with pytest.raises(HFServerlessInvalidRequestError, match="Supported task: feature-extraction"):
        llm.invoke("x")
    assert len(server.requests) == 1


# ---------------------------------------------------------------------------------------------- router providers


def _mapping(model: str, provider: str, task: str, provider_id: str) -> Any:
    from huggingface_hub.hf_api import InferenceProviderMapping

    return InferenceProviderMapping(
        provider=provider, hf_model_id=model, providerId=provider_id, task=task, status="live"
    )


def test_routing_error_for_a_chat_only_model_and_fallback(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub.inference._providers import PROVIDERS, _common

    model = "meta-llama/Llama-3.1-8B-Instruct"
    mapping = _mapping(model, "together", "conversational", "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo")
    monkeypatch.setattr(_common, "_fetch_inference_provider_mapping", lambda m: [mapping])
    monkeypatch.setattr(PROVIDERS["together"]["conversational"], "base_url", server.url)
    with pytest.raises(HFServerlessNotFoundError, match="chat \\(conversational\\) model only"):
        HFServerlessLLM(model=model, provider="together", api_key="direct").invoke("x")
    assert server.requests == []  # refused while routing: nothing was sent
    server.reply(body=chat_answer("ok"))
    llm = HFServerlessLLM(model=model, provider="together", api_key="direct", fallback_to_chat=True)
    assert llm.invoke("x") == "ok"
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[0].json()["model"] == "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"


def test_hf_inference_route(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.inference._providers import PROVIDERS, hf_inference

    monkeypatch.setattr(hf_inference, "_check_supported_task", lambda model, task: None)
    monkeypatch.setattr(PROVIDERS["hf-inference"]["text-generation"], "base_url", server.url)
    server.reply(body=[{"generated_text": "."}])
    llm = HFServerlessLLM(model="openai-community/gpt2", provider="hf-inference", api_key="hf_test", max_new_tokens=1)
    assert llm.invoke("test") == "."
    seen = server.requests[0]
    assert seen.path == "/models/openai-community/gpt2"
    assert seen.json() == {"inputs": "test", "parameters": {"max_new_tokens": 1}, "stream": False}


def test_openai_completions_provider(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub.inference._providers import PROVIDERS, _common

    model = "Qwen/Qwen2.5-7B"
    monkeypatch.setattr(
        _common,
        "_fetch_inference_provider_mapping",
        lambda m: [_mapping(model, "together", "text-generation", "Qwen/Qwen2.5-7B-Turbo")],
    )
    monkeypatch.setattr(PROVIDERS["together"]["text-generation"], "base_url", server.url)
    server.reply(
        body={
            "id": "cmpl-1",
            "object": "text_completion",
            "model": "Qwen/Qwen2.5-7B-Turbo",
            "choices": [{"index": 0, "text": " four", "finish_reason": "length"}],
            "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5},
        }
    )
    llm = HFServerlessLLM(model=model, provider="together", api_key="direct", temperature=0.0)
    generation = llm.generate(["2 + 2 ="]).generations[0][0]
    assert generation.text == " four"
    assert (generation.generation_info or {})["usage"]["total_tokens"] == 5
    seen = server.requests[0]
    assert seen.path == "/v1/completions"
    assert seen.json() == {"prompt": "2 + 2 =", "temperature": 0.0, "stream": False, "model": "Qwen/Qwen2.5-7B-Turbo"}


def test_ls_params_and_identity() -> None:
    llm = HFServerlessLLM(model="m", temperature=0.3, max_new_tokens=9, stop=".")
    params = llm._get_ls_params()
    assert params["ls_model_name"] == "m" and params["ls_model_type"] == "llm"
    assert params["ls_temperature"] == 0.3 and params["ls_max_tokens"] == 9 and params["ls_stop"] == ["."]
    assert llm._identifying_params["temperature"] == 0.3


class Runs(BaseCallbackHandler):
    def __init__(self) -> None:
        self.llm_runs: list[Any] = []
        self.chat_parents: list[Any] = []

    def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: Any, **kwargs: Any) -> None:
        self.llm_runs.append(run_id)

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: Any, **kwargs: Any) -> None:
        self.chat_parents.append(kwargs.get("parent_run_id"))


@pytest.mark.parametrize("use_async", [False, True])
def test_fallback_runs_the_chat_model_as_a_nested_run(server: LoopbackServer, use_async: bool) -> None:
    server.reply(400, {"error": CHAT_ONLY})
    server.reply(body=chat_answer("yes"))
    runs = Runs()
    llm = HFServerlessLLM(base_url=server.url, model="m", fallback_to_chat=True)
    config: Any = {"callbacks": [runs]}
    answer = asyncio.run(llm.ainvoke("Q: ", config=config)) if use_async else llm.invoke("Q: ", config=config)
    assert answer == "yes"
    assert runs.chat_parents == runs.llm_runs  # the chat model's own run, inside the LLM's


# ------------------------------------------------------------------------------------- engines a base_url names
# Loopback stand-ins answer as the engines do (see tests/unit/test_wire_completions.py for the verbatim shapes):
# llama-server serves /v1/completions and /completion, 404 elsewhere, and refuses a body without "prompt" with
# 400 "key 'prompt' not found"; TGI serves "inputs" at its root and /generate, and says 422 "missing field `inputs`".

LLAMA_404 = {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}}
LLAMA_NO_PROMPT = {
    "error": {
        "code": 400,
        "message": "[json.exception.out_of_range.403] key 'prompt' not found",
        "type": "invalid_request_error",
    }
}


def completion(text: str, finish: str = "length", **extra: Any) -> dict[str, Any]:
    return {
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}],
        "model": "tiny-chat",
        "object": "text_completion",
        "usage": {"completion_tokens": 2, "prompt_tokens": 5, "total_tokens": 7},
        **extra,
    }


def llama_server(text: str = " once", finish: str = "length") -> Any:
    """A responder that answers as llama-server does, by path and body."""

    def answer(seen: Seen) -> Answer:
        if seen.path not in ("/v1/completions", "/completion"):
            return Answer(404, {"content-type": "application/json"}, json.dumps(LLAMA_404).encode())
        body = seen.json()
        if "prompt" not in body:
            return Answer(400, {"content-type": "application/json"}, json.dumps(LLAMA_NO_PROMPT).encode())
        if not body.get("stream"):
            return Answer(200, {"content-type": "application/json"}, json.dumps(completion(text, finish)).encode())
        events: list[Any] = [{"choices": [{"text": piece, "index": 0, "finish_reason": None}]} for piece in text]
        events.append(completion("", finish))
        return Answer(200, {"content-type": "text/event-stream"}, sse(*events))

    return answer


def tgi_server(seen: Seen) -> Answer:
    """TGI before /v1/completions: "inputs" at the root and /generate, 404 elsewhere."""
    if seen.path not in ("/", "/generate", "/generate_stream"):
        return Answer(404, {}, b"")
    body = seen.json()
    if "inputs" not in body:
        message = "Failed to deserialize the JSON body into the target type: missing field `inputs` at line 1 column 2"
        return Answer(422, {"content-type": "text/plain"}, message.encode())
    if seen.path == "/generate_stream":
        final = {"finish_reason": "length", "generated_tokens": 1, "seed": None, "generated_text": "!"}
        return Answer(200, {"content-type": "text/event-stream"}, sse(token(1, "!", final=final), done=False))
    return Answer(200, {"content-type": "application/json"}, json.dumps([{"generated_text": "!"}]).encode())


def answering(server: LoopbackServer, responder: Any) -> None:
    server.queue = _Responder(server, responder)  # type: ignore[assignment]


def test_v1_completions_url_speaks_openai(server: LoopbackServer) -> None:
    answering(server, llama_server(" there"))
    llm = HFServerlessLLM(base_url=f"{server.url}/v1/completions", model="tiny", max_new_tokens=4, seed=1)
    generation = llm.generate(["Hello"], stop=["\n"]).generations[0][0]
    assert generation.text == " there"
    info = generation.generation_info or {}
    assert info["finish_reason"] == "length" and info["usage"] == {
        "completion_tokens": 2,
        "prompt_tokens": 5,
        "total_tokens": 7,
    }
    assert [r.path for r in server.requests] == ["/v1/completions"]
    assert server.requests[0].json() == {
        "prompt": "Hello",
        "model": "tiny",
        "max_tokens": 4,
        "seed": 1,
        "stop": ["\n"],
        "stream": False,
    }


@pytest.mark.parametrize("suffix", ["", "/", "/v1"])
def test_a_root_or_v1_learns_openai_once(server: LoopbackServer, suffix: str) -> None:
    answering(server, llama_server())
    llm = HFServerlessLLM(base_url=server.url + suffix, max_new_tokens=2)
    assert llm.invoke("a") == " once"
    assert llm.invoke("b") == " once"
    paths = [r.path for r in server.requests]
    first_try = [] if suffix == "/v1" else [suffix or "/"]  # a root tries TGI at the root first
    assert paths == [*first_try, "/v1/completions", "/v1/completions"]
    assert server.requests[-1].json() == {"prompt": "b", "max_tokens": 2, "stream": False}


def test_v1_learns_tgi_at_the_root(server: LoopbackServer) -> None:
    answering(server, tgi_server)
    llm = HFServerlessLLM(base_url=f"{server.url}/v1", max_new_tokens=2)
    assert llm.invoke("a") == "!"
    assert llm.invoke("b") == "!"
    assert [r.path for r in server.requests] == ["/v1/completions", "/", "/"]
    assert server.requests[-1].json() == {"inputs": "b", "parameters": {"max_new_tokens": 2}, "stream": False}


def test_another_path_learns_from_the_missing_field(server: LoopbackServer) -> None:
    answering(server, llama_server())
    llm = HFServerlessLLM(base_url=f"{server.url}/completion", max_new_tokens=2)
    assert llm.invoke("a") == " once"
    assert llm.invoke("b") == " once"
    assert [sorted(r.json()) for r in server.requests] == [
        ["inputs", "parameters", "stream"],
        ["max_tokens", "prompt", "stream"],
        ["max_tokens", "prompt", "stream"],
    ]


def test_openai_path_refusing_prompt_switches_to_inputs(server: LoopbackServer) -> None:
    message = "Failed to deserialize the JSON body into the target type: missing field `inputs` at line 1 column 2"
    server.reply(422, message.encode(), headers={"content-type": "text/plain"})
    server.reply(body=[{"generated_text": " ok"}])
    # A /v1 whose /v1/completions is served by something that wants "inputs": the root's TGI form follows.
    assert HFServerlessLLM(base_url=f"{server.url}/v1").invoke("x") == " ok"
    assert [r.path for r in server.requests] == ["/v1/completions", "/"]


def test_other_refusals_do_not_switch(server: LoopbackServer) -> None:
    refusal = {"error": "Input validation error: `temperature` must be strictly positive", "error_type": "validation"}
    server.reply(422, refusal)
    with pytest.raises(HFServerlessInvalidRequestError, match="strictly positive"):
        HFServerlessLLM(base_url=server.url, temperature=0.0).invoke("x")
    assert len(server.requests) == 1


def test_overflow_is_not_a_reason_to_switch(server: LoopbackServer) -> None:
    overflow = {
        "error": {
            "code": 400,
            "message": "request (8000 tokens) exceeds the available context size (1024 tokens), try increasing it",
            "type": "exceed_context_size_error",
            "n_prompt_tokens": 8000,
            "n_ctx": 1024,
        }
    }
    server.reply(400, overflow)
    with pytest.raises(HFServerlessContextOverflowError):
        HFServerlessLLM(base_url=f"{server.url}/v1", max_retries=2).invoke("long " * 2000)
    assert [r.path for r in server.requests] == ["/v1/completions"]


def test_no_route_anywhere_names_every_url_tried(server: LoopbackServer) -> None:
    server.default = Answer(404, {"content-type": "application/json"}, json.dumps(LLAMA_404).encode())
    with pytest.raises(HFServerlessNotFoundError) as caught:
        HFServerlessLLM(base_url=server.url).invoke("x")
    message = str(caught.value)
    assert f"{server.url} nor {server.url}/v1/completions" in message and "…/generate" in message
    assert len(server.requests) == 2


def test_stream_learns_and_asks_for_usage(server: LoopbackServer) -> None:
    answering(server, llama_server("abc", finish="stop"))
    llm = HFServerlessLLM(base_url=server.url)
    chunks = list(llm._stream("x"))
    assert "".join(c.text for c in chunks) == "abc"
    assert (chunks[-1].generation_info or {})["usage"]["total_tokens"] == 7
    assert [r.path for r in server.requests] == ["/", "/v1/completions"]
    assert server.requests[-1].json() == {"prompt": "x", "stream": True, "stream_options": {"include_usage": True}}
    cut = list(llm._stream("y", stop=["c"]))  # the stream is closed at the stop sequence, before the usage
    assert "".join(c.text for c in cut) == "ab"
    assert (cut[-1].generation_info or {})["finish_reason"] == "stop_sequence"
    assert [r.path for r in server.requests][2:] == ["/v1/completions"]


async def test_astream_and_ainvoke_learn_too(server: LoopbackServer) -> None:
    answering(server, llama_server("hi"))
    llm = HFServerlessLLM(base_url=f"{server.url}/completion")
    assert "".join([c async for c in llm.astream("x")]) == "hi"
    assert await llm.ainvoke("y") == "hi"
    assert ["prompt" in r.json() for r in server.requests] == [False, True, True]


def test_generate_url_streams_on_generate_stream(server: LoopbackServer) -> None:
    answering(server, tgi_server)
    llm = HFServerlessLLM(base_url=f"{server.url}/generate")
    assert "".join(llm.stream("x")) == "!"
    assert llm.invoke("x") == "!"
    assert [r.path for r in server.requests] == ["/generate_stream", "/generate"]


def test_return_full_text_on_openai_is_the_prompt_given_back(server: LoopbackServer) -> None:
    answering(server, llama_server(" A. B"))
    llm = HFServerlessLLM(base_url=f"{server.url}/v1/completions", return_full_text=True)
    assert llm.invoke("Q.", stop=["."]) == "Q. A"
    assert "".join(llm.stream("Q.", stop=["."])) == "Q. A"
    assert all("echo" not in r.json() and "return_full_text" not in r.json() for r in server.requests)


def test_details_ask_for_logprobs_and_tgi_only_parameters_are_refused(server: LoopbackServer) -> None:
    logprobs = {"content": [{"id": 1, "token": " x", "logprob": -1.5, "top_logprobs": []}]}
    server.reply(body=completion(" x", logprobs=None) | {"choices": [{"text": " x", "index": 0, "logprobs": logprobs}]})
    generation = HFServerlessLLM(base_url=f"{server.url}/v1/completions", details=True).generate(["p"])
    assert (generation.generations[0][0].generation_info or {})["logprobs"] == logprobs
    assert server.requests[0].json()["logprobs"] == 1
    llm = HFServerlessLLM(base_url=f"{server.url}/v1/completions", watermark=True)
    with pytest.raises(HFServerlessInvalidRequestError, match=r"no watermark.*TGI-only"):
        llm.invoke("p")
    assert len(server.requests) == 1


def test_batch_on_a_root_learns_with_the_first_prompt(server: LoopbackServer) -> None:
    answering(server, llama_server())
    llm = HFServerlessLLM(base_url=server.url, max_concurrency=4)
    assert llm.batch(["a", "b", "c", "d"]) == [" once"] * 4
    assert [r.path for r in server.requests].count("/") == 1
    assert len(server.requests) == 5


async def test_abatch_on_a_root_learns_with_the_first_prompt(server: LoopbackServer) -> None:
    answering(server, llama_server())
    llm = HFServerlessLLM(base_url=server.url, max_concurrency=4)
    assert await llm.abatch(["a", "b", "c"]) == [" once"] * 3
    assert len(server.requests) == 4


def test_the_learned_form_is_not_pickled(server: LoopbackServer) -> None:
    import pickle

    answering(server, llama_server())
    llm = HFServerlessLLM(base_url=server.url)
    llm.invoke("a")
    copy = pickle.loads(pickle.dumps(llm))
    assert copy.invoke("b") == " once"
    assert [r.path for r in server.requests] == ["/", "/v1/completions", "/", "/v1/completions"]
