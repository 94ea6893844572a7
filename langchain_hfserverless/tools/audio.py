"""Speech tools: text-to-speech and automatic speech recognition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from langchain_hfserverless._transport import Route
from langchain_hfserverless.tools._answers import text_answer
from langchain_hfserverless.tools._base import (
    HFServerlessMediaTool,
    HFServerlessTaskTool,
    MediaInput,
    Open,
    Plan,
    Post,
    hub_bytes,
)
from langchain_hfserverless.tools._jobs import AnswerError

# huggingface_hub helpers whose get_response only reshapes JSON (no I/O of their own): safe to ask.
_PURE_ASR_HELPERS = frozenset({"FalAIAutomaticSpeechRecognitionTask", "DeepInfraAutomaticSpeechRecognitionTask"})


class TextToSpeechInput(BaseModel):
    text: str = Field(min_length=1, description="The exact words to speak aloud.")


class TextToSpeechTool(HFServerlessMediaTool):
    """Turn text into spoken audio (Hub task ``text-to-speech``); the artifact is the audio as :class:`MediaBytes`.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TextToSpeechTool

            tool = TextToSpeechTool(output_dir="audio")
            content, audio = tool._run(text="Hello from the Hugging Face router.")
            print(content, audio.mime_type)
    """

    name: str = "text_to_speech"
    task = "text-to-speech"
    default_model = "hexgrad/Kokoro-82M"
    summary = (
        "Read a text aloud: synthesise natural speech audio from it (text-to-speech, model {model}). Use it when "
        "the user wants to hear something, or asks for narration, a voice-over or an audio version."
    )
    args_schema: type[BaseModel] = TextToSpeechInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = TextToSpeechInput(**kwargs)
        route = yield Open(args.text, self._parameters() or None)
        reply = yield Post(route)
        audio = yield from self._answer_media(route, reply, "audio")
        return self._media_result(audio, "Generated speech")


class SpeechRecognitionInput(BaseModel):
    audio: MediaInput = Field(
        description="The recording to transcribe (FLAC, WAV, MP3, OGG, WEBM, M4A): a local file path, an http(s) "
        "URL, a data: URL, or base64 bytes."
    )


def transcript_of(payload: Any, route: Route) -> tuple[str, dict[str, Any]]:
    """The transcript of an ASR answer: ``{"text", "chunks"?}``, a provider shape huggingface_hub reads, or
    replicate's ``output``."""
    if isinstance(payload, Mapping) and not isinstance(payload.get("text"), str):
        helper = route.helper
        if helper is not None and type(helper).__name__ in _PURE_ASR_HELPERS:
            try:
                payload = helper.get_response(dict(payload))
            except (KeyError, TypeError, ValueError) as exc:
                raise AnswerError(f"huggingface_hub could not read it either: {exc}") from None
        elif "output" in payload:
            payload = {"text": _replicate_text(payload["output"]), "output": payload["output"]}
    return text_answer(payload, "text")


def _replicate_text(output: Any) -> str:
    if isinstance(output, list) and output:
        output = output[0]
    if isinstance(output, str):
        return output
    if isinstance(output, Mapping):
        for key in ("transcription", "translation", "text"):
            if isinstance(output.get(key), str):
                return str(output[key])
    raise AnswerError(f"no transcript in replicate output {str(output)[:120]}")


class SpeechRecognitionTool(HFServerlessTaskTool):
    """Transcribe speech to text (Hub task ``automatic-speech-recognition``); the artifact keeps any timestamps.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import SpeechRecognitionTool

            tool = SpeechRecognitionTool()
            print(tool.invoke({"audio": "meeting.flac"}))
    """

    name: str = "transcribe_audio"
    task = "automatic-speech-recognition"
    default_model = "openai/whisper-large-v3"
    summary = (
        "Transcribe the speech in an audio recording into text (speech recognition, model {model}). Use it for "
        "voice notes, calls, podcasts or any audio file or URL the user wants written out."
    )
    args_schema: type[BaseModel] = SpeechRecognitionInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = SpeechRecognitionInput(**kwargs)
        audio = yield from self._media_input(args.audio, "audio")
        payload, route = yield from self._call_json(hub_bytes(audio), self._parameters())
        try:
            return transcript_of(payload, route)
        except AnswerError as exc:
            raise self._unreadable(route, exc) from None
