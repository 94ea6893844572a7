"""What the ``test_tools_*.py`` files share to run a task tool over real HTTP on loopback.

Two loopback servers per test module, reset for each test: the model's (``server``, or the router stand-in
``router``) and a second host (``cdn`` / ``files``) that must never see a credential. ``FakeNetwork`` fakes DNS
answers and which IP a socket may reach, never the code under test. Import the fixtures a module uses by name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_hfserverless.tools import ImageToTextTool, MediaInputError
from tests.loopback import LoopbackServer, serve

PUBLIC = "93.184.215.14"
"""A public address the tests pretend to reach (see FakeNetwork.routes); nothing leaves the machine."""
TOKEN = "hf_ambient_secret_token_123"
API_KEY = "hf_explicit_secret_key_456"
CAPTION = [{"generated_text": "a tiny picture"}]


# ---------------------------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    """Two servers for the module; each test gets them freshly reset."""
    for main in serve():
        for other in serve():
            yield main, other


def _fresh(server: LoopbackServer) -> LoopbackServer:
    server.requests.clear()
    server.queue.clear()
    server.default = None
    return server


@pytest.fixture
def server(_servers: tuple[LoopbackServer, LoopbackServer]) -> LoopbackServer:
    """The model's server (base_url, or the router stand-in)."""
    return _fresh(_servers[0])


@pytest.fixture
def cdn(_servers: tuple[LoopbackServer, LoopbackServer]) -> LoopbackServer:
    """A second server on another port: a provider's file host, which must never see the token."""
    return _fresh(_servers[1])


@pytest.fixture
def files(_servers: tuple[LoopbackServer, LoopbackServer]) -> LoopbackServer:
    """The server behind the URLs given as tool arguments (the same second server as ``cdn``)."""
    return _fresh(_servers[1])


@pytest.fixture
def router(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """The loopback server stands in for both the Hub API and router.huggingface.co."""
    from huggingface_hub import constants
    from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping

    monkeypatch.setattr(constants, "INFERENCE_PROXY_TEMPLATE", server.url + "/{provider}")
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    _fetch_inference_provider_mapping.cache_clear()
    yield server
    _fetch_inference_provider_mapping.cache_clear()


def mapping(model: str, provider: str, provider_id: str, task: str) -> dict[str, Any]:
    """The Hub's answer naming the provider that serves ``model`` for ``task``."""
    return {
        "id": model,
        "inferenceProviderMapping": {provider: {"status": "live", "providerId": provider_id, "task": task}},
    }


def port_of(server: LoopbackServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def header(seen: Any, name: str) -> str | None:
    return next((v for k, v in seen.headers.items() if k.lower() == name.lower()), None)


# ---------------------------------------------------------------------------------------------- calling a tool


def call(tool: Any, args: dict[str, Any], use_async: bool = False) -> ToolMessage:
    """Call ``tool`` as an agent does (a tool call in, a ToolMessage out), with invoke or ainvoke."""
    request = {"type": "tool_call", "id": "call-1", "name": tool.name, "args": args}
    message = asyncio.run(tool.ainvoke(request)) if use_async else tool.invoke(request)
    assert isinstance(message, ToolMessage)
    return message


def acall(tool: Any, args: dict[str, Any]) -> ToolMessage:
    return call(tool, args, use_async=True)


Runner = Callable[[Any, dict[str, Any]], ToolMessage]
both = pytest.mark.parametrize("run", [call, acall], ids=["sync", "async"])


# ---------------------------------------------------------------------------------------------- untrusted media


class FakeNetwork:
    """Fake DNS answers and IP reachability, recording every lookup and connection.

    ``names[host]`` is a list of answers, one per lookup (the last repeats). A connection to an address in
    ``routes`` reaches that address instead (a "public" IP served by a loopback server); one to any other
    non-loopback address is refused, as by an unreachable network.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: dict[str, list[list[str]]] = {}
        self.routes: dict[str, str] = {}
        self.lookups: list[str] = []
        self.connects: list[str] = []
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.socket.connect

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.names:
                return real_getaddrinfo(host, port, *args, **kwargs)
            self.lookups.append(name)
            answers = self.names[name]
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, int(port), 0, 0))
                if ":" in a
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port)))
                for a in addresses
            ]

        def connect(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                host = address[0]
                self.connects.append(host)
                if host in self.routes:
                    address = (self.routes[host], address[1])
                elif not ipaddress.ip_address(host).is_loopback:
                    raise ConnectionRefusedError(111, "Connection refused (fake network)")
            return real_connect(sock, address)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    return FakeNetwork(monkeypatch)


@pytest.fixture
def ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ambient token is set: the test must not see it leave."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)


def tool_for(server: LoopbackServer, **kwargs: Any) -> ImageToTextTool:
    return ImageToTextTool(base_url=server.url, max_retries=0, **kwargs)


def refusal(run: Runner, tool: ImageToTextTool, image: str) -> str:
    """The error a tool raises for ``image`` (with the agent's handle_tool_error off); it never names a secret."""
    with pytest.raises(MediaInputError) as caught:
        run(tool, {"image": image})
    message = str(caught.value)
    assert TOKEN not in message and API_KEY not in message
    return message


# ---------------------------------------------------------------------------------------------- standard suite

IMAGE = "https://huggingface.co/datasets/huggingface/documentation-images/resolve/main/cat.png"
AUDIO = "https://huggingface.co/datasets/Narsil/asr_dummy/resolve/main/1.flac"


class StandardToolUnit(ToolsUnitTests):
    """langchain-tests' ``ToolsUnitTests`` for one task tool: set ``tool_class`` and an ``example`` call."""

    tool_class: type
    example: dict[str, Any] = {}

    @property
    def tool_constructor(self) -> type:
        return self.tool_class

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_key": "hf_fake_unit_test_token"}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return dict(self.example)

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        # As ChatHFServerless: HF_TOKEN is read when a request is made, never copied onto the object.
        return {"HF_TOKEN": "hf_from_env"}, {}, {"api_key": None, "model": self.tool_class.default_model}
