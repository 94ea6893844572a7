"""Media in and out of the task tools (``tools/_media.py``): recognising, reading, checking and describing; what a
model is told it may send in a media argument, read from the tool-call schema a chat model receives; and the rules a
tool applies to a media argument over loopback HTTP: URLs that fail or are not media, schemes, local files (refused by
default, confined to ``local_files_dir``). How a URL argument is fetched is ``test_untrusted_fetch.py``."""

from __future__ import annotations

import base64
import io
import json
import math
import pickle
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import ToolException
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_hfserverless.tools import TASK_TOOLS, ImageToTextTool, MediaBytes, MediaInputError
from langchain_hfserverless.tools._media import (
    RemoteMedia,
    audio_seconds,
    image_size,
    media_output,
    read_media_input,
    sniff_mime,
    sniff_video,
    summarise_media,
    video_seconds,
)
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.media_samples import MP4, PNG, WEBM, mp4
from tests.unit.tool_harness import CAPTION, FakeNetwork, Runner, both, call, header, refusal, tool_for

LIMIT = 1_000_000


def png(width: int = 5, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(1000 * math.sin(i))) for i in range(int(seconds * rate))))
    return buffer.getvalue()


def flac_header(rate: int, samples: int) -> bytes:
    packed = (rate << 44) | (1 << 41) | (15 << 36) | samples  # rate, 2 channels, 16 bits, total samples
    streaminfo = b"\x10\x00\x10\x00" + b"\x00" * 6 + packed.to_bytes(8, "big") + b"\x00" * 16
    return b"fLaC" + b"\x80\x00\x00\x22" + streaminfo


JPEG = b"\xff\xd8\xff\xe0\x00\x04JF" + b"\xff\xc0\x00\x0b\x08" + struct.pack(">HH", 480, 640) + b"\x01\x01\x11\x00"
GIF = b"GIF89a" + struct.pack("<HH", 7, 9) + b"\x00" * 8
WEBP_VP8X = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00" * 8 + (99).to_bytes(3, "little") + (49).to_bytes(3, "little")


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (png(), "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP_VP8X, "image/webp"),
        (b"II*\x00" + b"\x00" * 12, "image/tiff"),
        (b"BM" + b"\x00" * 40, "image/bmp"),
        (wav(0.01), "audio/wav"),
        (flac_header(16000, 16000), "audio/flac"),
        (b"OggS\x00\x02" + b"\x00" * 20, "audio/ogg"),
        (b"ID3\x04\x00" + b"\x00" * 20, "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 20, "audio/mpeg"),
        (b"\xff\xf1\x50\x80" + b"\x00" * 20, "audio/aac"),
        (b"\x1aE\xdf\xa3" + b"\x00" * 20, "audio/webm"),
        (b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 20, "audio/mp4"),
        (b"\x00\x00\x00\x20ftypavif" + b"\x00" * 20, "image/avif"),
        (b"<html>not media</html>", None),
        (b"", None),
    ],
)
def test_sniff_mime_reads_the_first_bytes(data: bytes, mime: str | None) -> None:
    assert sniff_mime(data) == mime


def test_image_size_from_headers() -> None:
    assert image_size(png(5, 3)) == (5, 3)
    assert image_size(JPEG) == (640, 480)
    assert image_size(GIF) == (7, 9)
    assert image_size(WEBP_VP8X) == (100, 50)
    assert image_size(b"\x89PNG\r\n\x1a\n") is None


def test_audio_seconds_from_wav_and_flac_headers() -> None:
    assert audio_seconds(wav(0.5)) == pytest.approx(0.5)
    assert audio_seconds(flac_header(16000, 24000)) == pytest.approx(1.5)
    assert audio_seconds(b"ID3\x04") is None


def test_bytes_and_base64_and_data_urls_become_checked_media() -> None:
    data = png()
    b64 = base64.b64encode(data).decode()
    for value in (data, bytearray(data), b64, f" {b64[:20]}\n{b64[20:]} ", f"data:image/png;base64,{b64}"):
        media = read_media_input(value, "image", max_bytes=LIMIT)
        assert isinstance(media, MediaBytes)
        assert bytes(media) == data
        assert media.mime_type == "image/png"
    urlsafe = base64.urlsafe_b64encode(b"\xff\xd8\xff" + b"\xfb" * 30).decode().rstrip("=")
    assert read_media_input(urlsafe, "image", max_bytes=LIMIT).mime_type == "image/jpeg"  # type: ignore[union-attr]


def test_urls_are_left_for_the_transport_to_fetch() -> None:
    assert read_media_input("https://example.com/cat.png", "image", max_bytes=LIMIT) == RemoteMedia(
        "https://example.com/cat.png"
    )


def test_local_files_by_str_path_and_file_url(tmp_path: Path) -> None:
    target = tmp_path / "tone.wav"
    target.write_bytes(wav(0.1))
    for value in (str(target), target, f"file://{target}"):
        media = read_media_input(value, "audio", max_bytes=LIMIT, allow_local_files=True)
        assert isinstance(media, MediaBytes)
        assert media.mime_type == "audio/wav"


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("/no/such/picture.png", "image", "No such file: '/no/such/picture.png'"),
        ("cat.jpg", "image", "No such file: 'cat.jpg'"),
        ("", "image", "The image argument is empty"),
        ("hello there", "image", "Cannot read 'hello there' as an image"),
        (base64.b64encode(b"just some text, not a picture").decode(), "image", "or base64 of a PNG, JPEG"),
        (wav(0.01), "image", "is audio/wav, not an image"),
        (png(), "audio", "is image/png, not an audio clip"),
        (b"", "image", "is empty"),
        ("data:image/png,notbase64", "image", "Unreadable data URL"),
        ("data:image/png;base64,!!!!", "image", "does not hold valid base64"),
        (42, "image", "Unsupported image input of type int"),
    ],
)
def test_bad_media_says_what_is_wrong(value: object, kind: str, message: str) -> None:
    with pytest.raises(MediaInputError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        read_media_input(value, kind, max_bytes=LIMIT, allow_local_files=True)  # type: ignore[arg-type]
    assert isinstance(caught.value, ToolException)  # agents with handle_tool_error see the message
    assert "send" in str(caught.value).lower() or "pass" in str(caught.value).lower()


def test_size_limit_applies_to_bytes_and_files(tmp_path: Path) -> None:
    data = png()
    with pytest.raises(MediaInputError, match="over the 10 B limit"):
        read_media_input(data, "image", max_bytes=10)
    target = tmp_path / "big.png"
    target.write_bytes(data)
    with pytest.raises(MediaInputError, match="raise max_input_bytes"):
        read_media_input(str(target), "image", max_bytes=10, allow_local_files=True)


def test_local_files_can_be_refused(tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    target.write_bytes(png())
    with pytest.raises(MediaInputError, match="allow_local_files=False"):
        read_media_input(str(target), "image", max_bytes=LIMIT, allow_local_files=False)
    # Inline media is still fine.
    assert isinstance(read_media_input(png(), "image", max_bytes=LIMIT, allow_local_files=False), MediaBytes)


def test_a_declared_type_is_used_only_when_the_bytes_are_not_recognised() -> None:
    odd = b"\x00\x01\x02 raw pcm of some kind"
    media = read_media_input(f"data:audio/mpeg;base64,{base64.b64encode(odd).decode()}", "audio", max_bytes=LIMIT)
    assert media.mime_type == "audio/mpeg"  # type: ignore[union-attr]
    with pytest.raises(MediaInputError, match=r"declared as text/plain"):
        read_media_input(f"data:text/plain;base64,{base64.b64encode(odd).decode()}", "audio", max_bytes=LIMIT)


def test_media_bytes_round_trip_and_blocks(tmp_path: Path) -> None:
    media = MediaBytes(png(), "image/png", "https://cdn.example/x.png")
    again = pickle.loads(pickle.dumps(media))
    assert (bytes(again), again.mime_type, again.source_url) == (bytes(media), "image/png", "https://cdn.example/x.png")
    assert media.to_content_block() == {
        "type": "image",
        "base64": base64.b64encode(png()).decode(),
        "mime_type": "image/png",
    }
    assert media.extension == ".png"
    saved = media.save(tmp_path)
    assert saved.parent == tmp_path and saved.suffix == ".png" and saved.read_bytes() == png()
    named = media.save(tmp_path / "chosen.png")
    assert named.name == "chosen.png"


def test_generated_output_is_typed_by_its_bytes_or_refused() -> None:
    assert media_output(png(), "image").mime_type == "image/png"  # type: ignore[union-attr]
    assert media_output(b"\x00raw", "audio", declared="audio/L16; rate=16000") is not None
    assert media_output(b"<html>error</html>", "image", declared="text/html") is None
    assert media_output(wav(0.01), "image") is None  # audio where an image was expected
    assert media_output(b"", "image") is None


def test_summaries_say_size_format_and_dimensions() -> None:
    assert summarise_media(MediaBytes(png(5, 3), "image/png")).startswith("5x3 PNG image, ")
    assert summarise_media(MediaBytes(wav(0.5), "audio/wav")).startswith("0.5 s WAV audio, ")
    assert summarise_media(MediaBytes(b"ID3" + b"\x00" * 2000, "audio/mpeg")) == "MPEG audio, 2 KB"


MEDIA_ARGUMENTS = ("image", "audio")


def _media_arguments() -> list[tuple[str, str]]:
    found = []
    for task, cls in sorted(TASK_TOOLS.items()):
        tool = cls(api_key="hf_fake_description_token")
        properties = convert_to_openai_tool(tool)["function"]["parameters"]["properties"]
        found += [(task, name) for name in properties if name in MEDIA_ARGUMENTS]
    return found


MEDIA = _media_arguments()


def _description(task: str, argument: str, **settings: Any) -> str:
    tool = TASK_TOOLS[task](api_key="hf_fake_description_token", **settings)
    return str(convert_to_openai_tool(tool)["function"]["parameters"]["properties"][argument]["description"])


def test_every_media_reading_tool_is_checked() -> None:
    tasks = {task for task, _ in MEDIA}
    assert {"image-to-text", "automatic-speech-recognition", "image-to-image", "image-to-video"} <= tasks
    assert {"document-question-answering", "audio-to-audio", "image-segmentation"} <= tasks
    assert len(MEDIA) == 12


@pytest.mark.parametrize(("task", "argument"), MEDIA, ids=[f"{t}.{a}" for t, a in MEDIA])
def test_a_media_argument_offers_what_every_tool_accepts(task: str, argument: str) -> None:
    text = _description(task, argument)
    assert "http(s) URL" in text and "data: URL" in text and "base64" in text


@pytest.mark.parametrize(("task", "argument"), MEDIA, ids=[f"{t}.{a}" for t, a in MEDIA])
def test_a_file_path_is_offered_only_as_the_exception(task: str, argument: str) -> None:
    """Local paths are refused by default: the model must not be told a path is the first thing to send."""
    for settings in ({}, {"allow_local_files": True}, {"local_files_dir": "."}):
        text = _description(task, argument, **settings)
        path = text.find("file path")
        assert path > text.find("base64") >= 0, text  # after the forms always accepted
        sentence = text[text.rfind(".", 0, path) + 1 :]
        assert "only where this tool is set up to read local files" in sentence, text


# ------------------------------------------------------------------------------------------------ video bytes


def test_video_bytes_are_typed_and_summarised() -> None:
    assert sniff_video(MP4) == "video/mp4"
    assert sniff_video(mp4(brand=b"qt  ")) == "video/quicktime"
    assert sniff_video(WEBM) == "video/webm"
    assert sniff_video(PNG) is None and sniff_video(mp4(brand=b"M4A ")) is None
    assert video_seconds(MP4) == 4.2 and video_seconds(mp4(7.5, version=1)) == 7.5
    assert video_seconds(MP4[:40]) is None
    assert summarise_media(MediaBytes(MP4, "video/mp4")) == f"4.2 s MP4 video, {len(MP4)} B"
    assert summarise_media(MediaBytes(WEBM, "video/webm")) == f"WEBM video, {len(WEBM)} B"


# -------------------------------------------------------------- media arguments of a tool, over loopback HTTP


# The shared fixtures the tests below use.
_servers, ambient_token, cdn, files, net, server = (
    tool_harness._servers,
    tool_harness.ambient_token,
    tool_harness.cdn,
    tool_harness.files,
    tool_harness.net,
    tool_harness.server,
)


def test_an_input_url_is_fetched_then_sent(server: LoopbackServer, cdn: LoopbackServer) -> None:
    cdn.reply(body=PNG, headers={"content-type": "image/png"})
    server.reply(body=[{"generated_text": "a tiny picture"}])
    tool = ImageToTextTool(base_url=server.url, api_key="hf_secret", allow_private_urls=True)  # cdn is on loopback
    assert call(tool, {"image": f"{cdn.url}/pic.png"}).content == "a tiny picture"
    assert cdn.requests[0].method == "GET" and cdn.requests[0].path == "/pic.png"
    assert header(cdn.requests[0], "Authorization") is None  # the token never goes to another host
    assert server.requests[0].body == PNG


def test_an_input_url_that_is_not_an_image_is_refused(server: LoopbackServer, cdn: LoopbackServer) -> None:
    cdn.reply(body=b"<html>login</html>", headers={"content-type": "text/html"})
    with pytest.raises(MediaInputError, match=r"declared as text/html\) is not a recognised image"):
        call(ImageToTextTool(base_url=server.url, allow_private_urls=True), {"image": f"{cdn.url}/login"})
    assert server.requests == []  # nothing was sent to the model


def test_an_input_url_that_fails_is_a_tool_error_naming_it(server: LoopbackServer, cdn: LoopbackServer) -> None:
    cdn.reply(status=404, body="Not Found", headers={"content-type": "text/plain"})
    tool = ImageToTextTool(base_url=server.url, handle_tool_error=True, allow_private_urls=True)
    message = call(tool, {"image": f"{cdn.url}/gone.png"})
    assert message.status == "error"
    assert message.content == (
        f"Could not fetch '{cdn.url}/gone.png': the server answered 404. Check the URL, or send the image as base64 "
        "or a data: URL."
    )
    assert server.requests == []


def test_bad_media_becomes_a_tool_error_the_agent_can_read(server: LoopbackServer) -> None:
    tool = ImageToTextTool(base_url=server.url, handle_tool_error=True, allow_local_files=True)
    message = call(tool, {"image": "/nope/missing.png"})
    assert message.status == "error"
    assert "No such file: '/nope/missing.png'" in message.content
    assert server.requests == []


def test_schema_shows_media_as_a_plain_string() -> None:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    schema = convert_to_openai_tool(ImageToTextTool())["function"]["parameters"]
    assert schema["properties"]["image"]["type"] == "string"
    assert "base64" in schema["properties"]["image"]["description"]
    assert json.dumps(schema).count("binary") == 0


@pytest.mark.usefixtures("ambient_token")
@both
@pytest.mark.parametrize("url", ["ftp://{host}/x.png", "gopher://{host}/_GET", "dict://{host}/x"])
def test_only_http_and_https_are_fetched(
    run: Runner, url: str, server: LoopbackServer, files: LoopbackServer, net: FakeNetwork
) -> None:
    message = refusal(run, tool_for(server, allow_private_urls=True), url.format(host=files.url[7:]))
    assert "only http(s) URLs are fetched" in message
    assert net.connects == [] and files.requests == []


# ------------------------------------------------------------------------------------------------ local files


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """An allowed directory with a picture and a symlink leading out, and a secret picture outside it."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "in.png").write_bytes(PNG)
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(9, 9))
    (allowed / "escape.png").symlink_to(secret)
    return {"allowed": allowed, "inside": allowed / "in.png", "secret": secret}


@pytest.mark.usefixtures("ambient_token")
@both
def test_local_paths_are_refused_by_default(run: Runner, server: LoopbackServer, layout: dict[str, Path]) -> None:
    for value in (str(layout["inside"]), f"file://{layout['inside']}"):
        message = refusal(run, tool_for(server), value)
        assert message.startswith(f"Cannot read {value[:20]!r}"[:-1])  # long values are shortened
        assert message.endswith(
            "': reading local files is disabled on this tool (allow_local_files=False). "
            "Send an image as an http(s) URL, a data: URL or base64."
        )
    assert server.requests == []


@pytest.mark.usefixtures("ambient_token")
@both
def test_local_files_dir_allows_only_what_is_inside(
    run: Runner, server: LoopbackServer, layout: dict[str, Path]
) -> None:
    tool = tool_for(server, local_files_dir=str(layout["allowed"]))
    for value in ("in.png", str(layout["inside"]), f"file://{layout['inside']}"):
        server.reply(body=CAPTION)
        assert run(tool, {"image": value}).content == "a tiny picture"
    assert [r.body for r in server.requests] == [PNG] * 3
    server.requests.clear()
    for value in ("../secret.png", str(layout["secret"]), "escape.png", f"file://{layout['secret']}", "sub/../../x"):
        message = refusal(run, tool, value)
        assert "reads local files only inside its local_files_dir" in message, value
    assert server.requests == []


@pytest.mark.usefixtures("ambient_token")
@both
def test_local_files_dir_confines_allow_local_files_too(
    run: Runner, server: LoopbackServer, layout: dict[str, Path]
) -> None:
    tool = tool_for(server, allow_local_files=True, local_files_dir=str(layout["allowed"]))
    assert "only inside its local_files_dir" in refusal(run, tool, str(layout["secret"]))
    assert server.requests == []


@pytest.mark.usefixtures("ambient_token")
@both
def test_allow_local_files_reads_anywhere_for_trusted_callers(
    run: Runner, server: LoopbackServer, layout: dict[str, Path]
) -> None:
    server.reply(body=CAPTION)
    assert run(tool_for(server, allow_local_files=True), {"image": str(layout["secret"])}).content == "a tiny picture"
    assert server.requests[0].body == png(9, 9)


@pytest.mark.usefixtures("ambient_token")
@both
def test_a_path_object_from_python_code_is_read(run: Runner, server: LoopbackServer, layout: dict[str, Path]) -> None:
    server.reply(body=CAPTION)
    assert run(tool_for(server), {"image": layout["secret"]}).content == "a tiny picture"
    assert server.requests[0].body == png(9, 9)


@pytest.mark.usefixtures("ambient_token")
@both
def test_base64_starting_with_a_slash_is_not_mistaken_for_a_path_outside_the_directory(
    run: Runner, server: LoopbackServer, layout: dict[str, Path]
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 60
    encoded = base64.b64encode(jpeg).decode()
    assert encoded.startswith("/9j/")
    server.reply(body=CAPTION)
    run(tool_for(server, local_files_dir=str(layout["allowed"])), {"image": encoded})
    assert server.requests[0].body == jpeg
