"""The model catalog through a loopback router: router_url, the cached fetch, profile, capability-aware routing,
fallback order, cost, reasoning_effort, outage, and the async path.

The loopback server answers ``GET /v1/models`` with the catalog fixture of ``test_wire_catalog`` (shaped like the
router's documented answer) and the chat calls after it, in the order they come.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langchain_hfserverless import ChatHFServerless, HFServerlessAuthenticationError, HFServerlessNotFoundError
from langchain_hfserverless._provider_helpers import on_router
from langchain_hfserverless.catalog import (
    Catalog,
    aget_catalog,
    find_models,
    find_providers,
    forget_catalogs,
    get_catalog,
    load_catalog,
    save_catalog,
)
from tests.loopback import LoopbackServer, sse
from tests.unit.test_wire_catalog import CATALOG

MODEL = "openai/gpt-oss-20b"
UNSUPPORTED = {"error": {"message": "groq does not support tools", "code": "UNSUPPORTED_OPENAI_PARAMS"}}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    forget_catalogs()  # a port of an earlier test's server may come back: never answer from its catalog
    yield
    forget_catalogs()


def completion(text: str = "Paris.") -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200},
    }


def stream_body() -> list[bytes]:
    return sse(
        {"id": "c", "model": MODEL, "choices": [{"index": 0, "delta": {"content": "Par"}}]},
        {"id": "c", "model": MODEL, "choices": [{"index": 0, "delta": {"content": "is."}, "finish_reason": "stop"}]},
        {"id": "c", "model": MODEL, "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 200}},
    )


def chat(server: LoopbackServer, **kw: Any) -> ChatHFServerless:
    kw.setdefault("model", MODEL)
    return ChatHFServerless(api_key="hf_test", router_url=server.url, max_retries=0, **kw)


def weather(city: str) -> str:
    """Weather of a city."""
    return "sunny"


def posted_models(server: LoopbackServer) -> list[str]:
    return [r.json()["model"] for r in server.requests if r.method == "POST"]


def catalog_requests(server: LoopbackServer) -> int:
    return sum(r.method == "GET" and r.path == "/v1/models" for r in server.requests)


# ---------------------------------------------------------------------------- router_url


def test_router_url_field_takes_chat_there(server: LoopbackServer) -> None:
    server.reply(body=completion())
    assert chat(server).invoke("hi").content == "Paris."
    (seen,) = server.requests
    assert (seen.method, seen.path, seen.headers["authorization"]) == ("POST", "/v1/chat/completions", "Bearer hf_test")


def test_router_url_from_the_environment(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ROUTER_URL", server.url + "/")
    server.reply(body=completion())
    ChatHFServerless(model=MODEL, api_key="hf_test").invoke("hi")
    assert server.requests[0].path == "/v1/chat/completions"


def test_a_non_hf_router_never_gets_the_ambient_token(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambient_secret")
    with pytest.raises(HFServerlessAuthenticationError, match="only an explicit api_key") as info:
        ChatHFServerless(model=MODEL, router_url=server.url).invoke("hi")
    assert "hf_ambient_secret" not in str(info.value)
    assert server.requests == []


def test_provider_helper_urls_move_onto_the_router() -> None:
    assert on_router("https://router.huggingface.co/together/v1/x", "http://gw:8080") == "http://gw:8080/together/v1/x"
    assert on_router("https://api.together.xyz/v1/x", "http://gw:8080") == "https://api.together.xyz/v1/x"
    assert on_router("https://router.huggingface.co.evil/x", "http://gw") == "https://router.huggingface.co.evil/x"


def test_router_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="router_url must start with http"):
        ChatHFServerless(model=MODEL, router_url="gateway.local")


# ---------------------------------------------------------------------------- the catalog


def test_one_fetch_per_process_saved_and_loaded(server: LoopbackServer, tmp_path: Path) -> None:
    server.reply(body=CATALOG)
    first = get_catalog(server.url)
    assert get_catalog(server.url) is first  # cached: no second request
    assert catalog_requests(server) == 1
    path = tmp_path / "catalog.json"
    save_catalog(first, path)
    assert load_catalog(path).providers(MODEL) == first.providers(MODEL)


def test_async_fetch_shares_the_cache(server: LoopbackServer) -> None:
    server.reply(body=CATALOG)

    async def twice() -> tuple[Catalog, Catalog]:
        return await aget_catalog(server.url), await aget_catalog(server.url)

    one, two = asyncio.run(twice())
    assert one is two is get_catalog(server.url)
    assert catalog_requests(server) == 1


def test_failure_is_raised_and_remembered(server: LoopbackServer) -> None:
    server.reply(404, b"Not Found")
    with pytest.raises(HFServerlessNotFoundError):
        get_catalog(server.url)
    with pytest.raises(HFServerlessNotFoundError):
        get_catalog(server.url)  # remembered: no second request
    assert catalog_requests(server) == 1
    server.reply(body=CATALOG)
    assert len(get_catalog(server.url, refresh=True)) == 2


def test_queries_cheapest_first_with_tools() -> None:
    catalog = Catalog.from_json(CATALOG)
    offers = find_providers(catalog, MODEL, needs={"tools"}, order="cheapest")
    assert [o.provider for o in offers] == ["hf-inference", "fireworks-ai", "groq"]
    preferred = find_providers(catalog, MODEL, order="preferred")  # the router's listing order, live only
    assert [o.provider for o in preferred] == ["fireworks-ai", "novita", "groq", "hf-inference"]
    assert [m.id for m in find_models(catalog, {"image_input"})] == ["Qwen/Qwen2.5-VL-7B-Instruct"]


# ---------------------------------------------------------------------------- profile


def test_profile_from_a_given_catalog_or_snapshot(tmp_path: Path, server: LoopbackServer) -> None:
    path = tmp_path / "catalog.json"
    save_catalog(Catalog.from_json(CATALOG), path)
    auto = chat(server, catalog=str(path)).profile
    assert auto is not None
    # Auto routing: what holds for every live provider (novita: 64k, no tools).
    assert (auto["max_input_tokens"], auto["tool_calling"], auto["image_inputs"]) == (65536, False, False)
    groq = chat(server, model=f"{MODEL}:groq", catalog=path).profile
    assert groq is not None and (groq["max_input_tokens"], groq["tool_calling"]) == (131072, True)
    assert "reasoning_output" not in groq  # never guessed
    assert server.requests == []


def test_profile_never_fetches_at_construction_and_uses_the_cache(server: LoopbackServer) -> None:
    assert chat(server).profile is None
    assert server.requests == []
    server.reply(body=CATALOG)
    get_catalog(server.url)
    profile = chat(server).profile
    assert profile is not None and profile["max_input_tokens"] == 65536


def test_base_url_model_has_no_profile() -> None:
    llm = ChatHFServerless(base_url="http://127.0.0.1:9", model=MODEL, catalog=Catalog.from_json(CATALOG))
    assert llm.profile is None


# ---------------------------------------------------------------------------- capability-aware routing


@pytest.mark.parametrize(
    ("model", "needs", "sent"),
    [
        (MODEL, "tools", f"{MODEL}:groq"),  # fastest: groq ties fireworks on throughput, answers sooner
        (f"{MODEL}:fastest", "structured", f"{MODEL}:groq"),
        (f"{MODEL}:cheapest", "tools", f"{MODEL}:hf-inference"),  # free
        (f"{MODEL}:preferred", "tools", f"{MODEL}:preferred"),  # the router's (the user's) order
        (f"{MODEL}:novita", "tools", f"{MODEL}:novita"),  # an explicit provider is never overridden
    ],
)
def test_routing_follows_the_policy(server: LoopbackServer, model: str, needs: str, sent: str) -> None:
    chosen = sent != model  # the catalog is asked only when there is something to choose
    if chosen:
        server.reply(body=CATALOG)
    server.reply(body=completion())
    llm = chat(server, model=model)
    bound = llm.bind_tools([weather]) if needs == "tools" else llm.bind(response_format={"type": "json_object"})
    message = bound.invoke("hi")
    assert posted_models(server) == [sent]
    assert catalog_requests(server) == int(chosen)
    if chosen:
        assert message.response_metadata["inference_provider"] == sent.rpartition(":")[2]


def test_without_needs_or_when_off_the_catalog_is_not_asked(server: LoopbackServer) -> None:
    server.reply(body=completion())
    server.reply(body=completion())
    chat(server).invoke("hi")
    chat(server, capability_routing=False).bind_tools([weather]).invoke("hi")
    assert posted_models(server) == [MODEL, MODEL]
    assert catalog_requests(server) == 0


def test_next_choice_is_the_next_capable_provider(server: LoopbackServer) -> None:
    server.reply(body=CATALOG)
    server.reply(400, UNSUPPORTED)
    server.reply(body=completion())
    message = chat(server).bind_tools([weather]).invoke("hi")
    assert posted_models(server) == [f"{MODEL}:groq", f"{MODEL}:fireworks-ai"]
    assert message.response_metadata["inference_provider"] == "fireworks-ai"


def test_fallback_providers_keep_only_capable_ones(server: LoopbackServer) -> None:
    server.reply(body=CATALOG)
    server.reply(400, UNSUPPORTED)
    server.reply(body=completion())
    llm = chat(server, fallback_providers=["novita", "hf-inference"])  # novita: no tools
    llm.bind_tools([weather]).invoke("hi")
    assert posted_models(server) == [f"{MODEL}:groq", f"{MODEL}:hf-inference"]


def test_catalog_outage_behaves_as_before_with_one_request(server: LoopbackServer) -> None:
    server.reply(404, b"Not Found")
    server.reply(body=completion())
    server.reply(body=completion())
    bound = chat(server).bind_tools([weather])
    bound.invoke("hi")
    bound.invoke("hi")
    assert posted_models(server) == [MODEL, MODEL]
    assert catalog_requests(server) == 1


def test_a_model_the_catalog_does_not_list_goes_as_before(server: LoopbackServer) -> None:
    server.reply(body=CATALOG)
    server.reply(body=completion())
    chat(server, model="nobody/nothing").bind_tools([weather]).invoke("hi")
    assert posted_models(server) == ["nobody/nothing"]


def test_async_routing_and_cost(server: LoopbackServer) -> None:
    server.reply(body=CATALOG)
    server.reply(body=completion())
    server.reply(body=stream_body())
    bound = chat(server).bind_tools([weather])

    async def both() -> tuple[Any, Any]:
        message = await bound.ainvoke("hi")
        chunks = [chunk async for chunk in bound.astream("hi")]
        return message, chunks

    message, chunks = asyncio.run(both())
    assert posted_models(server) == [f"{MODEL}:groq", f"{MODEL}:groq"]
    assert catalog_requests(server) == 1
    assert message.response_metadata["cost"] == pytest.approx((1000 * 0.1 + 200 * 0.5) / 1e6)
    assert chunks[-1].response_metadata["cost"] == pytest.approx((1000 * 0.1 + 200 * 0.5) / 1e6)


# ---------------------------------------------------------------------------- cost


def test_cost_from_the_serving_provider_header(server: LoopbackServer) -> None:
    server.reply(body=completion(), headers={"x-inference-provider": "novita"})
    message = chat(server, catalog=Catalog.from_json(CATALOG)).invoke("hi")
    assert message.response_metadata["cost"] == pytest.approx((1000 * 0.032 + 200 * 0.12) / 1e6)
    assert message.response_metadata["pricing"] == {
        "provider": "novita",
        "input": 0.032,
        "output": 0.12,
        "unit": "USD per million tokens",
    }


def test_cost_of_a_stream_is_on_its_last_chunk(server: LoopbackServer) -> None:
    server.reply(body=stream_body(), headers={"x-inference-provider": "groq"})
    chunks = list(chat(server, catalog=Catalog.from_json(CATALOG)).stream("hi"))
    assert "cost" not in chunks[0].response_metadata
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].response_metadata["cost"] == pytest.approx((1000 * 0.1 + 200 * 0.5) / 1e6)


def test_free_provider_costs_nothing_and_unknown_is_left_out(server: LoopbackServer) -> None:
    server.reply(body=completion(), headers={"x-inference-provider": "hf-inference"})
    server.reply(body=completion(), headers={"x-inference-provider": "someone-else"})
    llm = chat(server, catalog=Catalog.from_json(CATALOG))
    assert llm.invoke("hi").response_metadata["cost"] == 0.0
    assert "cost" not in llm.invoke("hi").response_metadata


def test_no_cost_without_a_catalog_at_hand(server: LoopbackServer) -> None:
    server.reply(body=completion(), headers={"x-inference-provider": "groq"})
    assert "cost" not in chat(server).invoke("hi").response_metadata
    assert catalog_requests(server) == 0


# ---------------------------------------------------------------------------- reasoning_effort


def test_reasoning_effort_sent_only_when_set(server: LoopbackServer) -> None:
    for _ in range(3):
        server.reply(body=completion())
    chat(server).invoke("hi")
    chat(server, reasoning_effort="high").invoke("hi")
    chat(server, reasoning_effort="high").invoke("hi", reasoning_effort="low")
    sent = [r.json().get("reasoning_effort") for r in server.requests]
    assert sent == [None, "high", "low"]
    assert "reasoning_effort" not in server.requests[0].json()


def test_reasoning_effort_is_checked() -> None:
    with pytest.raises(ValueError, match="reasoning_effort"):
        ChatHFServerless(model=MODEL, reasoning_effort="extreme")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reasoning_effort must be one of"):
        ChatHFServerless(model=MODEL, api_key="hf_x").invoke("hi", reasoning_effort="extreme")


def test_given_catalog_is_not_changed_by_routing(server: LoopbackServer) -> None:
    source = copy.deepcopy(CATALOG)
    server.reply(body=completion())
    chat(server, catalog=Catalog.from_json(source)).bind_tools([weather]).invoke("hi")
    assert posted_models(server) == [f"{MODEL}:groq"]
    assert catalog_requests(server) == 0


# ---------------------------------------------------------------------------- the pure pieces


def test_capable_order_and_what_a_request_needs() -> None:
    from langchain_hfserverless._wire.capability import request_needs, routing_policy
    from langchain_hfserverless._wire.fallback import capable_order

    assert capable_order(["a", "b", "c"], []) == ["a", "b", "c"]
    assert capable_order(["a", "b", "c"], ["x", "c", "a", "c"]) == ["a", "c"]
    assert capable_order([], ["a"]) == []
    assert request_needs({"tools": [{}], "response_format": {"type": "json_object"}}) == {"tools", "structured_output"}
    assert request_needs({"tool_choice": "none"}) == frozenset()
    assert [routing_policy(m, "auto") for m in ("o/m", "o/m:cheapest", "o/m:preferred", "o/m:groq")] == [
        "fastest",
        "cheapest",
        None,
        None,
    ]
    assert routing_policy("o/m", "together") is None
