"""The examples run as written: ``examples/quickstart.py`` without a token replays its cassette, offline.

The script runs in a subprocess, outside pytest-socket. It is kept off the network twice over: vcrpy replays
with ``record_mode="none"`` (an unrecorded request raises), and every proxy variable points at a closed local
port, so a request that slipped past the replay would fail at once rather than reach the internet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = ROOT / "examples" / "quickstart.py"
CASSETTE = ROOT / "cassettes" / "quickstart.yaml"
_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN", "HUGGINGFACEHUB_API_TOKEN")


def _offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _TOKEN_VARS}
    dead_end = "http://127.0.0.1:9"  # discard port: nothing listens, a stray request fails immediately
    env.update(
        {
            "HTTP_PROXY": dead_end,
            "HTTPS_PROXY": dead_end,
            "ALL_PROXY": dead_end,
            "http_proxy": dead_end,
            "https_proxy": dead_end,
            "all_proxy": dead_end,
            "NO_PROXY": "",
            "no_proxy": "",
            "HF_HUB_OFFLINE": "1",
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_TOKEN_PATH": str(tmp_path / "no-token"),
            "PYTHONIOENCODING": "utf-8",
        }
    )
    return env


def _run(script: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,  # the script finds its cassette from its own location, not the working directory
        env=_offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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
