"""The README as a user reads it: its Python snippets type-check under ``mypy --strict`` with pydantic's mypy
plugin, as a user's would, and its ``## Task tools`` table lists exactly the tools ``create_task_tool`` knows: task,
tool name and default model, one row each, in the registry's order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from langchain_hfserverless.tools import DEFAULT_MODELS, TASK_TOOLS
from tests.cassettes import ROOT

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


def _first_table(section: str) -> list[list[str]]:
    lines = section[section.index("\n| Hub task") + 1 :].splitlines()
    table = []
    for line in lines[2:]:  # after the header and its |---| line
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in line.strip("|").split("|")])
    return table


def test_the_task_tools_table_matches_the_registry() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = _first_table(text[text.index("## Task tools") :])
    table = [(task, name.strip("`"), model) for task, name, model, *_ in rows]
    registry = [(task, cls.model_fields["name"].default, DEFAULT_MODELS[task]) for task, cls in TASK_TOOLS.items()]
    assert table == registry
