"""huggingface_hub's provider helpers, asked for a request's URL, body and headers, on the configured router.

I/O only through huggingface_hub (its cached Hub look-up of which provider serves a model). The helpers build
router URLs from one constant (``constants.INFERENCE_PROXY_TEMPLATE``, ``https://router.huggingface.co/{provider}``);
rather than patch that process-wide global, a URL they build on the default router is moved onto the configured
``router_url`` afterwards (:func:`on_router`), so two adapters with two routers can live in one process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2

from langchain_hfserverless._wire.errors import error_from_response
from langchain_hfserverless._wire.routing import ROUTER_URL
from langchain_hfserverless.errors import (
    HFServerlessConnectionError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
)


def on_router(url: str, router_url: str) -> str:
    """``url`` built on the default router, moved onto ``router_url`` (any other URL is returned as it is)."""
    if router_url != ROUTER_URL and (url == ROUTER_URL or url.startswith(ROUTER_URL + "/")):
        return router_url + url[len(ROUTER_URL) :]
    return url


def prepare_with_helper(
    task: str,
    model: str,
    token: str,
    headers: Mapping[str, str],
    *,
    inputs: Any,
    parameters: dict[str, Any],
    extra_payload: Mapping[str, Any] | None = None,
    provider: str,
    router_url: str = ROUTER_URL,
) -> tuple[Any, Any]:
    """huggingface_hub's RequestParameters for this task and provider (on ``router_url``), and the helper."""
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.inference._providers import get_provider_helper

    try:
        helper = get_provider_helper(provider, task, model)  # type: ignore[arg-type]
        params = helper.prepare_request(
            inputs=inputs,
            parameters=parameters,
            headers=dict(headers),
            model=model,
            api_key=token,
            extra_payload=dict(extra_payload) if extra_payload else None,
        )
    except HfHubHTTPError as exc:
        response = exc.response
        raise error_from_response(
            response.status_code, dict(response.headers), response.content, model=model, provider=provider
        ) from None
    except (httpx2.TransportError, ConnectionError) as exc:  # the Hub lookup of the provider mapping failed
        raise HFServerlessConnectionError(
            f"Could not look up which provider serves model {model!r} for task {task!r} on the Hugging Face Hub "
            f"({type(exc).__name__}: {exc}). Check the network (and HF_HUB_OFFLINE), or skip the lookup with "
            "base_url= or a 'model:provider' suffix on the chat model.",
            model=model,
            provider=provider,
        ) from None
    except ValueError as exc:
        text = str(exc)
        cls = (
            HFServerlessNotFoundError
            if "not supported" in text or "No provider" in text
            else (HFServerlessInvalidRequestError)
        )
        raise cls(
            f"Cannot route model {model!r} for task {task!r} via provider {provider!r}: {text}",
            model=model,
            provider=provider,
        ) from None
    params.url = on_router(params.url, router_url)
    return params, helper
