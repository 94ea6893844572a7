"""``_wire/completions``: which form a base_url speaks, the OpenAI completions body, and real answer shapes.

llama-server answers are verbatim from ``../shared/real-servers`` (llama.cpp b1-0c1e570, tiny-chat model, seed 1);
TGI's ``/v1/completions`` answers are its integration-test snapshots in ``../shared/hf-recordings``; vLLM's
refusal wording is its FastAPI validation error as it sends it (400, ``{"object": "error", "message": ...}``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_hfserverless._wire.completions import (
    OPENAI,
    TGI,
    Candidate,
    UnsupportedParameters,
    candidates,
    completion_delta,
    info_of,
    merge_logprobs,
    names_other_form,
    openai_body,
    says_missing,
    url_for,
)
from langchain_hfserverless._wire.text_generation import TextStreamState, generation_from_wire
from tests.cassettes import RECORDINGS

TGI_SNAPSHOTS = RECORDINGS / "text-generation-inference/integration-tests/models/__snapshots__/test_completion_prompts"

# llama-server /v1/completions, {"prompt": "Once upon", "max_tokens": 4, "seed": 1, "logprobs": 1}
LLAMA_ANSWER: dict[str, Any] = {
    "choices": [
        {
            "text": " withSEQis",
            "index": 0,
            "logprobs": {
                "content": [
                    {
                        "id": 358,
                        "token": " with",
                        "bytes": [32, 119, 105, 116, 104],
                        "logprob": -5.272543430328369,
                        "top_logprobs": [{"id": 631, "token": "ES", "bytes": [69, 83], "logprob": -2.408682107925415}],
                    }
                ]
            },
            "finish_reason": "length",
        }
    ],
    "created": 1796138768,
    "model": "tiny-chat",
    "system_fingerprint": "b1-0c1e570",
    "object": "text_completion",
    "usage": {
        "completion_tokens": 4,
        "prompt_tokens": 5,
        "total_tokens": 9,
        "prompt_tokens_details": {"cached_tokens": 0},
    },
    "id": "chatcmpl-Ceui4YxOW0h25p49ZO40be5wr4kbodwe",
    "timings": {"cache_n": 0, "prompt_n": 5, "predicted_n": 4},
}
# llama-server /v1/completions stream with stream_options.include_usage: the events after "data: "
LLAMA_STREAM = [
    '{"choices":[{"text":" with","index":0,"logprobs":null,"finish_reason":null}],"created":1796138770,'
    '"model":"tiny-chat","system_fingerprint":"b1-0c1e570","object":"text_completion","id":"chatcmpl-GPu8"}',
    '{"choices":[{"text":"SE","index":0,"logprobs":null,"finish_reason":null}],"created":1796138770,'
    '"model":"tiny-chat","system_fingerprint":"b1-0c1e570","object":"text_completion","id":"chatcmpl-GPu8"}',
    '{"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],"created":1796138770,'
    '"model":"tiny-chat","system_fingerprint":"b1-0c1e570","object":"text_completion","usage":{"completion_tokens":2,'
    '"prompt_tokens":5,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":4}},"id":"chatcmpl-GPu8",'
    '"timings":{"cache_n":4,"prompt_n":1}}',
]
# llama-server's own /completion, whole and streamed (generation_settings cut short)
LLAMA_NATIVE = {
    "index": 0,
    "content": " withSEQis",
    "tokens": [],
    "id_slot": 0,
    "stop": True,
    "model": "tiny-chat",
    "tokens_predicted": 4,
    "tokens_evaluated": 5,
    "generation_settings": {"seed": 1, "n_predict": 4},
    "prompt": "Once upon",
    "has_new_line": False,
    "truncated": False,
    "stop_type": "limit",
    "stopping_word": "",
    "tokens_cached": 8,
}
LLAMA_NATIVE_STREAM = [
    {"index": 0, "content": " with", "tokens": [358], "stop": False, "id_slot": -1, "tokens_predicted": 1},
    {"index": 0, "content": "", "tokens": [], "id_slot": 0, "stop": True, "model": "tiny-chat", "tokens_predicted": 2,
     "tokens_evaluated": 5, "stop_type": "eos"},
]  # fmt: skip

# What each engine says when sent the other form (status, message as server_message reads it).
LLAMA_WANTS_PROMPT = (400, "[json.exception.out_of_range.403] key 'prompt' not found")
TGI_WANTS_INPUTS = (422, "Failed to deserialize the JSON body into the target type: missing field `inputs` at line 1")
TGI_WANTS_PROMPT = (422, "Failed to deserialize the JSON body into the target type: missing field `prompt` at line 1")
VLLM_WANTS_PROMPT = (
    400,
    "[{'type': 'missing', 'loc': ('body', 'prompt'), 'msg': 'Field required', 'input': {'inputs': 'hi', "
    "'stream': False}}]",
)


# ---------------------------------------------------------------------------------------------- which form


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://h:8080/v1/completions", [("http://h:8080/v1/completions", OPENAI)]),
        ("http://h:8080/v1/completions/", [("http://h:8080/v1/completions/", OPENAI)]),
        ("http://h:8080/generate", [("http://h:8080/generate", TGI)]),
        ("http://h:8080/generate_stream", [("http://h:8080/generate_stream", TGI)]),
        ("http://h:8080", [("http://h:8080", TGI), ("http://h:8080/v1/completions", OPENAI)]),
        ("http://h:8080/", [("http://h:8080/", TGI), ("http://h:8080/v1/completions", OPENAI)]),
        ("http://h:8080/v1", [("http://h:8080/v1/completions", OPENAI), ("http://h:8080/", TGI)]),
        ("https://e.cloud/p/v1/", [("https://e.cloud/p/v1/completions", OPENAI), ("https://e.cloud/p", TGI)]),
        ("http://h:8080/completion", [("http://h:8080/completion", TGI), ("http://h:8080/completion", OPENAI)]),
    ],
)
def test_candidates_follow_the_url(base_url: str, expected: list[tuple[str, str]]) -> None:
    assert candidates(base_url) == [Candidate(url, dialect) for url, dialect in expected]  # type: ignore[arg-type]


def test_tgi_streams_on_generate_stream() -> None:
    generate = Candidate("http://h/generate", TGI)
    assert url_for(generate, stream=True) == "http://h/generate_stream"
    assert url_for(generate, stream=False) == "http://h/generate"
    assert url_for(Candidate("http://h/generate_stream", TGI), stream=False) == "http://h/generate"
    assert url_for(Candidate("http://h/v1/completions", OPENAI), stream=True) == "http://h/v1/completions"


@pytest.mark.parametrize(
    ("refusal", "tried", "other", "switch"),
    [
        (LLAMA_WANTS_PROMPT, TGI, OPENAI, True),
        (VLLM_WANTS_PROMPT, TGI, OPENAI, True),
        (TGI_WANTS_PROMPT, TGI, OPENAI, True),
        (TGI_WANTS_INPUTS, OPENAI, TGI, True),
        (LLAMA_WANTS_PROMPT, OPENAI, TGI, False),  # sent prompt already: nothing to learn
        ((400, "Input validation error: `temperature` must be strictly positive"), TGI, OPENAI, False),
        ((422, "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1024"), OPENAI, TGI, False),
        ((500, "key 'prompt' not found"), TGI, OPENAI, False),
        ((401, "Invalid API Key"), TGI, OPENAI, False),
    ],
)
def test_a_refusal_names_the_other_form_only_when_it_says_its_field_is_missing(
    refusal: tuple[int, str], tried: str, other: str, switch: bool
) -> None:
    status, message = refusal
    same_url = names_other_form(status, message, Candidate("u", tried), Candidate("u", other))  # type: ignore[arg-type]
    assert same_url is switch


def test_a_missing_route_moves_to_another_url_not_the_same_one() -> None:
    root, v1 = Candidate("http://h", TGI), Candidate("http://h/v1/completions", OPENAI)
    for status in (404, 405):
        assert names_other_form(status, "File Not Found", root, v1)
        assert not names_other_form(status, "File Not Found", root, Candidate("http://h", OPENAI))


def test_says_missing_needs_the_quoted_name() -> None:
    assert says_missing("missing field `inputs`", "inputs")
    assert not says_missing("missing field `inputs`", "prompt")
    assert not says_missing("the prompt is required to be short", "prompt")


# ---------------------------------------------------------------------------------------------- the body


def test_only_what_was_set_goes_out() -> None:
    assert openai_body("hi", {}, model=None, stream=False) == {"prompt": "hi", "stream": False}
    assert openai_body("hi", {}, model="m", stream=True) == {
        "prompt": "hi",
        "model": "m",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_text_generation_parameters_are_mapped() -> None:
    params = {
        "max_new_tokens": 8,
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "repetition_penalty": 1.1,
        "seed": 7,
        "stop": ["\n"],
        "return_full_text": True,
        "do_sample": True,
        "details": True,
        "best_of": 2,
    }
    assert openai_body("p", params, model=None, stream=False) == {
        "prompt": "p",
        "max_tokens": 8,
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "repetition_penalty": 1.1,
        "seed": 7,
        "stop": ["\n"],
        "logprobs": 1,
        "best_of": 2,
        "stream": False,
    }


def test_greedy_and_explicit_logprobs() -> None:
    assert openai_body("p", {"do_sample": False}, model=None, stream=False)["temperature"] == 0
    assert openai_body("p", {"do_sample": False, "temperature": 0.3}, model=None, stream=False)["temperature"] == 0.3
    assert openai_body("p", {"details": True, "logprobs": 5}, model=None, stream=False)["logprobs"] == 5
    assert "logprobs" not in openai_body("p", {"details": False}, model=None, stream=False)


def test_tgi_only_parameters_are_refused() -> None:
    with pytest.raises(UnsupportedParameters, match="grammar, watermark"):
        openai_body("p", {"watermark": True, "grammar": {"type": "json", "value": {}}}, model=None, stream=False)


# ---------------------------------------------------------------------------------------------- answers


def test_llama_server_answer() -> None:
    text, info = generation_from_wire(LLAMA_ANSWER)
    assert text == " withSEQis"
    assert info == {
        "finish_reason": "length",
        "logprobs": LLAMA_ANSWER["choices"][0]["logprobs"],
        "usage": {"completion_tokens": 4, "prompt_tokens": 5, "total_tokens": 9},
    }


def test_llama_cpp_native_answer() -> None:
    assert generation_from_wire(LLAMA_NATIVE) == (
        " withSEQis",
        {"finish_reason": "length", "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}},
    )


def test_llama_server_stream() -> None:
    state = TextStreamState(None)
    text = "".join(state.text_from_event(json.loads(event)) for event in LLAMA_STREAM) + state.flush()
    assert text == " withSE"
    assert state.final_info() == {
        "finish_reason": "length",
        "usage": {"completion_tokens": 2, "prompt_tokens": 5, "total_tokens": 7},
    }


def test_llama_cpp_native_stream() -> None:
    state = TextStreamState(None)
    assert [state.text_from_event(e) for e in LLAMA_NATIVE_STREAM] == [" with", ""]
    assert state.final_info()["finish_reason"] == "stop"
    assert state.final_info()["usage"]["completion_tokens"] == 2


def test_stream_logprobs_are_joined() -> None:
    first = {"content": [{"token": "a", "logprob": -1.0}]}
    second = {"content": [{"token": "b", "logprob": -2.0}]}
    joined = merge_logprobs(merge_logprobs(None, first), second)
    assert joined == {"content": [{"token": "a", "logprob": -1.0}, {"token": "b", "logprob": -2.0}]}
    assert first == {"content": [{"token": "a", "logprob": -1.0}]}  # the event is not changed
    legacy = merge_logprobs({"tokens": ["a"], "token_logprobs": [-1.0]}, {"tokens": ["b"], "token_logprobs": [-2.0]})
    assert legacy == {"tokens": ["a", "b"], "token_logprobs": [-1.0, -2.0]}
    assert merge_logprobs(first, None) is first


def test_usage_only_event_and_other_shapes() -> None:
    usage_only = completion_delta({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}})
    assert (
        usage_only is not None
        and usage_only.text == ""
        and usage_only.usage == {"prompt_tokens": 1, "completion_tokens": 2}
    )
    assert completion_delta({"generated_text": "tgi"}) is None
    assert completion_delta({"choices": [{"index": 1, "text": "other prompt"}]}) is None
    assert info_of(completion_delta({"choices": [{"text": "x"}]})) == {}  # type: ignore[arg-type]


def test_tgi_v1_completions_recordings() -> None:
    if not TGI_SNAPSHOTS.is_dir():
        pytest.skip(f"no recordings at {TGI_SNAPSHOTS}")
    single = json.loads((TGI_SNAPSHOTS / "test_flash_llama_completion_single_prompt.json").read_text())
    text, info = generation_from_wire(single)
    assert text == single["choices"][0]["text"] and text.startswith(" A Beginner")
    assert info == {
        "finish_reason": "length",
        "usage": {"completion_tokens": 10, "prompt_tokens": 6, "total_tokens": 16},
    }
    # A batch of prompts answered out of order: prompt 0's text.
    many = json.loads((TGI_SNAPSHOTS / "test_flash_llama_completion_many_prompts.json").read_text())
    expected = next(c["text"] for c in many["choices"] if c["index"] == 0)
    assert generation_from_wire(many)[0] == expected
    # TGI's stream with usage: the last event has choices [] and the usage.
    events = json.loads((TGI_SNAPSHOTS / "test_flash_llama_completion_stream_usage.json").read_text())
    state = TextStreamState(None)
    streamed = "".join(state.text_from_event(e) for e in events) + state.flush()
    assert streamed == "".join(e["choices"][0]["delta"]["content"] for e in events if e["choices"])
    assert state.final_info() == {
        "finish_reason": "length",
        "usage": {"completion_tokens": 10, "prompt_tokens": 40, "total_tokens": 50},
    }
