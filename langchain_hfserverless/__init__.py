"""LangChain integration for the Hugging Face Inference Providers router and Serverless Inference API."""

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

__version__ = "0.1.0"

__all__ = [
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
    "create_task_tool",
]
