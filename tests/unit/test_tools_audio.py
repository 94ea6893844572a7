"""``tools/audio.py``: speech recognition, text-to-speech, audio classification and audio-to-audio end to end over
loopback HTTP, then langchain-tests' standard unit suite for each.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from langchain_hfserverless.errors import (
    HFServerlessAPIError,
)
from langchain_hfserverless.tools import (
    AudioClassificationTool,
    AudioToAudioTool,
    SpeechRecognitionTool,
    TextToSpeechTool,
)
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.media_samples import FLAC
from tests.unit.tool_harness import AUDIO, StandardToolUnit, call, header

# The shared fixtures this module uses.
_servers, server = tool_harness._servers, tool_harness.server


def test_speech_recognition_reads_text_and_keeps_chunks(server: LoopbackServer, tmp_path: Path) -> None:
    answer = {"text": " hello there", "chunks": [{"timestamp": [0.0, 0.5], "text": " hello there"}]}
    server.reply(body=answer)
    audio = tmp_path / "note.flac"
    audio.write_bytes(FLAC)
    tool = SpeechRecognitionTool(base_url=server.url, local_files_dir=str(tmp_path))
    message = call(tool, {"audio": str(audio)})
    assert message.content == "hello there"
    assert message.artifact == answer
    assert server.requests[0].body == FLAC
    assert header(server.requests[0], "content-type") == "audio/flac"


def test_speech_recognition_reads_replicate_output(server: LoopbackServer) -> None:
    server.reply(body={"status": "succeeded", "output": {"transcription": "bonjour"}})
    assert call(SpeechRecognitionTool(base_url=server.url), {"audio": FLAC}).content == "bonjour"


def test_audio_classification_posts_the_raw_audio(server: LoopbackServer) -> None:
    server.reply(body=[{"label": "Speech", "score": 0.8}, {"label": "Music", "score": 0.1}])
    message = call(AudioClassificationTool(base_url=server.url), {"audio": FLAC})
    assert server.requests[0].body == FLAC
    assert message.content == "Speech (0.8000); Music (0.1000)"


def test_audio_to_audio_returns_every_clip_as_media(server: LoopbackServer, tmp_path: Path) -> None:
    blob = base64.b64encode(FLAC).decode()
    server.reply(
        body=[
            {"label": "label_0", "blob": blob, "content-type": "audio/flac"},
            {"label": "label_1", "blob": blob, "content-type": "audio/flac"},
        ]
    )
    message = call(AudioToAudioTool(base_url=server.url, output_dir=str(tmp_path)), {"audio": FLAC}, use_async=True)
    assert [bytes(clip) for clip in message.artifact] == [FLAC, FLAC]
    assert all(clip.mime_type == "audio/flac" for clip in message.artifact)
    assert message.content.startswith("Produced 2 audio clip(s):\nlabel_0: 0.5 s FLAC audio")
    server.reply(body=[{"label": "x", "blob": "not base64!"}])
    with pytest.raises(HFServerlessAPIError, match="is not base64"):
        call(AudioToAudioTool(base_url=server.url), {"audio": FLAC})


# --------------------------------------------------------------------------------------------- standard suite


class TestTextToSpeechToolUnit(StandardToolUnit):
    tool_class = TextToSpeechTool
    example = {"text": "Hello world"}


class TestSpeechRecognitionToolUnit(StandardToolUnit):
    tool_class = SpeechRecognitionTool
    example = {"audio": AUDIO}


class TestAudioClassificationToolUnit(StandardToolUnit):
    tool_class = AudioClassificationTool
    example = {"audio": AUDIO, "top_k": 3}


class TestAudioToAudioToolUnit(StandardToolUnit):
    tool_class = AudioToAudioTool
    example = {"audio": AUDIO}
