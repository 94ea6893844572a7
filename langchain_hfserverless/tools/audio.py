"""Audio tools: text-to-speech, automatic speech recognition, audio classification, audio-to-audio."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from langchain_hfserverless._transport import Route
from langchain_hfserverless.tools._answers import labels_answer, text_answer
from langchain_hfserverless.tools._base import (
    HFServerlessMediaTool,
    HFServerlessTaskTool,
    MediaInput,
    Plan,
    hub_bytes,
)
from langchain_hfserverless.tools._jobs import AnswerError
from langchain_hfserverless.tools._media import MediaBytes, media_output, summarise_media

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
        return self._generate(args.text, self._parameters(), "audio", "Generated speech")


class SpeechRecognitionInput(BaseModel):
    audio: MediaInput = Field(
        description="The recording to transcribe (FLAC, WAV, MP3, OGG, WEBM, M4A) as an http(s) URL, a data: URL, "
        "or base64. A local file path works only where this tool is set up to read local files."
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
            return transcript_of(payload, route)  # reads with the route's provider helper
        except AnswerError as exc:
            raise self._unreadable(route, exc) from None


_AUDIO = (
    "The recording (FLAC, WAV, MP3, OGG, WEBM, M4A) as an http(s) URL, a data: URL, or base64. A local file path "
    "works only where this tool is set up to read local files."
)


class AudioClassificationInput(BaseModel):
    audio: MediaInput = Field(description=_AUDIO)
    top_k: int | None = Field(default=None, ge=1, le=100, description="How many labels to return (optional).")


class AudioClassificationTool(HFServerlessTaskTool):
    """Label an audio clip with the classes of a classifier (Hub task ``audio-classification``).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import AudioClassificationTool

            print(AudioClassificationTool().invoke({"audio": "doorbell.wav"}))
    """

    name: str = "classify_audio"
    task = "audio-classification"
    default_model = "MIT/ast-finetuned-audioset-10-10-0.4593"
    summary = (
        "Classify an audio clip into the fixed label set of model {model} (the default model knows the 527 "
        "AudioSet sound classes: speech, music, dog bark, siren...), with a confidence score per label."
    )
    args_schema: type[BaseModel] = AudioClassificationInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = AudioClassificationInput(**kwargs)
        return self._read_media_json(args.audio, "audio", self._parameters(top_k=args.top_k), labels_answer)


class AudioToAudioInput(BaseModel):
    audio: MediaInput = Field(description=_AUDIO)


def produced_audio(payload: Any) -> list[tuple[str, MediaBytes]]:
    """``[{"label", "blob": <base64>, "content-type"}]`` -> ``(label, audio)`` pairs, in the server's order."""
    if isinstance(payload, Mapping):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(item, Mapping) for item in payload):
        raise AnswerError(f"expected a list of audio outputs, got {str(payload)[:120]}")
    outputs = []
    for item in payload:
        blob = item.get("blob")
        if not isinstance(blob, str):
            raise AnswerError(f"an output has no base64 'blob' (keys: {sorted(item)})")
        try:
            data = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise AnswerError(f"the blob of output {item.get('label')!r} is not base64") from None
        audio = media_output(data, "audio", declared=item.get("content-type"))
        if audio is None:
            raise AnswerError(f"output {item.get('label')!r} is not audio")
        outputs.append((str(item.get("label", "")), audio))
    return outputs


class AudioToAudioTool(HFServerlessMediaTool):
    """Enhance or separate audio (Hub task ``audio-to-audio``): denoising, speech enhancement, source separation.

    The artifact is the list of produced clips as :class:`MediaBytes` (one per source for separation models),
    in the server's order; the model reads their labels, formats, durations and (with ``output_dir``) paths.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import AudioToAudioTool

            tool = AudioToAudioTool(output_dir="separated")
            content, clips = tool._run(audio="two_speakers.flac")
    """

    name: str = "transform_audio"
    task = "audio-to-audio"
    default_model = "speechbrain/sepformer-wham"
    summary = (
        "Process an audio recording into new audio (audio-to-audio, model {model}): the default model separates "
        "overlapping speakers into one clip each; others remove noise or enhance speech. Returns the clips."
    )
    args_schema: type[BaseModel] = AudioToAudioInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = AudioToAudioInput(**kwargs)
        outputs = yield from self._read_media_json(args.audio, "audio", self._parameters(), produced_audio)
        if not outputs:
            return "The model produced no audio.", []
        directory = self._output_directory()
        lines = []
        for label, clip in outputs:
            line = f"{label or 'audio'}: {summarise_media(clip)}"
            if directory is not None:
                line += f", saved to {clip.save(directory)}"
            lines.append(line)
        return f"Produced {len(outputs)} audio clip(s):\n" + "\n".join(lines), [clip for _, clip in outputs]
