"""Media arguments are untrusted: URLs fetched without credentials from public addresses only, local files opt-in.

Every test runs a tool over real HTTP on loopback. Where a test needs a host name or a public address, the
environment is faked (DNS answers from ``socket.getaddrinfo``, and which IP a socket may reach), never the code.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from langchain_hfserverless._untrusted_fetch import address_refusal, legacy_ipv4, literal_ip
from langchain_hfserverless.tools import ImageToTextTool, MediaInputError
from tests.loopback import LoopbackServer, serve

PUBLIC = "93.184.215.14"
"""A public address the tests pretend to reach (see FakeNetwork.routes); nothing leaves the machine."""
TOKEN = "hf_ambient_secret_token_123"
API_KEY = "hf_explicit_secret_key_456"


def png(width: int = 4, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x40\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = png()
CAPTION = [{"generated_text": "a tiny picture"}]


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
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
    """The model's server (base_url)."""
    return _fresh(_servers[0])


@pytest.fixture
def files(_servers: tuple[LoopbackServer, LoopbackServer]) -> LoopbackServer:
    """The server behind the URLs given as tool arguments."""
    return _fresh(_servers[1])


def port_of(server: LoopbackServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


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


@pytest.fixture(autouse=True)
def _credentials_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ambient token is set in every test: none of them may see it leave."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)


def invoke(tool: Any, args: dict[str, Any]) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return message


def ainvoke(tool: Any, args: dict[str, Any]) -> ToolMessage:
    message = asyncio.run(tool.ainvoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": args}))
    assert isinstance(message, ToolMessage)
    return message


Runner = Callable[[Any, dict[str, Any]], ToolMessage]
both = pytest.mark.parametrize("run", [invoke, ainvoke], ids=["sync", "async"])


def tool_for(server: LoopbackServer, **kwargs: Any) -> ImageToTextTool:
    return ImageToTextTool(base_url=server.url, max_retries=0, **kwargs)


def refusal(run: Runner, tool: ImageToTextTool, image: str) -> str:
    """The error a tool raises for ``image`` (with the agent's handle_tool_error off)."""
    with pytest.raises(MediaInputError) as caught:
        run(tool, {"image": image})
    message = str(caught.value)
    assert TOKEN not in message and API_KEY not in message
    return message


def header(seen: Any, name: str) -> str | None:
    return next((v for k, v in seen.headers.items() if k.lower() == name.lower()), None)


# ---------------------------------------------------------------------------------------------- no credentials


@both
@pytest.mark.parametrize("host", ["files.huggingface.cloud", "huggingface.co"])
def test_a_url_argument_is_fetched_without_any_credential(
    run: Runner, host: str, server: LoopbackServer, files: LoopbackServer, net: FakeNetwork
) -> None:
    net.names[host] = [["127.0.0.1"]]
    port = port_of(files)
    files.reply(302, headers={"location": "/pic.png", "set-cookie": "session=abc; Path=/"})
    files.reply(body=PNG, headers={"content-type": "image/png"})
    server.reply(body=CAPTION)
    tool = tool_for(
        server,
        api_key=API_KEY,
        bill_to="acme-org",
        default_headers={"X-Team-Secret": "s3cret"},
        allow_private_urls=True,  # the fake DNS answers loopback
    )
    assert run(tool, {"image": f"http://{host}:{port}/start"}).content == "a tiny picture"
    assert [(r.method, r.path) for r in files.requests] == [("GET", "/start"), ("GET", "/pic.png")]
    for seen in files.requests:
        assert header(seen, "host") == f"{host}:{port}"
        for name in ("authorization", "cookie", "x-hf-bill-to", "x-team-secret"):
            assert header(seen, name) is None, name
        assert TOKEN not in str(seen.headers) and API_KEY not in str(seen.headers)
    # The configured route still gets the configured credential and headers.
    assert header(server.requests[0], "authorization") == f"Bearer {API_KEY}"
    assert header(server.requests[0], "x-hf-bill-to") == "acme-org"
    assert server.requests[0].body == PNG


# ---------------------------------------------------------------------------------------------- addresses


LOOPBACK_FORMS = [
    ("http://127.0.0.1:{port}/x.png", "loopback"),
    ("http://localhost:{port}/x.png", "loopback"),
    ("http://0.0.0.0:{port}/x.png", "unspecified"),
    ("http://[::1]:{port}/x.png", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/x.png", "loopback"),
    ("http://2130706433:{port}/x.png", "loopback"),
    ("http://0x7f000001:{port}/x.png", "loopback"),
    ("http://0177.0.0.1:{port}/x.png", "loopback"),
    ("http://127.1:{port}/x.png", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.1.2.3/x.png", "private"),
    ("http://172.16.0.9/x.png", "private"),
    ("http://192.168.1.1/x.png", "private"),
    ("http://100.64.0.1/x.png", "non-public"),
    ("http://[fe80::1]/x.png", "link-local"),
    ("http://[fd00::1]/x.png", "private"),
    ("http://224.0.0.1/x.png", "multicast"),
    ("http://240.0.0.1/x.png", "private"),
    ("http://[::]/x.png", "unspecified"),
    ("http://intranet.corp:{port}/x.png", "private"),
    ("http://metadata.cloud/x.png", "link-local"),
    ("http://mixed.example:{port}/x.png", "loopback"),
]


@both
@pytest.mark.parametrize(("template", "reason"), LOOPBACK_FORMS)
def test_non_public_addresses_are_refused_before_any_connection(
    run: Runner, template: str, reason: str, server: LoopbackServer, files: LoopbackServer, net: FakeNetwork
) -> None:
    net.names["intranet.corp"] = [["10.0.0.5"]]
    net.names["metadata.cloud"] = [["169.254.169.254"]]
    net.names["mixed.example"] = [[PUBLIC, "127.0.0.1"]]  # every address is checked, not just the first
    url = template.format(port=port_of(files))
    message = refusal(run, tool_for(server), url)
    assert f"a {reason} address" in message
    assert "this tool only fetches public internet addresses" in message
    assert message.endswith("Send the image as base64 or a data: URL, or give a public http(s) URL.")
    assert net.connects == [] and files.requests == [] and server.requests == []


@both
def test_the_connection_goes_to_the_address_that_was_checked(
    run: Runner, server: LoopbackServer, files: LoopbackServer, net: FakeNetwork
) -> None:
    # DNS rebinding: the first answer is public, every later one loopback.
    net.names["rebind.example"] = [[PUBLIC], ["127.0.0.1"]]
    port = port_of(files)
    files.reply(body=PNG, headers={"content-type": "image/png"})
    message = refusal(run, tool_for(server), f"http://rebind.example:{port}/x.png")
    assert net.lookups == ["rebind.example"]  # resolved once, by the check
    assert net.connects == [PUBLIC]  # connected to what was checked, never re-resolved
    assert f"Could not connect to rebind.example ({PUBLIC})" in message
    assert files.requests == [] and server.requests == []


@both
def test_a_redirect_is_checked_again(
    run: Runner, server: LoopbackServer, files: LoopbackServer, net: FakeNetwork
) -> None:
    net.names["cdn.example"] = [[PUBLIC]]
    net.names["inside.example"] = [["10.0.0.7"]]
    net.routes[PUBLIC] = "127.0.0.1"  # the public host is served by the loopback `files` server
    port = port_of(files)
    for location in (
        f"http://127.0.0.1:{port}/secret",
        f"http://inside.example:{port}/secret",
        "http://169.254.169.254/latest/meta-data/",
    ):
        files.requests.clear()
        net.connects.clear()
        files.reply(302, headers={"location": location})
        message = refusal(run, tool_for(server), f"http://cdn.example:{port}/pic.png")
        assert f"Refused to fetch '{location}'" in message
        assert [r.path for r in files.requests] == ["/pic.png"]  # the first hop only
        assert net.connects == [PUBLIC]
    files.reply(302, headers={"location": "ftp://cdn.example/pic.png"})
    assert "only http and https URLs" in refusal(run, tool_for(server), f"http://cdn.example:{port}/pic.png")
    assert server.requests == []


@both
def test_redirects_are_capped(run: Runner, server: LoopbackServer, files: LoopbackServer) -> None:
    for hop in range(10):
        files.reply(302, headers={"location": f"/hop{hop}"})
    message = refusal(run, tool_for(server, allow_private_urls=True), f"{files.url}/start")
    assert "redirects more than 5 times" in message
    assert len(files.requests) == 6  # the first request and 5 redirects, no more
    assert server.requests == []


@both
def test_a_public_url_is_fetched_by_default(
    run: Runner, server: LoopbackServer, files: LoopbackServer, net: FakeNetwork
) -> None:
    net.names["cdn.example"] = [[PUBLIC]]
    net.routes[PUBLIC] = "127.0.0.1"
    files.reply(body=PNG, headers={"content-type": "image/png"})
    server.reply(body=CAPTION)
    assert run(tool_for(server), {"image": f"http://cdn.example:{port_of(files)}/pic.png"}).content == (
        "a tiny picture"
    )
    assert header(files.requests[0], "host") == f"cdn.example:{port_of(files)}"
    assert net.connects[0] == PUBLIC


# ---------------------------------------------------------------------------------------------- size, time, schemes


@both
def test_a_download_stops_as_soon_as_it_is_too_large(
    run: Runner, server: LoopbackServer, files: LoopbackServer
) -> None:
    # No Content-Length; 20 pieces, half a second apart: reading it all would take 10 s.
    pieces = [PNG + b"\x00" * 2000] + [b"\x00" * 2000] * 19
    files.reply(body=pieces, headers={"content-type": "image/png"}, piece_delay=0.5)
    tool = tool_for(server, allow_private_urls=True, max_input_bytes=1000)
    started = time.monotonic()
    message = refusal(run, tool, f"{files.url}/huge.png")
    assert time.monotonic() - started < 5
    assert message == (
        f"The file at '{files.url}/huge.png' is larger than the 1000-byte limit (max_input_bytes). Send a smaller "
        "image (at most 1000 B), or raise max_input_bytes on the tool."
    )
    assert server.requests == []


@both
def test_a_declared_length_over_the_limit_is_refused(
    run: Runner, server: LoopbackServer, files: LoopbackServer
) -> None:
    files.reply(body=PNG + b"\x00" * 5000, headers={"content-type": "image/png"})
    message = refusal(run, tool_for(server, allow_private_urls=True, max_input_bytes=1000), f"{files.url}/big.png")
    assert "larger than the 1000-byte limit" in message and "raise max_input_bytes" in message


@both
def test_the_fetch_has_a_total_time_limit(run: Runner, server: LoopbackServer, files: LoopbackServer) -> None:
    files.reply(body=PNG, headers={"content-type": "image/png"}, delay=3)
    started = time.monotonic()
    message = refusal(run, tool_for(server, allow_private_urls=True, fetch_timeout=0.5), f"{files.url}/slow.png")
    assert time.monotonic() - started < 2.5
    assert "within 0.5 s (the tool's fetch_timeout)" in message
    assert message.endswith("Check the URL, or send the image as base64 or a data: URL.")


@both
@pytest.mark.parametrize("url", ["ftp://{host}/x.png", "gopher://{host}/_GET", "dict://{host}/x"])
def test_only_http_and_https_are_fetched(
    run: Runner, url: str, server: LoopbackServer, files: LoopbackServer, net: FakeNetwork
) -> None:
    message = refusal(run, tool_for(server, allow_private_urls=True), url.format(host=files.url[7:]))
    assert "only http(s) URLs are fetched" in message
    assert net.connects == [] and files.requests == []


# ---------------------------------------------------------------------------------------------- local files


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """An allowed directory with a picture and a symlink leading out, and a secret picture outside it."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "in.png").write_bytes(PNG)
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(9, 9))
    (allowed / "escape.png").symlink_to(secret)
    return {"allowed": allowed, "inside": allowed / "in.png", "secret": secret}


@both
def test_local_paths_are_refused_by_default(run: Runner, server: LoopbackServer, layout: dict[str, Path]) -> None:
    for value in (str(layout["inside"]), f"file://{layout['inside']}"):
        message = refusal(run, tool_for(server), value)
        assert message.startswith(f"Cannot read {value[:20]!r}"[:-1])  # long values are shortened
        assert message.endswith(
            "': reading local files is disabled on this tool (allow_local_files=False). "
            "Send an image as an http(s) URL, a data: URL or base64."
        )
    assert server.requests == []


@both
def test_local_files_dir_allows_only_what_is_inside(
    run: Runner, server: LoopbackServer, layout: dict[str, Path]
) -> None:
    tool = tool_for(server, local_files_dir=str(layout["allowed"]))
    for value in ("in.png", str(layout["inside"]), f"file://{layout['inside']}"):
        server.reply(body=CAPTION)
        assert run(tool, {"image": value}).content == "a tiny picture"
    assert [r.body for r in server.requests] == [PNG] * 3
    server.requests.clear()
    for value in ("../secret.png", str(layout["secret"]), "escape.png", f"file://{layout['secret']}", "sub/../../x"):
        message = refusal(run, tool, value)
        assert "reads local files only inside its local_files_dir" in message, value
    assert server.requests == []


@both
def test_local_files_dir_confines_allow_local_files_too(
    run: Runner, server: LoopbackServer, layout: dict[str, Path]
) -> None:
    tool = tool_for(server, allow_local_files=True, local_files_dir=str(layout["allowed"]))
    assert "only inside its local_files_dir" in refusal(run, tool, str(layout["secret"]))
    assert server.requests == []


@both
def test_allow_local_files_reads_anywhere_for_trusted_callers(
    run: Runner, server: LoopbackServer, layout: dict[str, Path]
) -> None:
    server.reply(body=CAPTION)
    assert run(tool_for(server, allow_local_files=True), {"image": str(layout["secret"])}).content == "a tiny picture"
    assert server.requests[0].body == png(9, 9)


@both
def test_a_path_object_from_python_code_is_read(run: Runner, server: LoopbackServer, layout: dict[str, Path]) -> None:
    server.reply(body=CAPTION)
    assert run(tool_for(server), {"image": layout["secret"]}).content == "a tiny picture"
    assert server.requests[0].body == png(9, 9)


@both
def test_base64_starting_with_a_slash_is_not_mistaken_for_a_path_outside_the_directory(
    run: Runner, server: LoopbackServer, layout: dict[str, Path]
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 60
    encoded = base64.b64encode(jpeg).decode()
    assert encoded.startswith("/9j/")
    server.reply(body=CAPTION)
    run(tool_for(server, local_files_dir=str(layout["allowed"])), {"image": encoded})
    assert server.requests[0].body == jpeg


# ---------------------------------------------------------------------------------------------- the agent's view


@both
def test_an_agent_reads_the_refusal_and_can_recover(
    run: Runner, server: LoopbackServer, files: LoopbackServer, net: FakeNetwork
) -> None:
    tool = tool_for(server, handle_tool_error=True)
    message = run(tool, {"image": "http://169.254.169.254/latest/meta-data/iam"})
    assert message.status == "error"
    assert message.content == (
        "Refused to fetch 'http://169.254.169.254/latest/meta-data/iam': its host 169.254.169.254 is a link-local "
        "address, and this tool only fetches public internet addresses. Send the image as base64 or a data: URL, "
        "or give a public http(s) URL."
    )
    # Following the advice works.
    server.reply(body=CAPTION)
    retry = run(tool, {"image": "data:image/png;base64," + base64.b64encode(PNG).decode()})
    assert retry.status == "success" and retry.content == "a tiny picture"
    # The model server only (dialled now, or a pooled connection an earlier tool of the process opened).
    assert set(net.connects) <= {"127.0.0.1"}


# ---------------------------------------------------------------------------------------------- pure checks


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.258", "10.0.1.2"),
        ("0", "0.0.0.0"),
        ("1.2.3.4.", "1.2.3.4"),
    ],
)
def test_legacy_ipv4_forms_are_read_as_addresses(host: str, address: str) -> None:
    assert str(legacy_ipv4(host)) == address


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "0x", "1_0.0.0.1", "08.0.0.1", "1e3"])
def test_names_are_not_read_as_addresses(host: str) -> None:
    assert legacy_ipv4(host) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:7f00:1::", "loopback"),
        ("fe80::1%eth0", "link-local"),
        (PUBLIC, None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_ipv6_forms_carrying_ipv4_are_judged_by_it(address: str, reason: str | None) -> None:
    ip = literal_ip(address)
    assert ip is not None
    assert address_refusal(ip) == reason
