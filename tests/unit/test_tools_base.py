"""``tools/_base.py``: what every task tool shares, over loopback HTTP: retries and typed errors, argument checks
before any request, routing through a provider's helper, descriptions and fields.
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_hfserverless.errors import (
    HFServerlessAPIError,
    HFServerlessAuthenticationError,
    HFServerlessInvalidRequestError,
    HFServerlessNotFoundError,
)
from langchain_hfserverless.tools import (
    SummarizationTool,
    TextClassificationTool,
    TextToImageTool,
    TranslationTool,
    ZeroShotClassificationTool,
)
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.media_samples import PNG
from tests.unit.tool_harness import call, header

# The shared fixtures this module uses.
_servers, cdn, router, server = tool_harness._servers, tool_harness.cdn, tool_harness.router, tool_harness.server


# ----------------------------------------------------------------------------------------- errors and retries


def test_retries_a_loading_model_then_answers(server: LoopbackServer) -> None:
    server.reply(status=503, body={"error": "Model m is currently loading", "estimated_time": 0})
    server.reply(body=[[{"label": "POSITIVE", "score": 1.0}]])
    assert call(TextClassificationTool(base_url=server.url), {"text": "x"}).content == "POSITIVE (1.0000)"
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, {"error": "Model m does not exist"}, HFServerlessNotFoundError),
        (401, {"error": "Invalid username or password."}, HFServerlessAuthenticationError),
        (422, "Failed to deserialize the JSON body into the target type", HFServerlessInvalidRequestError),
    ],
)
def test_http_errors_are_typed_and_not_retried(server: LoopbackServer, status: int, body: Any, error: type) -> None:
    server.reply(status=status, body=body)
    with pytest.raises(error, match=f"HTTP {status}"):
        call(SummarizationTool(base_url=server.url, max_retries=3), {"text": "x"})
    assert len(server.requests) == 1


def test_an_error_inside_a_200_is_raised(server: LoopbackServer) -> None:
    server.reply(body={"error": "Input validation error: too long", "error_type": "validation"})
    with pytest.raises(HFServerlessInvalidRequestError, match="too long"):
        call(TranslationTool(base_url=server.url), {"text": "x"})


def test_an_unexpected_shape_is_an_api_error_naming_model(server: LoopbackServer) -> None:
    server.reply(body={"weird": True})
    with pytest.raises(HFServerlessAPIError, match="Unreadable translation answer from model None"):
        call(TranslationTool(base_url=server.url), {"text": "x"})


def test_no_token_for_the_router_is_a_clear_error_before_any_request() -> None:
    with pytest.raises(HFServerlessAuthenticationError, match=r"pass api_key=\.\.\., set HF_TOKEN"):
        call(TextClassificationTool(), {"text": "x"})


def test_bad_arguments_are_rejected_by_the_schema(server: LoopbackServer) -> None:
    tool = ZeroShotClassificationTool(base_url=server.url)
    with pytest.raises(ValueError, match="candidate_labels"):
        tool.invoke({"text": "x", "candidate_labels": []})
    with pytest.raises(ValueError, match="prompt"):
        TextToImageTool(base_url=server.url).invoke({"prompt": ""})
    assert server.requests == []


# --------------------------------------------------------------------------------- routing through a provider


def test_provider_helpers_shape_the_request(router: LoopbackServer, cdn: LoopbackServer) -> None:
    model = "black-forest-labs/FLUX.1-schnell"
    router.reply(
        body={
            "id": model,
            "inferenceProviderMapping": {
                "fal-ai": {"status": "live", "providerId": "fal-ai/flux/schnell", "task": "text-to-image"}
            },
        }
    )
    router.reply(body={"images": [{"url": f"{cdn.url}/x.png"}]})
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    tool = TextToImageTool(provider="fal-ai", api_key="hf_test", parameters={"seed": 7})
    message = call(tool, {"prompt": "a fox", "width": 512, "height": 384})
    assert bytes(message.artifact) == PNG
    mapping, post = router.requests
    assert mapping.path == f"/api/models/{model}?expand=inferenceProviderMapping"
    assert post.path == "/fal-ai/fal-ai/flux/schnell"
    assert post.json() == {"prompt": "a fox", "seed": 7, "image_size": {"width": 512, "height": 384}}
    assert header(post, "Authorization") == "Bearer hf_test"


def test_a_provider_that_does_not_serve_the_task_is_a_not_found_error(router: LoopbackServer) -> None:
    with pytest.raises(HFServerlessNotFoundError, match="not supported for provider 'groq'"):
        call(TextToImageTool(provider="groq", api_key="hf_test"), {"prompt": "p"})


# ----------------------------------------------------------------------------------------------- construction


def test_description_names_the_model_unless_given() -> None:
    assert "stabilityai/sdxl" in TextToImageTool(model="stabilityai/sdxl").description
    assert TextToImageTool(description="Draw things.").description == "Draw things."
    assert "the model behind base_url" in TextToImageTool(base_url="http://x").description
    assert TextToImageTool(base_url="http://x").model is None
    assert TextToImageTool().model == "black-forest-labs/FLUX.1-schnell"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="modle"):
        TextToImageTool(modle="x")
