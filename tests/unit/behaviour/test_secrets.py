"""Secret hygiene: the token never shows up where it could leak, and the ambient token never leaves Hugging Face.

Covered: repr/str, ``model_dump``, LangChain serialization (``dumpd``/``dumps``), what tracing callbacks receive,
DEBUG logs of every logger (httpx2/httpcore2 included) during real loopback calls, exception messages, the files
under ``cassettes/``; and which requests carry ``Authorization`` at all.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps

from langchain_hfserverless import ChatHFServerless, HFServerlessError
from langchain_hfserverless._transport import RouterTransport
from langchain_hfserverless._wire.routing import is_hf_url
from tests.conftest import CASSETTES
from tests.loopback import LoopbackServer, sse

TOKEN = "hf_FAKEsecretForHygieneTests0123456789"
AMBIENT = "hf_FAKEambientTokenFromTheEnvironment42"
ANSWER = {
    "id": "c1",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
}
STREAM = sse({"id": "c2", "model": "m", "choices": [{"index": 0, "delta": {"content": "yo"}, "finish_reason": "stop"}]})
# Real HF tokens are "hf_" and 34 letters/digits; anything that long after "hf_" in a cassette is a leak.
TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{30,}")


def model(server: LoopbackServer, **kwargs: Any) -> ChatHFServerless:
    return ChatHFServerless(base_url=server.url, model="m", api_key=TOKEN, max_retries=1, **kwargs)


def auth_of(server: LoopbackServer) -> list[str | None]:
    return [next((v for k, v in r.headers.items() if k.lower() == "authorization"), None) for r in server.requests]


# ------------------------------------------------------------------------------------------------ the model object


@pytest.mark.parametrize("alias", ["api_key", "hf_token", "huggingfacehub_api_token"])
def test_token_never_in_repr_str_or_dump(alias: str) -> None:
    llm = ChatHFServerless(model="org/m", **{alias: TOKEN})
    assert llm.api_key is not None and llm.api_key.get_secret_value() == TOKEN  # it is really there...
    for text in (repr(llm), str(llm), str(llm.model_dump()), llm.model_dump_json(), repr(llm._transport)):
        assert TOKEN not in text  # ...but never shown


def test_token_never_in_langchain_serialization() -> None:
    llm = ChatHFServerless(model="org/m", api_key=TOKEN, temperature=0.2)
    serialized = dumpd(llm)
    assert TOKEN not in dumps(llm) and TOKEN not in str(serialized)
    assert serialized["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["HF_TOKEN"]}


def test_route_repr_hides_its_headers() -> None:
    route = RouterTransport(api_key=TOKEN, base_url="http://127.0.0.1:1").chat_route("m")
    assert route.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(route) and TOKEN not in str(route)


class _Recorder(BaseCallbackHandler):
    """What a tracer (LangSmith and friends) is handed about a call."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.seen.append(repr((serialized, messages, kwargs)))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.seen.append(repr((response, kwargs)))

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.seen.append(repr((error, str(error), kwargs)))


def test_token_never_handed_to_tracing_callbacks(server: LoopbackServer) -> None:
    server.reply(body=ANSWER)
    server.reply(body=STREAM)
    server.reply(401, {"error": "Invalid credentials in Authorization header"})
    recorder = _Recorder()
    llm = model(server, callbacks=[recorder])
    llm.invoke("hello")
    list(llm.stream("hello"))
    with pytest.raises(HFServerlessError):
        llm.invoke("hello")
    assert len(recorder.seen) == 6
    assert all(TOKEN not in seen for seen in recorder.seen)


# ------------------------------------------------------------------------------------------------ logs and errors


def test_token_never_in_debug_logs(server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # root: langchain_hfserverless, httpx2, httpcore2, huggingface_hub alike
    for name in ("httpx2", "httpcore2", "langchain_hfserverless", "huggingface_hub"):
        caplog.set_level(logging.DEBUG, logger=name)
    server.reply(body=ANSWER)
    server.reply(body=STREAM)
    server.reply(503, {"error": "Model m is currently loading", "estimated_time": 0.01})  # retried, logged
    server.reply(body=ANSWER)
    server.reply(401, {"error": "Invalid username or password."})
    llm = model(server)
    llm.invoke("hello")
    list(llm.stream("hello"))
    llm.invoke("hello")
    with pytest.raises(HFServerlessError):
        llm.invoke("hello")

    assert auth_of(server) == [f"Bearer {TOKEN}"] * 5  # the token was really on the wire...
    assert any(r.name.startswith("httpcore2") for r in caplog.records)  # ...with transport-level logging on
    assert any("Retrying" in r.getMessage() for r in caplog.records)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() and TOKEN not in repr(r.args) for r in caplog.records)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "Invalid username or password."}),
        (403, {"error": "Authorization header is correct, but the token seems invalid"}),
        (429, {"error": "Rate limit reached"}),
        (500, "Internal Server Error"),
    ],
)
def test_token_never_in_error_messages(server: LoopbackServer, status: int, body: Any) -> None:
    server.default = None
    for _ in range(3):
        server.reply(status, body, headers={"retry-after": "0"})
    with pytest.raises(HFServerlessError) as info:
        model(server).invoke("hello")
    assert info.value.status_code == status
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value.args)


def test_a_server_echoing_the_token_does_not_put_it_in_the_error(server: LoopbackServer) -> None:
    server.reply(401, {"error": f"Invalid token: Bearer {TOKEN}"})
    with pytest.raises(HFServerlessError) as info:
        model(server).invoke("hello")
    assert "Invalid token" in str(info.value)
    assert TOKEN not in str(info.value) and TOKEN not in (info.value.server_message or "")


def test_an_error_event_echoing_the_token_does_not_put_it_in_the_error(server: LoopbackServer) -> None:
    server.reply(body=sse({"error": f"upstream rejected Bearer {TOKEN}", "error_type": "auth"}, done=False))
    with pytest.raises(HFServerlessError) as info:
        list(model(server).stream("hello"))
    assert "upstream rejected" in str(info.value)
    assert TOKEN not in str(info.value) and TOKEN not in (info.value.server_message or "")


def test_token_never_in_connection_or_timeout_errors(server: LoopbackServer) -> None:
    server.reply(reset=True)
    server.reply(reset=True)
    server.reply(body=ANSWER, delay=1.0)
    llm = ChatHFServerless(base_url=server.url, model="m", api_key=TOKEN, max_retries=1, timeout=0.2)
    with pytest.raises(HFServerlessError) as reset:
        llm.invoke("hello")
    with pytest.raises(HFServerlessError) as slow:
        llm.invoke("hello")
    for error in (reset.value, slow.value):
        assert TOKEN not in str(error) and TOKEN not in repr(error.args)


# ------------------------------------------------------------------------------------------------ cassettes


def test_no_cassette_carries_a_token_or_an_auth_header() -> None:
    files = [p for p in CASSETTES.rglob("*") if p.is_file()]
    for path in files:
        text = path.read_text(errors="replace")
        assert not TOKEN_PATTERN.search(text), f"{path} holds something shaped like an HF token"
        assert "Bearer hf_" not in text, path
        if path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
            for interaction in data.get("interactions", []) if isinstance(data, dict) else []:
                headers = {k.lower() for k in (interaction.get("request", {}).get("headers") or {})}
                assert not headers & {"authorization", "x-api-key", "cookie"}, path


# ------------------------------------------------------------------------------------------------ where tokens go


def test_ambient_token_never_goes_to_a_custom_base_url(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", AMBIENT)
    server.reply(body=ANSWER)
    server.reply(body=STREAM)
    llm = ChatHFServerless(base_url=server.url, model="m")
    llm.invoke("hello")
    list(llm.stream("hello"))
    assert auth_of(server) == [None, None]
    assert all(AMBIENT not in str(r.headers) and AMBIENT.encode() not in r.body for r in server.requests)


def test_saved_login_never_goes_to_a_custom_base_url(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token_file = tmp_path / "saved-token"
    token_file.write_text(AMBIENT)
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(token_file))
    from huggingface_hub import get_token

    assert get_token() == AMBIENT  # the saved login is really there
    server.reply(body=ANSWER)
    ChatHFServerless(base_url=server.url, model="m").invoke("hello")
    assert auth_of(server) == [None]


def test_explicit_api_key_does_go_to_a_custom_base_url(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", AMBIENT)
    server.reply(body=ANSWER)
    model(server).invoke("hello")
    assert auth_of(server) == [f"Bearer {TOKEN}"]  # the explicit key, never the ambient one


def test_ambient_token_does_go_to_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", AMBIENT)
    route = ChatHFServerless(model="org/m")._transport.chat_route("org/m")
    assert route.url.startswith("https://router.huggingface.co/")
    assert route.headers["authorization"] == f"Bearer {AMBIENT}"


def test_other_adapters_keep_the_ambient_token_home(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    embeddings = pytest.importorskip("langchain_hfserverless.embeddings")
    llms = pytest.importorskip("langchain_hfserverless.llms")
    monkeypatch.setenv("HF_TOKEN", AMBIENT)
    server.reply(body=[[0.1, 0.2]])
    server.reply(body=[{"generated_text": "hi"}])
    embeddings.HFServerlessEmbeddings(base_url=server.url, model="m").embed_query("hello")
    llms.HFServerlessLLM(base_url=server.url, model="m").invoke("hello")
    assert len(server.requests) == 2 and auth_of(server) == [None, None]


@pytest.mark.parametrize(
    ("url", "hf"),
    [
        ("https://router.huggingface.co/v1/chat/completions", True),
        ("https://huggingface.co/api/models", True),
        ("https://abc123.us-east-1.aws.endpoints.huggingface.cloud/v1", True),
        ("https://hf.co/x", True),
        ("https://evilhuggingface.co/v1", False),
        ("https://huggingface.co.evil.example/v1", False),
        ("https://evil.example/huggingface.co", False),
        ("http://127.0.0.1:8080", False),
        ("https://fal.media/files/x.png", False),
    ],
)
def test_hugging_face_hosts_are_recognised_exactly(url: str, hf: bool) -> None:
    assert is_hf_url(url) is hf


def test_result_urls_on_provider_hosts_get_no_token() -> None:
    transport = RouterTransport(api_key=TOKEN, base_url="http://127.0.0.1:1")
    assert "authorization" not in transport.fetch_route("https://fal.media/files/x.png").headers
    assert transport.fetch_route("http://127.0.0.1:1/jobs/7").headers["authorization"] == f"Bearer {TOKEN}"
