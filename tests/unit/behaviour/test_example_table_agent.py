"""``examples/table_agent.py`` runs as written without a token: it replays its cassette, offline.

Once in-process (under pytest-socket: no network at all), once as a new user runs it — a subprocess with every
proxy variable pointing at a closed local port, so a request that slipped past the replay fails at once. The replay
matches request bodies, so the tool call the agent wrote must reach TAPAS as the table the recording answered.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.unit.behaviour.examples_offline import run_example_offline

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "table_agent.py"


@pytest.fixture
def example() -> Iterator[ModuleType]:
    from huggingface_hub.inference._providers._common import _fetch_inference_provider_mapping
    from huggingface_hub.inference._providers.hf_inference import _check_supported_task

    # The example asks the Hub who serves the model and what it does: each run replays those look-ups.
    _fetch_inference_provider_mapping.cache_clear()
    _check_supported_task.cache_clear()
    spec = importlib.util.spec_from_file_location("table_agent", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    _fetch_inference_provider_mapping.cache_clear()
    _check_supported_task.cache_clear()


def test_the_agent_replays_in_process(example: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    result = example.main([])
    assert capsys.readouterr().out.splitlines() == [
        "Offline: replaying cassettes/table_agent.yaml with vcrpy (set HF_TOKEN to call the router live).",
        "1. meta-llama/Llama-3.3-70B-Instruct asks ask_about_table: How many stars does the transformers repository "
        "have?",
        "2. Answer: AVERAGE > 36542. Cells used: 36542. Aggregation: AVERAGE",  # TAPAS's recorded answer
        "3. The transformers repository has 36,542 stars.",
    ]
    assert result["call"]["args"]["table"]["Stars"] == ["36542", "4512", "3934"]
    assert result["table_answer"] == {
        "answer": "AVERAGE > 36542",
        "coordinates": [[0, 1]],
        "cells": ["36542"],
        "aggregator": "AVERAGE",
    }


def test_another_question_needs_a_token(example: ModuleType) -> None:
    with pytest.raises(SystemExit, match="default question only"):
        example.main(["--question", "Which repository has the most contributors?"])


def test_a_new_user_runs_it_offline(tmp_path: Path) -> None:
    result = run_example_offline(EXAMPLE, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("Offline: replaying cassettes/table_agent.yaml")
    assert result.stdout.splitlines()[-1] == "3. The transformers repository has 36,542 stars."
