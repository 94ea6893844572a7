"""``examples/rag.py`` runs as written: without a token it replays ``cassettes/rag.yaml`` offline.

The script runs in a subprocess, outside pytest-socket. It is kept off the network twice over: vcrpy replays with
``record_mode="none"`` (an unrecorded request raises), and every proxy variable points at a closed local port.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.unit.behaviour.examples_offline import run_example_offline

ROOT = Path(__file__).resolve().parents[3]
RAG = ROOT / "examples" / "rag.py"
CASSETTE = ROOT / "cassettes" / "rag.yaml"


def _run(script: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_example_offline(script, tmp_path, hub_offline=False)


def test_rag_replays_offline_without_a_token(tmp_path: Path) -> None:
    result = _run(RAG, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("No HF_TOKEN: replaying recorded traffic offline from rag.yaml")
    assert lines[1] == "question: How do I call many open models with one token, and how do I pick the provider?"
    assert lines[2] == "retrieved: [1], [3]"  # the two passages closest to the question, by cosine similarity
    assert lines[3].startswith("answer: Use Inference Providers") and lines[3].endswith("such as :together [3].")


def test_rag_fails_rather_than_going_online(tmp_path: Path) -> None:
    """A request the cassette does not hold (here: a changed question) is refused, not sent to the network."""
    copy = tmp_path / "project"
    (copy / "examples").mkdir(parents=True)
    (copy / "cassettes").mkdir()
    source = RAG.read_text(encoding="utf-8")
    assert "how do I pick the provider?" in source
    (copy / "examples" / "rag.py").write_text(source.replace("how do I pick the provider?", "what is TEI?"))
    shutil.copy(CASSETTE, copy / "cassettes" / "rag.yaml")
    result = _run(copy / "examples" / "rag.py", tmp_path)
    assert result.returncode != 0
    assert "CannotOverwriteExistingCassetteException" in result.stderr
    assert "answer:" not in result.stdout
