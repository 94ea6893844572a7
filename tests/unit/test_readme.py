"""The README's Python snippets type-check under ``mypy --strict`` with pydantic's mypy plugin, as a user's would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def snippets() -> list[str]:
    return BLOCK.findall(README.read_text())


def test_the_readme_has_python_snippets() -> None:
    assert len(snippets()) >= 5


def test_readme_snippets_type_check_strictly(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    files = []
    for i, code in enumerate(snippets()):
        path = tmp_path / f"readme_snippet_{i:02d}.py"
        path.write_text(code)
        files.append(str(path))
    config = tmp_path / "mypy.ini"
    # The setting the README's "Type checking" asks for. The package is a dependency here, read for its types only:
    # its own code is checked by `mypy langchain_hfserverless` in CI, with the project's settings.
    config.write_text("[mypy]\nplugins = pydantic.mypy\n\n[mypy-langchain_hfserverless.*]\nfollow_imports = silent\n")
    stdout, stderr, status = api.run(
        ["--strict", "--config-file", str(config), "--cache-dir", str(tmp_path / ".mypy_cache"), *files]
    )
    assert status == 0, stdout + stderr
