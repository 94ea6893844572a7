"""The one cassette reader of the test suite, for our own ``cassettes/`` and for the real recordings in
``../shared/hf-recordings`` alike.

:func:`parse_cassette` is what VCR replays through (registered as its ``yaml`` serializer in ``tests/conftest.py``)
and what ``tests/replay/recordings.py`` reads recordings with. It is a SafeLoader with a few narrow constructors
for the non-safe tags cassette writers emit: nothing arbitrary is ever built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from vcr.serializers import yamlserializer

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
"""Our own cassettes: replayed by the standard suites, the tool tests and the examples."""
RECORDINGS = ROOT.parent / "shared" / "hf-recordings"
"""Real recorded traffic from other projects, read in place (the repository is checked out beside ``shared/``)."""

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CassetteLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader plus the non-safe tags vcrpy writes (tuples, Python 2 strings, ``BytesIO`` request bodies)."""


def _python_tuple(loader: yaml.SafeLoader, node: yaml.Node) -> tuple[Any, ...]:
    assert isinstance(node, yaml.SequenceNode)
    return tuple(loader.construct_sequence(node, deep=True))


def _bytes_io(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    """``!!python/object/new:_io.BytesIO {state: (b"...", position, dict)}`` -> the bytes it held."""
    assert isinstance(node, yaml.MappingNode)
    value = loader.construct_mapping(node, deep=True)
    state = value.get("state") or ()
    data = state[0] if state else b""
    return data if isinstance(data, bytes) else str(data).encode()


def _python_str(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


CassetteLoader.add_constructor("tag:yaml.org,2002:python/tuple", _python_tuple)
CassetteLoader.add_constructor("tag:yaml.org,2002:python/unicode", _python_str)  # Python 2 era vcrpy
CassetteLoader.add_constructor("tag:yaml.org,2002:python/str", _python_str)
CassetteLoader.add_constructor("tag:yaml.org,2002:python/object/new:_io.BytesIO", _bytes_io)


def parse_cassette(text: str) -> Any:
    """A cassette's YAML as data (a mapping with ``interactions`` for vcrpy files)."""
    return yaml.load(text, Loader=CassetteLoader)


def read_cassette(path: Path) -> Any:
    """:func:`parse_cassette` of a file."""
    return parse_cassette(path.read_text(encoding="utf-8"))


class VCRSerializer:
    """VCR's ``yaml`` serializer with our reader: replay reads cassettes exactly as the replay tests do;
    recording (``--record-mode=rewrite``) writes vcrpy's usual YAML."""

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        return parse_cassette(cassette_string)

    @staticmethod
    def serialize(cassette_dict: Any) -> str:
        return str(yamlserializer.serialize(cassette_dict))
