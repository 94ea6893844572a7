"""The package root: every public name resolves, lazily, and nothing else does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import langchain_hfserverless


@pytest.mark.parametrize("name", [n for n in langchain_hfserverless.__all__ if n != "__version__"])
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(langchain_hfserverless, name)
    assert getattr(value, "__name__", None) == name


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'ChatHuggingFace'"):
        _ = langchain_hfserverless.ChatHuggingFace  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_adapter() -> None:
    code = (
        "import sys, langchain_hfserverless; "
        "print(sorted(m for m in sys.modules if m.startswith('langchain_hfserverless.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_is_the_projects() -> None:
    from langchain_hfserverless import __version__

    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert f'\nversion = "{__version__}"\n' in pyproject
    assert "__version__" in langchain_hfserverless.__all__
