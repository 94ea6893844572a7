"""Replay of the real recorded feature-extraction and text-generation traffic through our classes.

Every recorded POST of ``../shared/hf-recordings`` that did feature extraction or text generation is replayed twice
over where it can be:

* **through ``base_url``**: the loopback server sits at the recorded path and answers what was recorded. The call
  is rebuilt from the recorded body: its parameters become the model's fields (keys that are not fields, and
  ``null`` values the recording carried, go through ``model_kwargs``, which is sent as given). The request our
  class sends must equal the recorded body, JSON for JSON; the answer must come back as recorded (the text, the
  token details, the vectors; or the typed error with the server's status and words).
* **through the router, as a new user would**: for recordings that hold huggingface_hub's Hub lookup and a router
  URL the current provider helper still builds, vcrpy replays the whole cassette (``record_mode="none"``,
  matching on method, URL and JSON body) under ``HFServerlessLLM(model=..., provider="hf-inference")``.

Some recordings did not store their request body (aiohttp-era async tests): for those only the answer is checked,
with a placeholder prompt. Without the shared folder the module is skipped (see ``conftest.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from langchain_hfserverless._wire.errors import server_message
from langchain_hfserverless._wire.text_generation import PARAMETER_FIELDS
from langchain_hfserverless.embeddings import HFServerlessEmbeddings
from langchain_hfserverless.errors import HFServerlessError
from langchain_hfserverless.llms import HFServerlessLLM
from tests.loopback import LoopbackServer
from tests.replay.recordings import SHARED, Interaction, all_interactions
from tests.unit.test_wire_sse import decode_all

pytestmark = pytest.mark.replay

SHARED_FOLDER = Path(__file__).resolve().parents[2].parent / "shared"
assert SHARED_FOLDER / "hf-recordings" == SHARED


def _stem(interaction: Interaction) -> str:
    return interaction.cassette.rsplit("/", 1)[-1]


def _is_feature_extraction(interaction: Interaction) -> bool:
    return interaction.method == "POST" and "feature-extraction" in interaction.uri


def _is_text_generation(interaction: Interaction) -> bool:
    return interaction.method == "POST" and "generate" in _stem(interaction) and not interaction.is_chat_completion


def _interactions(keep: Callable[[Interaction], bool]) -> list[Any]:
    return [pytest.param(i, id=i.id) for i in all_interactions() if keep(i)]


def _path(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _is_stream(interaction: Interaction) -> bool:
    return (interaction.response_header("content-type") or "").startswith("text/event-stream")


def _llm_call(body: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The prompt and the ``HFServerlessLLM`` arguments that send ``body``."""
    if body is None:
        return "test", {}
    parameters = dict(body.get("parameters") or {})
    fields = {k: v for k, v in parameters.items() if k in (*PARAMETER_FIELDS, "stop") and v is not None}
    extra = {k: v for k, v in parameters.items() if k not in fields}
    return body["inputs"], {**fields, "model_kwargs": extra}


def _check_text_answer(interaction: Interaction, run: Callable[[], Any]) -> None:
    """``run()`` yields our text + generation_info, or raises: compare with the recorded answer."""
    if interaction.status >= 400:
        with pytest.raises(HFServerlessError) as caught:
            run()
        assert caught.value.status_code == interaction.status
        assert caught.value.server_message == server_message(interaction.response_body)
        return
    text, info = run()
    if _is_stream(interaction):
        events = decode_all(interaction.response_body.decode().splitlines())
        expected = "".join(e["token"]["text"] for e in events if not e["token"]["special"])
        assert text == expected
        details = events[-1].get("details")
        if details:
            assert info["finish_reason"] == details["finish_reason"]
        assert [t["id"] for t in info["tokens"]] == [e["token"]["id"] for e in events]
        return
    recorded = interaction.response_json()
    answer = recorded[0] if isinstance(recorded, list) else recorded
    assert text == answer["generated_text"]
    if answer.get("details"):
        assert info["details"] == answer["details"]
        assert info["finish_reason"] == answer["details"]["finish_reason"]


def _generate(llm: HFServerlessLLM, prompt: str, stream: bool) -> tuple[str, dict[str, Any]]:
    if stream:
        chunks = list(llm._stream(prompt))
        return "".join(c.text for c in chunks), chunks[-1].generation_info or {}
    generation = llm.generate([prompt]).generations[0][0]
    return generation.text, generation.generation_info or {}


# ---------------------------------------------------------------------------------------------- text generation


@pytest.mark.parametrize("interaction", _interactions(_is_text_generation))
def test_text_generation_replay(
    interaction: Interaction, serve_recording: Callable[[Interaction], LoopbackServer]
) -> None:
    server = serve_recording(interaction)
    recorded_body = interaction.request_json()
    prompt, kwargs = _llm_call(recorded_body)
    stream = bool(recorded_body["stream"]) if recorded_body is not None else _is_stream(interaction)
    llm = HFServerlessLLM(base_url=server.url + _path(interaction.uri), max_retries=0, **kwargs)
    _check_text_answer(interaction, lambda: _generate(llm, prompt, stream))
    seen = server.requests[0]
    assert seen.path == _path(interaction.uri)
    if recorded_body is not None:
        assert seen.json() == recorded_body


@pytest.mark.parametrize("interaction", _interactions(lambda i: _is_text_generation(i) and not _is_stream(i)))
async def test_text_generation_replay_async(
    interaction: Interaction, serve_recording: Callable[[Interaction], LoopbackServer]
) -> None:
    server = serve_recording(interaction)
    recorded_body = interaction.request_json()
    prompt, kwargs = _llm_call(recorded_body)
    llm = HFServerlessLLM(base_url=server.url + _path(interaction.uri), max_retries=0, **kwargs)
    outcome: dict[str, Any] = {}
    try:
        generation = (await llm.agenerate([prompt])).generations[0][0]
        outcome["value"] = (generation.text, generation.generation_info or {})
    except HFServerlessError as exc:
        outcome["error"] = exc

    def result() -> tuple[str, dict[str, Any]]:
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    _check_text_answer(interaction, result)
    if recorded_body is not None:
        assert server.requests[0].json() == recorded_body


# ---------------------------------------------------------------------------------------------- feature extraction


def _expected_vectors(answer: Any, single: bool) -> list[np.ndarray]:
    """Independent reading of the recorded answer: squeeze leading 1s, mean over tokens when token-level."""
    items = [answer] if single else answer
    vectors = []
    for item in items:
        array = np.asarray(item, dtype=np.float64)
        while array.ndim > 2 and array.shape[0] == 1:
            array = array[0]
        if array.ndim == 2:
            array = array[0] if array.shape[0] == 1 else array.mean(axis=0)
        vectors.append(array)
    return vectors


@pytest.mark.parametrize("interaction", _interactions(_is_feature_extraction))
def test_feature_extraction_replay(
    interaction: Interaction, serve_recording: Callable[[Interaction], LoopbackServer]
) -> None:
    server = serve_recording(interaction)
    recorded_body = interaction.request_json()
    assert recorded_body is not None
    extra = {k: v for k, v in recorded_body.items() if k != "inputs"}
    embeddings = HFServerlessEmbeddings(base_url=server.url + _path(interaction.uri), model_kwargs=extra)
    inputs = recorded_body["inputs"]
    single = isinstance(inputs, str)
    vectors = [embeddings.embed_query(inputs)] if single else embeddings.embed_documents(inputs)
    expected = _expected_vectors(interaction.response_json(), single)
    assert len(vectors) == len(expected)
    for ours, theirs in zip(vectors, expected, strict=True):
        assert all(isinstance(x, float) for x in ours)
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    seen = server.requests[0]
    assert seen.path == _path(interaction.uri)
    assert seen.json() == recorded_body


@pytest.mark.parametrize("interaction", _interactions(_is_feature_extraction))
async def test_feature_extraction_replay_async(
    interaction: Interaction, serve_recording: Callable[[Interaction], LoopbackServer]
) -> None:
    server = serve_recording(interaction)
    recorded_body = interaction.request_json()
    assert recorded_body is not None
    extra = {k: v for k, v in recorded_body.items() if k != "inputs"}
    embeddings = HFServerlessEmbeddings(base_url=server.url + _path(interaction.uri), model_kwargs=extra)
    inputs = recorded_body["inputs"]
    single = isinstance(inputs, str)
    vectors = [await embeddings.aembed_query(inputs)] if single else await embeddings.aembed_documents(inputs)
    for ours, theirs in zip(vectors, _expected_vectors(interaction.response_json(), single), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert server.requests[0].json() == recorded_body


# ---------------------------------------------------------------------------------------------- the router path


def _router_replayable(interaction: Interaction) -> bool:
    """A router text-generation POST whose cassette also holds the Hub lookup the hf-inference helper makes."""
    if not (
        _is_text_generation(interaction) and interaction.uri.startswith("https://router.huggingface.co/hf-inference/")
    ):
        return False
    if interaction.request_json() is None:
        return False
    model = interaction.uri.split("/hf-inference/models/", 1)[-1]
    lookup = f"https://huggingface.co/api/models/{model}"
    return any(i.cassette == interaction.cassette and i.uri == lookup for i in all_interactions())


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _json_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: JSON bodies equal as JSON; an empty body equals a missing one (GETs).

    ``null`` parameters count as absent: the recordings' huggingface_hub sent them, today's provider helper drops
    them before we see the body (and TGI reads ``null`` as "not set").
    """
    b1, b2 = r1.body or b"", r2.body or b""
    if not b1 or not b2:
        assert not b1 and not b2
        return
    try:
        assert _without_nulls(json.loads(b1)) == _without_nulls(json.loads(b2))
    except ValueError:
        assert b1 == b2


@pytest.fixture
def fresh_hub_lookups() -> None:
    """huggingface_hub caches its Hub lookups per process: clear them so the cassette's lookup is replayed."""
    from huggingface_hub.inference._providers import _common, hf_inference

    hf_inference._check_supported_task.cache_clear()
    _common._fetch_inference_provider_mapping.cache_clear()


@pytest.mark.parametrize("interaction", _interactions(_router_replayable))
def test_text_generation_router_replay(interaction: Interaction, fresh_hub_lookups: None) -> None:
    import vcr

    replay = vcr.VCR(record_mode="none", match_on=["method", "uri", "json_body"])
    replay.register_matcher("json_body", _json_body)
    recorded_body = interaction.request_json()
    prompt, kwargs = _llm_call(recorded_body)
    model = interaction.uri.split("/hf-inference/models/", 1)[-1]
    llm = HFServerlessLLM(
        model=model, provider="hf-inference", api_key="hf_replay_placeholder", max_retries=0, **kwargs
    )
    with replay.use_cassette(str(SHARED / interaction.cassette), allow_playback_repeats=True) as cassette:
        _check_text_answer(interaction, lambda: _generate(llm, prompt, bool(recorded_body["stream"])))
        played = {(r.method, r.uri) for i, (r, _) in enumerate(cassette.data) if cassette.play_counts[i]}
    assert ("POST", interaction.uri) in played  # our route is the recorded router URL
    assert ("GET", f"https://huggingface.co/api/models/{model}") in played  # huggingface_hub's task check
