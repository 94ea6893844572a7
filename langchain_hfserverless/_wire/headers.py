"""HTTP header lookup, whatever the case of the names and whatever holds them.

Pure: httpx2's :class:`~httpx2.Headers` is used as a data class (its case-insensitive matching), never for I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx2


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` in any letter case, or ``None``.

    Takes httpx2's ``Headers`` as the transport returns them, and plain dicts as cassettes, routes and
    ``StreamMeta`` hold them (any text, not only ASCII); repeated headers come back joined with ``", "`` as HTTP
    reads them.
    """
    if not isinstance(headers, httpx2.Headers):
        headers = httpx2.Headers(headers, encoding="utf-8")  # a plain dict may hold any text; the wire is bytes
    return headers.get(name)
