"""Video generation tools: text-to-video and image-to-video.

Providers answer video jobs in their own ways — fal-ai's queue (``video.url``), replicate's prediction
(``output``), novita's ``video.video_url``, together's ``/v2/videos`` job (``outputs.video_url``), wavespeed's
``data.outputs`` — and every one is read by the same media plan as images and audio (see ``_jobs``): poll with
``poll_interval`` / ``max_polls``, fetch the file, type it from its bytes (MP4, MOV, WebM).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from langchain_hfserverless.tools._base import HFServerlessMediaTool, MediaInput, Plan, hub_bytes


class _VideoTool(HFServerlessMediaTool):
    """A video generating tool: polls a provider's job longer than for an image."""

    max_polls: int = 600
    """Polls before giving up on a job (videos take longer than images)."""


class TextToVideoInput(BaseModel):
    prompt: str = Field(
        min_length=1,
        description="A detailed description of the clip: subject, action, setting, camera movement, style, lighting.",
    )
    negative_prompt: str | None = Field(default=None, description="What the video must NOT show (optional).")
    seed: int | None = Field(default=None, ge=0, description="Random seed, to reproduce a clip (optional).")


class TextToVideoTool(_VideoTool):
    """Generate a short video from a text prompt (Hub task ``text-to-video``).

    Served through fal-ai, replicate, novita, together and wavespeed; the job is polled until the clip is ready.
    The artifact is the video as :class:`MediaBytes` (``mime_type`` from its bytes: ``video/mp4``,
    ``video/webm`` or ``video/quicktime``); the model reads its format, size and (for MP4/MOV) duration.
    Generation can take minutes: keep ``timeout`` and ``max_polls`` generous.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TextToVideoTool

            tool = TextToVideoTool(output_dir="videos")
            content, video = tool._run(prompt="A red fox running through fresh snow, slow motion")
            print(content, video.mime_type)
    """

    name: str = "generate_video"
    task = "text-to-video"
    default_model = "Wan-AI/Wan2.2-T2V-A14B"
    summary = (
        "Create a short video clip from a text description (text-to-video, model {model}). Use it when the user "
        "asks for a video, clip or animation. Write a rich prompt: subject, action, setting, camera, style. "
        "Slow (often minutes). Returns the video."
    )
    args_schema: type[BaseModel] = TextToVideoInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = TextToVideoInput(**kwargs)
        parameters = self._parameters(negative_prompt=args.negative_prompt, seed=args.seed)
        return self._generate(args.prompt, parameters, "video", "Generated the video")


class ImageToVideoInput(BaseModel):
    image: MediaInput = Field(
        description="The still image to animate (first frame), as an http(s) URL, a data: URL, or base64. A local "
        "file path works only where this tool is set up to read local files (e.g. the path a generating tool "
        "reported)."
    )
    prompt: str | None = Field(default=None, description="How the scene should move, e.g. 'the cat turns its head'.")
    negative_prompt: str | None = Field(default=None, description="What the video must NOT show (optional).")


class ImageToVideoTool(_VideoTool):
    """Animate an image into a short video (Hub task ``image-to-video``).

    Served through fal-ai, together and wavespeed. The artifact is the video as :class:`MediaBytes`.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import ImageToVideoTool

            message = ImageToVideoTool().invoke(
                {"type": "tool_call", "id": "1", "name": "animate_image",
                 "args": {"image": "cat.png", "prompt": "the cat slowly turns its head"}}
            )
            message.artifact.save("cat.mp4")
    """

    name: str = "animate_image"
    task = "image-to-video"
    default_model = "Wan-AI/Wan2.2-I2V-A14B"
    summary = (
        "Turn a still image into a short video clip that starts from it (image-to-video, model {model}). Use it to "
        "animate a picture the user gave or one generated earlier (pass its URL, or the path it was saved to), "
        "optionally saying how it should move. Slow (often minutes). Returns the video."
    )
    args_schema: type[BaseModel] = ImageToVideoInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = ImageToVideoInput(**kwargs)
        source = yield from self._media_input(args.image, "image")
        parameters = self._parameters(prompt=args.prompt, negative_prompt=args.negative_prompt)
        return (yield from self._generate(hub_bytes(source), parameters, "video", "Generated the video"))
