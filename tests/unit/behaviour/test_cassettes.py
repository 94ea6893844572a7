"""Our cassettes are honest: each says where its values come from, and none carries a credential.

A cassette either names, at its top, the real recording its answers were copied from
(``# Answer verbatim from hf-recordings/<path>, interaction N``: the file must exist under ``../shared`` and the
recorded answer must be in the cassette unchanged) or is labelled ``# SYNTHETIC:`` (its values were written by
hand; tests may assert what our code makes of them, never that a provider said them). A cassette may do both
(real task answers beside hand-written Hub look-ups). No cassette holds an ``Authorization`` header or anything
shaped like a Hugging Face token.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.cassettes import CASSETTES, RECORDINGS, parse_cassette

SOURCE_LINE = re.compile(r"^# Answer verbatim from hf-recordings/(?P<path>\S.*?), interaction (?P<index>\d+)\s*$", re.M)
SYNTHETIC_LINE = re.compile(r"^# SYNTHETIC:", re.M)
TOKEN = re.compile(r"hf_[A-Za-z0-9]{20,}")
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"})


def _header(text: str) -> str:
    """The comment block a cassette starts with."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def _interactions(data: Any) -> list[Any]:
    return list(data.get("interactions") or []) if isinstance(data, dict) else []


def provenance_problems(text: str, recordings: Path = RECORDINGS) -> list[str]:
    """What is wrong with a cassette's account of where its values come from (empty: nothing)."""
    header = _header(text)
    sources = list(SOURCE_LINE.finditer(header))
    if not sources and not SYNTHETIC_LINE.search(header):
        return ["neither a '# Answer verbatim from hf-recordings/<path>, interaction N' line nor '# SYNTHETIC:'"]
    problems = []
    responses = [item["response"] for item in _interactions(parse_cassette(text))]
    for source in sources:
        recording = recordings / source["path"]
        if not recording.is_file():
            problems.append(f"names hf-recordings/{source['path']}, which does not exist")
            continue
        recorded = _interactions(parse_cassette(recording.read_text(encoding="utf-8")))
        index = int(source["index"])
        if index >= len(recorded):
            problems.append(f"names interaction {index} of hf-recordings/{source['path']}, which has {len(recorded)}")
        elif recorded[index]["response"] not in responses:
            problems.append(f"does not hold interaction {index} of hf-recordings/{source['path']} verbatim")
    return problems


def secret_problems(text: str) -> list[str]:
    """Credentials in a cassette: a secret header on any request or answer, or a token-shaped string anywhere."""
    problems = [f"token-shaped string {m.group()[:5]}… at offset {m.start()}" for m in TOKEN.finditer(text)]
    for index, item in enumerate(_interactions(parse_cassette(text))):
        for side in ("request", "response"):
            names = {str(name).lower() for name in (item.get(side, {}).get("headers") or {})}
            found = sorted(names & SECRET_HEADERS)
            problems += [f"interaction {index} {side} carries a {name} header" for name in found]
    return problems


CASSETTE_FILES = sorted(CASSETTES.rglob("*.yaml"))


def test_there_are_cassettes() -> None:
    assert len(CASSETTE_FILES) > 50


@pytest.mark.parametrize("path", CASSETTE_FILES, ids=lambda p: p.relative_to(CASSETTES).as_posix())
def test_cassette_says_where_its_values_come_from(path: Path) -> None:
    if not RECORDINGS.is_dir() and SOURCE_LINE.search(_header(path.read_text(encoding="utf-8"))):
        pytest.skip(f"recordings not found at {RECORDINGS}: the source line cannot be checked")
    assert provenance_problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", CASSETTE_FILES, ids=lambda p: p.relative_to(CASSETTES).as_posix())
def test_cassette_carries_no_credential(path: Path) -> None:
    assert secret_problems(path.read_text(encoding="utf-8")) == []


# ------------------------------------------------------------------------------------------------ the checks check

_BODY = """interactions:
- request: {body: '', headers: {}, method: GET, uri: 'https://router.huggingface.co/x'}
  response:
    body: {string: '%s'}
    headers: {}
    status: {code: 200, message: OK}
version: 1
"""


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "real.yaml").write_text(_BODY % '{"label":"person","score":0.9486680030822754}')
    return tmp_path


def test_an_unlabelled_cassette_is_refused(recordings: Path) -> None:
    text = "# Hand-built, modelled on a real recording.\n" + _BODY % '{"label":"kite"}'
    assert provenance_problems(text, recordings) != []


def test_a_synthetic_label_is_enough(recordings: Path) -> None:
    assert provenance_problems("# SYNTHETIC: invented.\n" + _BODY % '{"label":"kite"}', recordings) == []


def test_a_source_must_exist_and_be_copied_verbatim(recordings: Path) -> None:
    def check(source: str, answer: str) -> list[str]:
        return provenance_problems(f"# Answer verbatim from hf-recordings/{source}\n" + _BODY % answer, recordings)

    real = '{"label":"person","score":0.9486680030822754}'
    assert check("hub/real.yaml, interaction 0", real) == []
    assert check("hub/gone.yaml, interaction 0", real)
    assert check("hub/real.yaml, interaction 1", real)
    assert check("hub/real.yaml, interaction 0", real.replace("person", "kite"))  # a real score on an invented label


def test_credentials_are_found() -> None:
    assert secret_problems("# SYNTHETIC\n" + _BODY % "ok") == []
    assert secret_problems("# SYNTHETIC: hf_" + "a1B2" * 6 + "\n" + _BODY % "ok")
    with_auth = _BODY.replace("headers: {}, method", "headers: {Authorization: [Bearer x]}, method") % "ok"
    assert secret_problems(with_auth) == ["interaction 0 request carries a authorization header"]
