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

    pyproject = (Path(__file__).parents[3] / "pyproject.toml").read_text()
    assert f'\nversion = "{__version__}"\n' in pyproject
    assert "__version__" in langchain_hfserverless.__all__


def _build(kind: str, out: Path) -> Path:
    """Build the wheel or sdist offline, with the build backend of the test environment (no isolation)."""
    pytest.importorskip("build")
    pytest.importorskip("setuptools")
    root = Path(__file__).parents[3]
    done = subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(out), str(root)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (artifact,) = out.glob("*.whl" if kind == "wheel" else "*.tar.gz")
    return artifact


def test_the_wheel_holds_license_typing_marker_and_metadata(tmp_path: Path) -> None:
    import email
    import zipfile

    with zipfile.ZipFile(_build("wheel", tmp_path)) as wheel:
        names = wheel.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(wheel.read(meta_name))
    assert "langchain_hfserverless/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert meta["License-Expression"] == "Apache-2.0"
    assert "Typing :: Typed" in meta.get_all("Classifier")
    assert meta.get_all("Project-URL")
    requires = meta.get_all("Requires-Dist")
    # Every runtime dependency is bounded above at its next major.
    runtime = [r for r in requires if "extra ==" not in r]
    assert runtime and all("<" in r for r in runtime), runtime


def test_the_sdist_holds_license_and_tests(tmp_path: Path) -> None:
    import tarfile

    with tarfile.open(_build("sdist", tmp_path)) as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    assert "LICENSE" in names
    assert "langchain_hfserverless/py.typed" in names
    assert "pyproject.toml" in names
