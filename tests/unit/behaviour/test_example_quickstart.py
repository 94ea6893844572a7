"""The examples run as written: ``examples/quickstart.py`` without a token replays its cassette, offline.

The script runs in a subprocess, outside pytest-socket. It is kept off the network twice over: vcrpy replays
with ``record_mode="none"`` (an unrecorded request raises), and every proxy variable points at a closed local
port, so a request that slipped past the replay would fail at once rather than reach the internet.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.unit.behaviour.examples_offline import run_example_offline

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = ROOT / "examples" / "quickstart.py"
CASSETTE = ROOT / "cassettes" / "quickstart.yaml"


def _run(script: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_example_offline(script, tmp_path, hub_offline=True)


def test_quickstart_replays_offline_without_a_token(tmp_path: Path) -> None:
    result = _run(QUICKSTART, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "replaying recorded traffic offline" in lines[0]
    assert lines[1:] == [
        "The Hugging Face Hub is an online platform where the machine learning community shares and "
        "discovers models, datasets and demo apps.",
        "served by cerebras as llama3.1-8b",
        "usage: 47 in + 27 out = 74 tokens",
        "stream: 1, 2, 3, 4, 5",
        "stream usage: 46 in + 14 out = 60 tokens",
    ]


def test_quickstart_fails_rather_than_going_online(tmp_path: Path) -> None:
    """A request the cassette does not hold (here: a changed prompt) is refused, not sent to the network."""
    copy = tmp_path / "project"
    (copy / "examples").mkdir(parents=True)
    (copy / "cassettes").mkdir()
    shutil.copy(QUICKSTART, copy / "examples" / "quickstart.py")
    recorded = CASSETTE.read_text(encoding="utf-8")
    assert "what is the Hugging Face Hub?" in recorded
    (copy / "cassettes" / "quickstart.yaml").write_text(
        recorded.replace("what is the Hugging Face Hub?", "what is a model card?"), encoding="utf-8"
    )
    result = _run(copy / "examples" / "quickstart.py", tmp_path)
    assert result.returncode != 0
    assert "replaying recorded traffic offline" in result.stdout.splitlines()[0]
    assert "CannotOverwriteExistingCassetteException" in result.stderr
    assert "served by" not in result.stdout
