"""The router's model catalog (GET /v1/models): reading, snapshots, provider choice, profiles and cost."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from langchain_hfserverless._wire.catalog import Catalog, choose_provider, cost, model_profile

# SYNTHETIC catalog. Its shape is the router's GET /v1/models as recorded on 2025-12-31 in
# ../shared/hf-recordings/chatlas/tests/_vcr/test_provider_huggingface/test_huggingface_model_list.yaml (object/data,
# id, created, owned_by, architecture.{input,output}_modalities, providers[].{provider, status, context_length,
# pricing.{input,output}, supports_tools, supports_structured_output, is_model_author}), plus the per-provider
# fields the issue lists as documented since (is_free, first_token_latency_ms, throughput) and status "error".
# Model ids are real, every number is made up.
CATALOG: dict[str, Any] = {
    "object": "list",
    "data": [
        {
            "id": "openai/gpt-oss-20b",
            "object": "model",
            "created": 1754346809,
            "owned_by": "openai",
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "providers": [
                {
                    "provider": "fireworks-ai",
                    "status": "live",
                    "context_length": 131072,
                    "pricing": {"input": 0.05, "output": 0.2},
                    "supports_tools": True,
                    "supports_structured_output": False,
                    "first_token_latency_ms": 310,
                    "throughput": 180.5,
                    "is_model_author": False,
                },
                {
                    "provider": "novita",
                    "status": "live",
                    "context_length": 65536,
                    "pricing": {"input": 0.032, "output": 0.12},
                    "supports_tools": False,
                    "supports_structured_output": True,
                    "first_token_latency_ms": 900,
                    "throughput": 60,
                    "is_model_author": False,
                },
                {
                    "provider": "groq",
                    "status": "live",
                    "context_length": 131072,
                    "pricing": {"input": 0.1, "output": 0.5},
                    "supports_tools": True,
                    "supports_structured_output": True,
                    "first_token_latency_ms": 120,
                    "throughput": 180.5,
                    "is_model_author": False,
                },
                {
                    "provider": "nebius",
                    "status": "error",
                    "context_length": 131072,
                    "pricing": {"input": 0.01, "output": 0.01},
                    "supports_tools": True,
                    "supports_structured_output": True,
                    "throughput": 900,
                    "is_model_author": False,
                },
                {
                    "provider": "hf-inference",
                    "status": "live",
                    "context_length": 131072,
                    "is_free": True,
                    "supports_tools": True,
                    "supports_structured_output": True,
                    "is_model_author": False,
                },
            ],
        },
        {
            "id": "Qwen/Qwen2.5-VL-7B-Instruct",
            "object": "model",
            "created": 1737982800,
            "owned_by": "Qwen",
            "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
            "providers": [
                {"provider": "hyperbolic", "status": "live", "context_length": 32768, "is_model_author": False},
                {
                    "provider": "nebius",
                    "status": "live",
                    "context_length": 32000,
                    "pricing": {"input": 0.2, "output": 0.6},
                    "supports_tools": True,
                    "supports_structured_output": True,
                    "is_model_author": False,
                    "region": "eu",  # an unknown field: kept by snapshots, ignored by queries
                },
            ],
        },
    ],
}


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.from_json(json.dumps(CATALOG))


def test_providers_keep_capabilities_prices_and_speed(catalog: Catalog) -> None:
    offers = {o.provider: o for o in catalog.providers("openai/gpt-oss-20b")}
    assert list(offers) == ["fireworks-ai", "novita", "groq", "nebius", "hf-inference"]
    groq = offers["groq"]
    assert (groq.input_price, groq.output_price, groq.context_length) == (0.1, 0.5, 131072)
    assert (groq.first_token_latency_ms, groq.throughput, groq.supports_tools) == (120, 180.5, True)
    assert offers["nebius"].live is False
    assert offers["hf-inference"].prices() == (0.0, 0.0)
    assert offers["hf-inference"].throughput is None  # missing means unknown, not 0


def test_single_model_form_and_suffixes(catalog: Catalog) -> None:
    single = Catalog.from_json(CATALOG["data"][1])
    assert [m.id for m in single] == ["Qwen/Qwen2.5-VL-7B-Instruct"]
    assert catalog.model("openai/gpt-oss-20b:cheapest").id == "openai/gpt-oss-20b"
    assert "openai/gpt-oss-20b:groq" in catalog
    assert catalog.get("nobody/nothing") is None
    with pytest.raises(ValueError, match="'nobody/nothing' is not in the router's catalog"):
        catalog.providers("nobody/nothing")


def test_tolerates_missing_and_odd_fields() -> None:
    odd = Catalog.from_json(
        {
            "data": [
                {"id": "a/b"},  # no architecture, no providers
                {"object": "model"},  # no id: skipped
                {
                    "id": "c/d",
                    "providers": [
                        {
                            "provider": "x",
                            "status": "live",
                            "pricing": "n/a",
                            "context_length": "big",
                            "throughput": -1,
                        },
                        {"status": "live"},  # no provider name: skipped
                        "junk",
                    ],
                },
            ]
        }
    )
    assert [m.id for m in odd] == ["a/b", "c/d"]
    (offer,) = odd.providers("c/d")
    assert (offer.input_price, offer.context_length, offer.throughput) == (None, None, None)
    assert model_profile(odd, "a/b") == {}
    with pytest.raises(ValueError, match="neither a 'data' list"):
        Catalog.from_json({"object": "list"})
    with pytest.raises(ValueError, match="not JSON"):
        Catalog.from_json(b"<html>")


def test_snapshot_round_trip_keeps_unknown_fields(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_bytes(catalog.snapshot())
    loaded = Catalog.from_json(path.read_bytes())
    assert json.loads(loaded.snapshot()) == CATALOG
    assert loaded.providers("openai/gpt-oss-20b") == catalog.providers("openai/gpt-oss-20b")


def test_catalog_is_immutable_against_its_source() -> None:
    source = copy.deepcopy(CATALOG)
    catalog = Catalog.from_json(source)
    source["data"][0]["providers"].clear()
    source["data"][0]["id"] = "changed"
    assert len(catalog.providers("openai/gpt-oss-20b")) == 5
    assert json.loads(catalog.snapshot()) == CATALOG
    with pytest.raises(AttributeError):
        catalog.providers("openai/gpt-oss-20b")[0].throughput = 1.0  # type: ignore[misc]


def test_fastest_orders_by_throughput_then_latency_unknown_last(catalog: Catalog) -> None:
    # groq and fireworks tie on throughput; groq answers first. nebius (fastest) is not live.
    assert choose_provider(catalog, "openai/gpt-oss-20b") == ["groq", "fireworks-ai", "novita", "hf-inference"]


def test_cheapest_orders_by_price_free_first(catalog: Catalog) -> None:
    got = choose_provider(catalog, "openai/gpt-oss-20b", policy="cheapest")
    assert got == ["hf-inference", "novita", "fireworks-ai", "groq"]


def test_needs_filter_out_providers_that_do_not_say_yes(catalog: Catalog) -> None:
    model = "openai/gpt-oss-20b"
    assert choose_provider(catalog, model, needs={"tools"}, policy="cheapest") == [
        "hf-inference",
        "fireworks-ai",
        "groq",
    ]
    both = choose_provider(catalog, model, needs={"tools", "structured_output"}, exclude=["hf-inference"])
    assert both == ["groq"]
    # hyperbolic does not say whether it supports tools: not chosen for a tool call.
    assert choose_provider(catalog, "Qwen/Qwen2.5-VL-7B-Instruct", needs={"tools", "image_input"}) == ["nebius"]
    assert choose_provider(catalog, model, needs={"image_input"}) == []


def test_preferred_leaves_the_choice_to_the_router(catalog: Catalog) -> None:
    assert choose_provider(catalog, "openai/gpt-oss-20b", needs={"tools"}, policy="preferred") is None


def test_bad_policy_and_need_are_named(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="'quickest'"):
        choose_provider(catalog, "openai/gpt-oss-20b", policy="quickest")
    with pytest.raises(ValueError, match="'vision'"):
        choose_provider(catalog, "openai/gpt-oss-20b", needs={"vision"})


def test_profile_for_a_provider(catalog: Catalog) -> None:
    profile = model_profile(catalog, "openai/gpt-oss-20b", "novita")
    assert profile == {
        "max_input_tokens": 65536,
        "tool_calling": False,
        "structured_output": True,
        "text_inputs": True,
        "image_inputs": False,
        "text_outputs": True,
    }
    assert model_profile(catalog, "openai/gpt-oss-20b:groq")["max_input_tokens"] == 131072
    with pytest.raises(ValueError, match="'together' does not serve"):
        model_profile(catalog, "openai/gpt-oss-20b", "together")


def test_profile_under_auto_routing_holds_for_every_live_provider(catalog: Catalog) -> None:
    profile = model_profile(catalog, "openai/gpt-oss-20b")
    assert profile["max_input_tokens"] == 65536  # the smallest live window
    assert profile["tool_calling"] is False  # novita says no, and auto may land there
    assert "reasoning_output" not in profile  # the catalog does not say
    vl = model_profile(catalog, "Qwen/Qwen2.5-VL-7B-Instruct:fastest")
    assert vl["image_inputs"] is True
    assert vl["max_input_tokens"] == 32000
    assert "tool_calling" not in vl  # hyperbolic does not say, nebius says yes: unknown


def test_cost(catalog: Catalog) -> None:
    usage = {"input_tokens": 1_000_000, "output_tokens": 500_000, "total_tokens": 1_500_000}
    groq = cost(catalog, "openai/gpt-oss-20b", "groq", usage)
    assert groq.usd == pytest.approx(0.1 + 0.25)
    assert (groq.input_price, groq.output_price) == (0.1, 0.5)
    assert cost(catalog, "openai/gpt-oss-20b", "hf-inference", usage).usd == 0
    openai_usage = {"prompt_tokens": 2000, "completion_tokens": 1000}
    assert cost(catalog, "openai/gpt-oss-20b", "novita", openai_usage).usd == pytest.approx(0.000184)
    assert cost(catalog, "Qwen/Qwen2.5-VL-7B-Instruct", "hyperbolic", usage).usd is None
    assert cost(catalog, "openai/gpt-oss-20b", "together", usage).usd is None


RECORDED = (
    Path(__file__).resolve().parents[3]
    / "shared/hf-recordings/chatlas/tests/_vcr/test_provider_huggingface/test_huggingface_model_list.yaml"
)


@pytest.mark.skipif(not RECORDED.exists(), reason="../shared/hf-recordings is not beside the checkout")
def test_real_recorded_catalog() -> None:
    """The router's real answer (recorded 2025-12-31, read in place): every model and provider is read."""
    body = yaml.safe_load(RECORDED.read_text())["interactions"][0]["response"]["body"]["string"]
    raw = json.loads(body)
    catalog = Catalog.from_json(body)
    assert len(catalog) == len(raw["data"])
    assert sum(len(m.providers) for m in catalog) == sum(len(m["providers"]) for m in raw["data"])
    glm = catalog.providers("zai-org/GLM-4.7")
    assert [(o.provider, o.context_length) for o in glm] == [("novita", 204800), ("zai-org", None)]
    # zai-org gives no context length: under auto routing the window is unknown, not novita's.
    assert "max_input_tokens" not in model_profile(catalog, "zai-org/GLM-4.7")
    assert choose_provider(catalog, "zai-org/GLM-4.7", needs={"structured_output"}) == ["novita"]
