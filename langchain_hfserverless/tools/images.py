"""Image generation tools: text-to-image and image-to-image."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from langchain_hfserverless.tools._base import HFServerlessMediaTool, MediaInput, Plan, hub_bytes


class TextToImageInput(BaseModel):
    prompt: str = Field(
        min_length=1,
        description="A detailed description of the image to create: subject, setting, style, lighting, composition.",
    )
    negative_prompt: str | None = Field(default=None, description="What the image must NOT contain (optional).")
    width: int | None = Field(default=None, gt=0, le=4096, description="Width in pixels (optional).")
    height: int | None = Field(default=None, gt=0, le=4096, description="Height in pixels (optional).")


class TextToImageTool(HFServerlessMediaTool):
    """Generate an image from a text prompt (Hub task ``text-to-image``).

    Reads every answer style providers use — raw bytes, base64 in JSON, a URL to fetch, a job to poll — and
    returns the image as a content block the model can look at, plus :class:`MediaBytes` as the artifact.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TextToImageTool

            tool = TextToImageTool(output_dir="images")
            msg = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name,
                               "args": {"prompt": "A lighthouse at dawn, watercolour"}})
            msg.artifact.save("lighthouse.png")
    """

    name: str = "generate_image"
    task = "text-to-image"
    default_model = "black-forest-labs/FLUX.1-schnell"
    summary = (
        "Create a new image from a text description (text-to-image, model {model}). Use it when the user asks to "
        "draw, paint, render, illustrate or generate a picture. Write a rich, specific prompt. Returns the image."
    )
    args_schema: type[BaseModel] = TextToImageInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = TextToImageInput(**kwargs)
        parameters = self._parameters(negative_prompt=args.negative_prompt, width=args.width, height=args.height)
        return self._generate(args.prompt, parameters, "image", "Generated the image")


class ImageToImageInput(BaseModel):
    image: MediaInput = Field(
        description="The image to transform, as an http(s) URL, a data: URL, or base64. A local file path works "
        "only where this tool is set up to read local files (e.g. the path a generating tool reported)."
    )
    prompt: str = Field(min_length=1, description="How to change the image, e.g. 'make it a snowy night scene'.")
    negative_prompt: str | None = Field(default=None, description="What the result must NOT contain (optional).")


class ImageToImageTool(HFServerlessMediaTool):
    """Transform or edit an image following an instruction (Hub task ``image-to-image``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import ImageToImageTool

            tool = ImageToImageTool()
            content, image = tool._run(image="cat.png", prompt="turn the cat into a tiger")
    """

    name: str = "edit_image"
    task = "image-to-image"
    default_model = "black-forest-labs/FLUX.1-Kontext-dev"
    summary = (
        "Edit or restyle an existing image following an instruction (image-to-image, model {model}). Use it to "
        "change, restyle, retouch or transform a picture the user gave or one generated earlier (pass its file "
        "path or URL). Returns the new image."
    )
    args_schema: type[BaseModel] = ImageToImageInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = ImageToImageInput(**kwargs)
        source = yield from self._media_input(args.image, "image")
        parameters = self._parameters(prompt=args.prompt, negative_prompt=args.negative_prompt)
        return (yield from self._generate(hub_bytes(source), parameters, "image", "Edited the image"))
