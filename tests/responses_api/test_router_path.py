"""The Responses route through the ROUTER path (``router_url``, not ``base_url``) on loopback.

The loopback server stands in for the router: it answers ``GET /v1/models`` with the catalog fixture of
``test_wire_catalog`` and ``POST /v1/responses`` with answers and streams CAPTURED from the real responses.js server
(``tests/fixtures/responses_js/``), in the order they are asked for. What it received shows where each attempt went
(``model:provider``) and with which token; what the caller gets shows provider, cost and tool calls. No node needed.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from langchain_hfserverless import ChatHFServerless, HFServerlessAuthenticationError
from langchain_hfserverless.catalog import Catalog, forget_catalogs
from tests.loopback import LoopbackServer
from tests.unit.test_wire_catalog import CATALOG

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "responses_js"
MODEL = "openai/gpt-oss-20b"  # in the catalog fixture: groq 0.1/0.5, novita 0.032/0.12 USD per million tokens
SSE = {"content-type": "text/event-stream"}
OUT_OF_CREDITS = {"error": "You have exceeded your monthly included credits for Inference Providers."}


@pytest.fixture(autouse=True)
def _fresh_catalogs() -> Any:
    forget_catalogs()  # a port of an earlier test's server may come back: never answer from its catalog
    yield
    forget_catalogs()


def captured(name: str) -> Any:
    """A captured answer: the Responses object of ``<name>.json``, or the SSE bytes of ``<name>.sse`` as sent."""
    if name.endswith(".sse"):
        return [(FIXTURES / name).read_bytes()]
    return json.loads((FIXTURES / name).read_text())["response"]


def usage_of(name: str) -> tuple[int, int]:
    usage = json.loads((FIXTURES / name).read_text())["response"]["usage"]
    return usage["input_tokens"], usage["output_tokens"]


def llm(server: LoopbackServer, **kw: Any) -> ChatHFServerless:
    kw.setdefault("model", MODEL)
    kw.setdefault("api_key", "hf_test")
    return ChatHFServerless(router_url=server.url, max_retries=0, use_responses_api=True, **kw)


def posted(server: LoopbackServer) -> list[tuple[str, str]]:
    return [(r.path, r.json()["model"]) for r in server.requests if r.method == "POST"]


def catalog_requests(server: LoopbackServer) -> int:
    return sum(r.method == "GET" and r.path == "/v1/models" for r in server.requests)


def weather(location: str, format: str) -> str:
    """Get the current weather"""
    return "sunny"


def price(provider: str, tokens: tuple[int, int]) -> float:
    rates = {"groq": (0.1, 0.5), "novita": (0.032, 0.12)}[provider]
    return (tokens[0] * rates[0] + tokens[1] * rates[1]) / 1e6


# ---------------------------------------------------------------------------- fallback


def test_invoke_falls_back_on_402_to_the_next_provider_as_model_provider(server: LoopbackServer) -> None:
    server.reply(402, OUT_OF_CREDITS)
    server.reply(body=captured("text.json"), headers={"x-inference-provider": "novita"})
    chat = llm(server, fallback_providers=["novita"], catalog=Catalog.from_json(CATALOG))
    message = chat.invoke("What is 1 + 1?")
    assert posted(server) == [("/v1/responses", MODEL), ("/v1/responses", f"{MODEL}:novita")]
    assert message.content == "2"
    assert message.response_metadata["inference_provider"] == "novita"
    assert message.response_metadata["cost"] == pytest.approx(price("novita", usage_of("text.json")))


def test_stream_falls_back_on_a_404_and_on_a_relayed_402(server: LoopbackServer) -> None:
    """The router's own 404, then responses.js relaying an upstream 402 as a ``response.failed`` event (HTTP 200):
    both come before any chunk, so the next provider is asked."""
    relayed = captured("error_stream.sse")[0].replace(  # the captured relay of a 401, its status edited to 402
        b'401 \\"Invalid username or password.\\"', b'402 \\"You have exceeded your monthly included credits\\"'
    )
    assert b"402 " in relayed
    server.reply(404, b"Not Found", headers={"content-type": "text/plain"})
    server.reply(body=[relayed], headers=SSE)
    server.reply(body=captured("text_stream.sse"), headers={**SSE, "x-inference-provider": "novita"})
    chat = llm(server, fallback_providers=["groq", "novita"])
    chunks = list(chat.stream("What is 1 + 1?"))
    assert posted(server) == [
        ("/v1/responses", MODEL),
        ("/v1/responses", f"{MODEL}:groq"),
        ("/v1/responses", f"{MODEL}:novita"),
    ]
    assert "".join(str(c.content) for c in chunks) == "2"
    assert chunks[-1].response_metadata["inference_provider"] == "novita"


# ---------------------------------------------------------------------------- capability routing


def test_tools_request_goes_to_a_capable_provider_from_the_router_catalog(server: LoopbackServer) -> None:
    server.reply(body=CATALOG)
    server.reply(body=captured("tool_call.json"))  # no provider header: the route names the provider
    message = llm(server).bind_tools([weather]).invoke("What is the weather like in Brooklyn, New York?")
    assert catalog_requests(server) == 1
    assert posted(server) == [("/v1/responses", f"{MODEL}:groq")]  # the fastest with tools (novita has none)
    sent = server.requests[-1].json()
    assert sent["tools"][0]["type"] == "function" and sent["tools"][0]["name"] == "weather"
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_current_weather", {"location": "Brooklyn, NY", "format": "fahrenheit"})
    ]
    assert message.response_metadata["inference_provider"] == "groq"
    assert message.response_metadata["cost"] == pytest.approx(price("groq", usage_of("tool_call.json")))


# ---------------------------------------------------------------------------- cost


def test_cost_on_invoke_and_on_the_last_streamed_chunk(server: LoopbackServer) -> None:
    server.reply(body=captured("text.json"), headers={"x-inference-provider": "groq"})
    server.reply(body=captured("text_stream.sse"), headers={**SSE, "x-inference-provider": "groq"})
    chat = llm(server, catalog=Catalog.from_json(CATALOG))
    message = chat.invoke("What is 1 + 1?")
    chunks = list(chat.stream("What is 1 + 1?"))
    expected = price("groq", usage_of("text.json"))
    assert message.response_metadata["cost"] == pytest.approx(expected)
    assert message.response_metadata["pricing"]["provider"] == "groq"
    assert all("cost" not in c.response_metadata for c in chunks[:-1])
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata is not None
    streamed = (chunks[-1].usage_metadata["input_tokens"], chunks[-1].usage_metadata["output_tokens"])
    assert chunks[-1].response_metadata["cost"] == pytest.approx(price("groq", streamed))
    assert catalog_requests(server) == 0  # a given catalog: nothing fetched


def test_async_stream_routes_falls_back_and_prices(server: LoopbackServer) -> None:
    server.reply(body=CATALOG)
    server.reply(402, OUT_OF_CREDITS)
    server.reply(body=captured("tool_call_stream.sse"), headers={**SSE, "x-inference-provider": "fireworks-ai"})
    bound = llm(server).bind_tools([weather])

    async def collect() -> list[AIMessageChunk]:
        return [c async for c in bound.astream("What is the weather like in Brooklyn, New York?")]

    chunks = asyncio.run(collect())
    assert posted(server) == [("/v1/responses", f"{MODEL}:groq"), ("/v1/responses", f"{MODEL}:fireworks-ai")]
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert [c["name"] for c in total.tool_calls] == ["get_current_weather"]
    assert chunks[-1].response_metadata["inference_provider"] == "fireworks-ai"
    assert "cost" in chunks[-1].response_metadata


# ---------------------------------------------------------------------------- the token


def test_the_ambient_token_goes_to_no_router_but_hugging_faces(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambient_secret")
    with pytest.raises(HFServerlessAuthenticationError, match="only an explicit api_key") as info:
        llm(server, api_key=None).invoke("What is 1 + 1?")
    assert "hf_ambient_secret" not in str(info.value) and "hf_ambient_secret" not in repr(info.value)
    assert server.requests == []


def test_an_explicit_api_key_goes_to_the_router_url_given(server: LoopbackServer) -> None:
    server.reply(body=captured("text.json"))
    server.reply(body=captured("text_stream.sse"), headers=SSE)
    chat = llm(server, api_key="hf_explicit")
    chat.invoke("What is 1 + 1?")
    list(chat.stream("What is 1 + 1?"))
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer hf_explicit"] * 2
    assert [r.path for r in server.requests] == ["/v1/responses"] * 2
    assert "hf_explicit" not in repr(chat)


# ---------------------------------------------------------------------------- MCP, streamed


def test_streamed_mcp_items_are_v1_content_blocks(server: LoopbackServer) -> None:
    server.reply(body=captured("mcp_stream.sse"), headers=SSE)
    server.reply(body=captured("mcp_stream.sse"), headers=SSE)
    mcp = {
        "type": "mcp",
        "server_label": "weather",
        "server_url": "https://mcp.example/mcp",
        "require_approval": "never",
    }
    given = Catalog.from_json(CATALOG)  # MCP tools reach the provider as function tools: routed to one with tools
    v1 = llm(server, output_version="v1", catalog=given).bind_tools([mcp])
    chunks = list(v1.stream("What is the weather like in Brooklyn, New York?"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    kinds = [b["type"] for b in total.content if isinstance(b, dict)]
    assert kinds == ["text", "non_standard", "server_tool_call", "server_tool_result"]  # text streamed first
    call = next(b for b in total.content_blocks if b["type"] == "server_tool_call")
    result = next(b for b in total.content_blocks if b["type"] == "server_tool_result")
    assert (call["name"], call["args"]) == ("get_current_weather", {"location": "Brooklyn, NY", "format": "fahrenheit"})
    assert (result["tool_call_id"], result["status"]) == (call["id"], "success")
    assert result["output"] == "Sunny in Brooklyn, NY, 22 degrees fahrenheit."
    assert [i["type"] for i in total.additional_kwargs["mcp"]] == ["mcp_list_tools", "mcp_call"]  # still there
    assert server.requests[0].json()["tools"] == [mcp]
    v0 = list(llm(server, catalog=given).bind_tools([mcp]).stream("What is the weather like in Brooklyn, New York?"))
    assert v0[-1].content == "" and [i["type"] for i in v0[-1].additional_kwargs["mcp"]] == [
        "mcp_list_tools",
        "mcp_call",
    ]
