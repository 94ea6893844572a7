"""Fetching a URL that came from untrusted input (a model's tool argument): no credential, public addresses only.

The second I/O module beside ``_transport.py``, and deliberately apart from it: it has no token, no cookie jar, no
configured header to leak. A URL is fetched only if

- its scheme is http or https;
- every address its host resolves to is public (not loopback, private, link-local, multicast, reserved or
  unspecified, IPv4 or IPv6, IPv4-mapped included), unless ``allow_private=True``;
- the connection goes to the address that was checked (the request is sent to that IP literal, with the real
  ``Host`` header and, for https, the real name for SNI and certificate checks), so a DNS answer that changes
  between check and connect cannot reach another host;
- each redirect passes the same checks again (at most :data:`MAX_REDIRECTS` of them);
- the body stays within ``max_bytes`` (a larger ``Content-Length`` is refused before reading; a body without one is
  streamed and abandoned as soon as it is too large) and the whole fetch within ``timeout`` seconds.

The logic is one generator plan (:func:`fetch_plan`) that yields steps and receives their results; the package's
sync and async plan drivers (``_plan``) execute them, with a handler table per wire, as for every other call.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NoReturn
from urllib.parse import urljoin, urlsplit

import httpx2

from langchain_hfserverless._plan import AsyncHandlers, Handlers, arun, run

MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_PART = {10: re.compile(r"[0-9]+"), 8: re.compile(r"[0-7]*"), 16: re.compile(r"[0-9a-fA-F]+")}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UntrustedFetchError(Exception):
    """A URL that was refused or could not be fetched; the message says why and is safe to show a model.

    ``category`` tells what the caller may suggest instead: ``"refused"`` (scheme, address, redirects: send the
    bytes), ``"too_large"`` (send a smaller file) or ``"failed"`` (unreachable, error status, too slow).
    """

    def __init__(self, message: str, category: Literal["refused", "too_large", "failed"]) -> None:
        super().__init__(message)
        self.category = category


@dataclass(frozen=True)
class Fetched:
    """The body of a fetched URL, the final URL after redirects, and its declared content type."""

    url: str
    content: bytes
    content_type: str | None


# ---------------------------------------------------------------------------------------------- pure checks


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as an IPv4 address in any form ``inet_aton`` accepts (``2130706433``, ``0x7f000001``,
    ``0177.0.0.1``, ``127.1``), else ``None``. Resolvers and browsers accept these; a check must too."""
    parts = host.rstrip(".").split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        if part[:2].lower() == "0x":
            base, digits = 16, part[2:]
        elif len(part) > 1 and part[0] == "0":
            base, digits = 8, part[1:]
        else:
            base, digits = 10, part
        if not _IPV4_PART[base].fullmatch(digits):
            return None
        numbers.append(int(digits or "0", base))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def literal_ip(host: str) -> IPAddress | None:
    """The address a host name spells literally (IPv6, dotted IPv4 or a legacy IPv4 form), else ``None``."""
    bare = host.strip("[]").split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) does not change the address
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return legacy_ipv4(bare)


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be fetched from (``"loopback"``, ``"private"``, ...), or ``None`` for a public address.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by that address too.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        reason = address_refusal(inner) if inner is not None else None
        if reason:
            return reason
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


@dataclass(frozen=True)
class Target:
    """One URL to request, split into what the checks and the connection need."""

    url: str
    """The URL as it was given (for messages and for resolving a relative redirect)."""
    scheme: str
    host: str
    """The host's ASCII (IDNA) form, what DNS, the Host header and TLS see."""
    port: int
    host_header: str
    target: bytes
    """Path and query."""


def parse_target(url: str) -> Target:
    """``url`` split for fetching, or an UntrustedFetchError for a scheme or a form that cannot be fetched."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise UntrustedFetchError(
            f"Refused to fetch {url!r}: only http and https URLs can be fetched, not {scheme or 'this'}:.", "refused"
        )
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL as exc:
        host = urlsplit(url).hostname or ""
        ip = literal_ip(host)
        if ip is not None:  # httpx2 rejects 0177.0.0.1 and friends: say which address it is, not just "invalid"
            _refuse_address(url, host, str(ip), address_refusal(ip) or "unusual")
        raise UntrustedFetchError(f"Refused to fetch {url!r}: it is not a valid URL ({exc}).", "refused") from None
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise UntrustedFetchError(f"Refused to fetch {url!r}: it names no host.", "refused")
    port = parsed.port or (443 if scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if parsed.port is None else f"{shown}:{parsed.port}"
    return Target(url, scheme, host, port, host_header, parsed.raw_path)


def _refuse_address(url: str, host: str, address: str, reason: str) -> NoReturn:
    said = "is" if host.strip("[]") == address else f"resolves to {address}, which is"
    raise UntrustedFetchError(
        f"Refused to fetch {url!r}: its host {host} {said} a {reason} address, and this tool only fetches "
        "public internet addresses.",
        "refused",
    )


def checked_addresses(target: Target, addresses: list[str], *, allow_private: bool) -> list[str]:
    """The resolved addresses to connect to; refused if any of them is not public (unless ``allow_private``)."""
    if not addresses:
        raise UntrustedFetchError(f"Could not fetch {target.url!r}: {target.host} has no address.", "failed")
    for address in addresses:
        ip = literal_ip(address)
        reason = "unparseable" if ip is None else address_refusal(ip)
        if reason and not allow_private:
            _refuse_address(target.url, target.host, address, reason)
    return list(dict.fromkeys(addresses))


# ---------------------------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Resolve:
    """Look up the addresses of ``host`` (the driver's answer: a list of address strings)."""

    host: str
    port: int


@dataclass(frozen=True)
class Connect:
    """Send ``request`` and return the response with its body unread."""

    request: httpx2.Request


@dataclass(frozen=True)
class Read:
    """The next piece of the open response's body, ``b""`` at its end."""


FetchStep = Resolve | Connect | Read
FetchPlan = Generator[FetchStep, Any, Fetched]


def _request(target: Target, address: str, timeout: float) -> httpx2.Request:
    from langchain_hfserverless import __version__

    extensions: dict[str, Any] = {"timeout": httpx2.Timeout(timeout).as_dict()}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host  # TLS sends and verifies the real name, not the IP
    return httpx2.Request(
        "GET",
        httpx2.URL(scheme=target.scheme, host=address, port=target.port, raw_path=target.target),
        headers={
            "Host": target.host_header,
            "User-Agent": f"langchain-hfserverless/{__version__}",
            "Accept": "*/*",
            "Accept-Encoding": "identity",  # the size cap counts the bytes that arrive; no decompression bombs
        },
        extensions=extensions,
    )


def fetch_plan(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> FetchPlan:
    """The steps that fetch ``url`` under the module's rules; returns :class:`Fetched` or raises UntrustedFetchError."""
    deadline = clock() + timeout

    def remaining() -> float:
        left = deadline - clock()
        if left <= 0:
            raise UntrustedFetchError(
                f"Could not fetch {url!r} within {timeout:g} s (the tool's fetch_timeout).", "failed"
            )
        return left

    for _ in range(MAX_REDIRECTS + 1):
        target = parse_target(url)
        ip = literal_ip(target.host)
        if ip is not None:
            addresses = [str(ip)]
        else:
            remaining()
            try:
                addresses = yield Resolve(target.host, target.port)
            except OSError as exc:
                raise UntrustedFetchError(
                    f"Could not fetch {url!r}: {target.host} does not resolve ({exc}).", "failed"
                ) from None
        addresses = checked_addresses(target, addresses, allow_private=allow_private)
        response: httpx2.Response | None = None
        failure = ""
        for address in addresses:
            try:
                response = yield Connect(_request(target, address, remaining()))
                break
            except httpx2.ConnectError as exc:
                failure = f"Could not connect to {target.host} ({address}): {exc or type(exc).__name__}"
            except httpx2.TimeoutException:
                remaining()
                failure = f"Could not connect to {target.host} ({address}): timed out"
            except httpx2.TransportError as exc:
                raise UntrustedFetchError(f"Could not fetch {url!r}: {type(exc).__name__}: {exc}", "failed") from None
        if response is None:
            raise UntrustedFetchError(f"Could not fetch {url!r}. {failure}.", "failed")
        status = response.status_code
        if status in _REDIRECTS:
            location = response.headers.get("location")
            if not location:
                raise UntrustedFetchError(f"Could not fetch {url!r}: a {status} redirect without a Location.", "failed")
            url = urljoin(url, location)
            continue
        if not 200 <= status < 300:
            raise UntrustedFetchError(f"Could not fetch {url!r}: the server answered {status}.", "failed")
        return (yield from _read_body(url, response, max_bytes=max_bytes, remaining=remaining))
    raise UntrustedFetchError(f"Refused to fetch {url!r}: it redirects more than {MAX_REDIRECTS} times.", "refused")


def _read_body(
    url: str, response: httpx2.Response, *, max_bytes: int, remaining: Callable[[], float]
) -> Generator[FetchStep, Any, Fetched]:
    too_large = UntrustedFetchError(
        f"The file at {url!r} is larger than the {max_bytes}-byte limit (max_input_bytes).", "too_large"
    )
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise UntrustedFetchError(
            f"Could not fetch {url!r}: the server sent it {encoding}-compressed although asked not to.", "failed"
        )
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    pieces: list[bytes] = []
    size = 0
    while True:
        remaining()
        try:
            piece: bytes = yield Read()
        except httpx2.TimeoutException:
            remaining()
            raise UntrustedFetchError(f"Could not fetch {url!r}: the server stopped sending.", "failed") from None
        except httpx2.TransportError as exc:
            raise UntrustedFetchError(f"Could not fetch {url!r}: the download broke off ({exc}).", "failed") from None
        if not piece:
            break
        size += len(piece)
        if size > max_bytes:
            raise too_large
        pieces.append(piece)
    return Fetched(url, b"".join(pieces), response.headers.get("content-type"))


# ---------------------------------------------------------------------------------------------- the two wires
# The plan runs on the package's plan drivers (``_plan``); each wire is the handler table for one of them.


def _addresses(infos: list[Any]) -> list[str]:
    return [str(info[4][0]) for info in infos]


class _SyncWire:
    """Executes fetch steps with blocking calls; one open response at a time."""

    def __init__(self) -> None:
        self._transport = httpx2.HTTPTransport(retries=0)  # a bare transport: no cookies, auth, proxies or env
        self._response: httpx2.Response | None = None
        self._body: Iterator[bytes] = iter(())
        self.handlers: Handlers = {
            Resolve: lambda step: _addresses(socket.getaddrinfo(step.host, step.port, type=socket.SOCK_STREAM)),
            Connect: self._connect,
            Read: lambda step: next(self._body, b""),
        }

    def _connect(self, step: Connect) -> httpx2.Response:
        self.close(transport=False)
        self._response = response = self._transport.handle_request(step.request)
        self._body = response.iter_raw()
        return response

    def close(self, *, transport: bool = True) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None
        if transport:
            self._transport.close()


class _AsyncWire:
    """Executes fetch steps with awaitable calls; DNS runs in a thread (getaddrinfo blocks)."""

    def __init__(self) -> None:
        self._transport = httpx2.AsyncHTTPTransport(retries=0)
        self._response: httpx2.Response | None = None
        self._body: AsyncIterator[bytes] | None = None
        self.handlers: AsyncHandlers = {
            Resolve: self._resolve,
            Connect: self._connect,
            Read: self._read,
        }

    @staticmethod
    async def _resolve(step: Resolve) -> list[str]:
        return _addresses(await asyncio.to_thread(socket.getaddrinfo, step.host, step.port, type=socket.SOCK_STREAM))

    async def _connect(self, step: Connect) -> httpx2.Response:
        await self.aclose(transport=False)
        self._response = response = await self._transport.handle_async_request(step.request)
        self._body = response.aiter_raw()
        return response

    async def _read(self, step: Read) -> bytes:
        assert self._body is not None
        return await anext(self._body, b"")

    async def aclose(self, *, transport: bool = True) -> None:
        if self._response is not None:
            await self._response.aclose()
            self._response = None
        if transport:
            await self._transport.aclose()


def fetch_untrusted(url: str, *, max_bytes: int, timeout: float, allow_private: bool = False) -> Fetched:
    """Fetch ``url`` from untrusted input under this module's rules (blocking)."""
    wire = _SyncWire()
    try:
        return run(fetch_plan(url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private), wire.handlers)
    finally:
        wire.close()


async def afetch_untrusted(url: str, *, max_bytes: int, timeout: float, allow_private: bool = False) -> Fetched:
    """Fetch ``url`` from untrusted input under this module's rules (awaitable; DNS runs in a thread)."""
    wire = _AsyncWire()
    plan = fetch_plan(url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private)
    try:
        return await arun(plan, wire.handlers)
    finally:
        await wire.aclose()
