"""The README's ``## Task tools`` table lists exactly the tools ``create_task_tool`` knows: task, tool name and
default model, one row each, in the registry's order."""

from __future__ import annotations

from langchain_hfserverless.tools import DEFAULT_MODELS, TASK_TOOLS
from tests.cassettes import ROOT


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
