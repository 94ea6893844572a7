"""``examples/multimodal_agent.py`` runs as written without a token: it replays its cassette, offline.

Once in-process (under pytest-socket: no network at all), once as a new user runs it — a subprocess with every
proxy variable pointing at a closed local port, so a request that slipped past the replay fails at once.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.unit.behaviour.examples_offline import run_example_offline

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "multimodal_agent.py"


@pytest.fixture
def example() -> Iterator[ModuleType]:
    from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping

    _fetch_inference_provider_mapping.cache_clear()  # the example asks the Hub who serves each model
    spec = importlib.util.spec_from_file_location("multimodal_agent", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    _fetch_inference_provider_mapping.cache_clear()


def test_the_pipeline_replays_in_process(
    example: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = example.main(["--out", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "Offline: replaying cassettes/multimodal_agent.yaml with vcrpy (set HF_TOKEN to call the router live)."
    )
    assert lines[1].startswith("1. prompt written by meta-llama/Llama-3.3-70B-Instruct: A lone white lighthouse")
    assert lines[2].startswith("2. Generated the image (32x24 PNG image")
    assert lines[3].startswith("3. Qwen/Qwen2.5-VL-7B-Instruct sees: A white lighthouse stands on a dark cliff")
    assert lines[4].startswith("4. Generated speech (0.2 s WAV audio")
    assert result["image"].mime_type == "image/png" and result["speech"].mime_type == "audio/wav"
    assert result["description"].startswith("A white lighthouse")
    saved = sorted(p.suffix for p in tmp_path.iterdir())
    assert saved == [".png", ".wav"]


def test_another_subject_needs_a_token(example: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="default subject only"):
        example.main(["--subject", "a cat", "--out", str(tmp_path)])


def test_a_new_user_runs_it_offline(tmp_path: Path) -> None:
    result = run_example_offline(EXAMPLE, tmp_path, "--out", "media")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("Offline: replaying cassettes/multimodal_agent.yaml")
    assert len(result.stdout.splitlines()) == 5
    assert sorted(p.suffix for p in (tmp_path / "media").iterdir()) == [".png", ".wav"]
