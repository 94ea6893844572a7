"""LangChain integration for the Hugging Face Inference Providers router and Serverless Inference API.

The public names load on first use (PEP 562), so importing the package costs nothing until a class is touched:
an app that only needs the chat model never imports the task tools, and vice versa.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_hfserverless._version import __version__
    from langchain_hfserverless.catalog import (
        Catalog,
        aget_catalog,
        find_models,
        find_providers,
        get_catalog,
        load_catalog,
        save_catalog,
    )
    from langchain_hfserverless.chat_models import ChatHFServerless
    from langchain_hfserverless.embeddings import HFServerlessEmbeddings
    from langchain_hfserverless.errors import (
        HFServerlessAPIError,
        HFServerlessAuthenticationError,
        HFServerlessConnectionError,
        HFServerlessContextOverflowError,
        HFServerlessError,
        HFServerlessInvalidRequestError,
        HFServerlessNotFoundError,
        HFServerlessPaymentRequiredError,
        HFServerlessPermissionDeniedError,
        HFServerlessRateLimitError,
        HFServerlessTimeoutError,
    )
    from langchain_hfserverless.llms import HFServerlessLLM
    from langchain_hfserverless.tools import HFServerlessTaskTool, HFServerlessToolkit, MediaBytes, create_task_tool


_EXPORTS = {
    "__version__": "_version",
    "ChatHFServerless": "chat_models",
    "Catalog": "catalog",
    "aget_catalog": "catalog",
    "find_models": "catalog",
    "find_providers": "catalog",
    "get_catalog": "catalog",
    "load_catalog": "catalog",
    "save_catalog": "catalog",
    "HFServerlessEmbeddings": "embeddings",
    "HFServerlessLLM": "llms",
    "HFServerlessTaskTool": "tools",
    "HFServerlessToolkit": "tools",
    "MediaBytes": "tools",
    "create_task_tool": "tools",
    "HFServerlessAPIError": "errors",
    "HFServerlessAuthenticationError": "errors",
    "HFServerlessConnectionError": "errors",
    "HFServerlessContextOverflowError": "errors",
    "HFServerlessError": "errors",
    "HFServerlessInvalidRequestError": "errors",
    "HFServerlessNotFoundError": "errors",
    "HFServerlessPaymentRequiredError": "errors",
    "HFServerlessPermissionDeniedError": "errors",
    "HFServerlessRateLimitError": "errors",
    "HFServerlessTimeoutError": "errors",
}

__all__ = [
    "Catalog",
    "ChatHFServerless",
    "HFServerlessAPIError",
    "HFServerlessAuthenticationError",
    "HFServerlessConnectionError",
    "HFServerlessContextOverflowError",
    "HFServerlessEmbeddings",
    "HFServerlessError",
    "HFServerlessInvalidRequestError",
    "HFServerlessLLM",
    "HFServerlessNotFoundError",
    "HFServerlessPaymentRequiredError",
    "HFServerlessPermissionDeniedError",
    "HFServerlessRateLimitError",
    "HFServerlessTaskTool",
    "HFServerlessTimeoutError",
    "HFServerlessToolkit",
    "MediaBytes",
    "__version__",
    "aget_catalog",
    "create_task_tool",
    "find_models",
    "find_providers",
    "get_catalog",
    "load_catalog",
    "save_catalog",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'langchain_hfserverless' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"langchain_hfserverless.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
