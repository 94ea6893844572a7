"""Servers the tests start as processes of their own (llama-server, responses.js): a free port, and a stop."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path


def free_port() -> int:
    """A loopback port free right now (another process may still take it before the server binds: retry then)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_pid(pid: int, patience: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``patience`` seconds; the start scripts detach their server, so poll rather
    than wait."""
    for sig, wait in ((signal.SIGTERM, patience), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                return
            if state == "Z":
                return
            time.sleep(0.05)
