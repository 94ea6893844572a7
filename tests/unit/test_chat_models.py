"""ChatHFServerless's LangChain plumbing: rate limiter, output_version="v1", cache keys and call-time keywords."""

from __future__ import annotations

from typing import Any

from langchain_core.rate_limiters import BaseRateLimiter

from langchain_hfserverless import ChatHFServerless
from tests.loopback import LoopbackServer, sse

_THINKING = {
    "id": "chatcmpl-9",
    "model": "deepseek-ai/DeepSeek-R1",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "<think>2 and 2 make 4.</think>\n\nFour."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
}


class CountingLimiter(BaseRateLimiter):
    def __init__(self) -> None:
        self.calls = 0

    def acquire(self, *, blocking: bool = True) -> bool:
        self.calls += 1
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        self.calls += 1
        return True


def test_rate_limiter_is_consulted_before_every_call(server: LoopbackServer) -> None:
    limiter = CountingLimiter()
    server.reply(body=_THINKING)
    server.reply(body=sse({"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}))
    llm = ChatHFServerless(base_url=server.url, model="m", rate_limiter=limiter)
    llm.invoke("a")
    list(llm.stream("b"))
    assert limiter.calls == 2
    assert len(server.requests) == 2


def test_output_version_v1_gives_reasoning_blocks(server: LoopbackServer) -> None:
    server.reply(body=_THINKING)
    llm = ChatHFServerless(base_url=server.url, model="m", output_version="v1")
    message = llm.invoke("2+2?")
    kinds = [block["type"] for block in message.content_blocks]
    assert kinds == ["reasoning", "text"]
    assert message.content_blocks[0]["reasoning"] == "2 and 2 make 4."
    assert message.content_blocks[1]["text"] == "Four."


def test_output_version_v1_streams_reasoning_blocks(server: LoopbackServer) -> None:
    server.reply(
        body=sse(
            {"choices": [{"index": 0, "delta": {"reasoning_content": "Adding. "}}]},
            {"choices": [{"index": 0, "delta": {"content": "Four."}, "finish_reason": "stop"}]},
        )
    )
    llm = ChatHFServerless(base_url=server.url, model="m", output_version="v1")
    full: Any = None
    for chunk in llm.stream("2+2?"):
        full = chunk if full is None else full + chunk
    blocks = full.content_blocks
    assert [b["type"] for b in blocks] == ["reasoning", "text"]
    assert blocks[0]["reasoning"] == "Adding. "
    assert blocks[1]["text"] == "Four."


def test_cache_keys_differ_for_every_model_and_sampling_setting() -> None:
    base = {"model": "org/a", "api_key": "hf_x"}
    variants = [
        {},
        {"model": "org/b"},
        {"provider": "together"},
        {"base_url": "http://127.0.0.1:9"},
        {"temperature": 0.2},
        {"max_tokens": 5},
        {"top_p": 0.9},
        {"seed": 1},
        {"stop": ["x"]},
        {"frequency_penalty": 0.1},
        {"presence_penalty": 0.1},
        {"model_kwargs": {"top_k": 3}},
    ]
    keys = {ChatHFServerless(**{**base, **v})._get_llm_string() for v in variants}
    assert len(keys) == len(variants)


def test_call_time_keywords_go_into_the_body_as_given(server: LoopbackServer) -> None:
    server.reply(body=_THINKING)
    llm = ChatHFServerless(base_url=server.url, model="org/a", temperature=0.5)
    fmt = {"type": "json_object"}
    llm.invoke("hi", response_format=fmt, tool_prompt="Use tools:", top_k=7, temperature=0.1, model="org/b")
    body = server.requests[0].json()
    assert body == {
        "model": "org/b",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.1,
        "response_format": fmt,
        "tool_prompt": "Use tools:",
        "top_k": 7,
        "stream": False,
    }


def test_nothing_is_injected_into_a_bare_request(server: LoopbackServer) -> None:
    server.reply(body=_THINKING)
    ChatHFServerless(base_url=server.url, model="org/a").invoke("hi")
    assert server.requests[0].json() == {
        "model": "org/a",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }
