"""Run an example script as a new user would, offline: no token, and any request that slips past its cassette
replay goes to a proxy where nothing listens, so it fails at once instead of reaching the network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN", "HUGGINGFACEHUB_API_TOKEN")
_DEAD_END = "http://127.0.0.1:9"  # the discard port: nothing listens there
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def run_example_offline(
    script: Path, tmp_path: Path, *args: str, hub_offline: bool | None = None
) -> subprocess.CompletedProcess[str]:
    """``python script *args`` in ``tmp_path`` (the script finds its cassette from its own location).

    ``hub_offline``: ``True`` sets ``HF_HUB_OFFLINE=1``, ``False`` removes it, ``None`` keeps the caller's.
    """
    env = {k: v for k, v in os.environ.items() if k not in _TOKEN_VARS}
    env.update(dict.fromkeys(_PROXIES, _DEAD_END))
    env.update(
        {
            "NO_PROXY": "",
            "no_proxy": "",
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_TOKEN_PATH": str(tmp_path / "no-token"),
            "PYTHONIOENCODING": "utf-8",
        }
    )
    if hub_offline is True:
        env["HF_HUB_OFFLINE"] = "1"
    elif hub_offline is False:
        env.pop("HF_HUB_OFFLINE", None)
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
