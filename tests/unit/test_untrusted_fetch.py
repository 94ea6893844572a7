"""``_untrusted_fetch.py``: a URL given as a media argument is fetched without credentials, from public addresses
only, with capped redirects, size and time.

Every test but the pure checks runs a tool over real HTTP on loopback. Where a test needs a host name or a public
address, the environment is faked (DNS answers from ``socket.getaddrinfo``, and which IP a socket may reach), never
the code.
"""

from __future__ import annotations

import base64
import time

import pytest

from langchain_hfserverless._untrusted_fetch import address_refusal, legacy_ipv4, literal_ip
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.media_samples import PNG
from tests.unit.tool_harness import (
    API_KEY,
    CAPTION,
    PUBLIC,
    TOKEN,
    FakeNetwork,
    Runner,
    both,
    header,
    port_of,
    refusal,
    tool_for,
)

# The shared fixtures this module uses.
_servers, ambient_token, files, net, server = (
    tool_harness._servers,
    tool_harness.ambient_token,
    tool_harness.files,
    tool_harness.net,
    tool_harness.server,
)

pytestmark = pytest.mark.usefixtures("ambient_token")  # in every test: none may see it leave


# --------------------------------------------------------------------------------------------- no credentials


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


# -------------------------------------------------------------------------------------------------- addresses


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


# ---------------------------------------------------------------------------------------------- size and time


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


# ------------------------------------------------------------------------------------------- the agent's view


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


# ------------------------------------------------------------------------------------------------ pure checks


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
