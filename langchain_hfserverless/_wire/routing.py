"""Where a request goes, as pure string work: router URLs, Hugging Face hosts, ``model:provider`` suffixes.

Pure: no I/O. The transport decides routes (and asks the Hub when it must); adapters and task tools read the same
rules from here instead of from the I/O module.
"""

from __future__ import annotations

from urllib.parse import urlsplit

ROUTER_URL = "https://router.huggingface.co"
ROUTER_CHAT_URL = f"{ROUTER_URL}/v1/chat/completions"
ROUTING_SUFFIXES = ("fastest", "cheapest", "preferred")
"""``model:<suffix>`` values that ask the router to choose a provider rather than name one."""
_HF_HOST_SUFFIXES = ("huggingface.co", "hf.co", "huggingface.cloud")


def is_hf_url(url: str) -> bool:
    """True for Hugging Face hosts (router, Hub, Inference Endpoints), which may receive the ambient token."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == s or host.endswith("." + s) for s in _HF_HOST_SUFFIXES)


def split_model(model: str) -> tuple[str, str | None]:
    """``"org/model:provider"`` -> ``("org/model", "provider")``; no suffix -> ``(model, None)``."""
    head, sep, tail = model.rpartition(":")
    if sep and head and "/" not in tail and tail:
        return head, tail
    return model, None


def chat_completions_url(base_url: str) -> str:
    """Accept a server root, its ``/v1``, or the full chat URL; return ``…/v1/chat/completions``."""
    root = base_url.rstrip("/")
    if root.endswith("/chat/completions"):
        return root
    if root.endswith("/v1"):
        return f"{root}/chat/completions"
    return f"{root}/v1/chat/completions"
