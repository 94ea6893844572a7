"""Media in and out of the task tools: what a value is, what its bytes are, and how a model sees them.

Pure apart from reading a local file the caller allowed: a URL is never fetched here (the tool fetches it through
``_untrusted_fetch``, without credentials), so every function takes a value or bytes and returns bytes, a URL to
fetch, or a LangChain content block.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from langchain_core.tools import ToolException

MediaKind = Literal["image", "audio", "video"]

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/avif")
AUDIO_TYPES = ("audio/flac", "audio/wav", "audio/mpeg", "audio/ogg", "audio/webm", "audio/mp4", "audio/aac")
VIDEO_TYPES = ("video/mp4", "video/webm", "video/quicktime")
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "image/avif": ".avif",
    "audio/flac": ".flac",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/webm": ".webm",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
}
_ALIASES = {
    "image/jpg": "image/jpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-flac": "audio/flac",
    "audio/x-m4a": "audio/mp4",
}
_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?)(?P<b64>;base64)?,(?P<data>.*)$", re.S
)
_FORMS = "an http(s) URL, a data: URL, base64-encoded bytes, or a local file path where the tool allows one"
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):/{2}")
_A = {"image": "an image", "audio": "an audio clip", "video": "a video"}


class MediaInputError(ToolException, ValueError):
    """A media input that cannot be used: unreadable, too large, empty, or not the expected kind.

    A ``ToolException``, so an agent built with ``handle_tool_error=True`` sees the message and can correct itself.
    """


class MediaBytes(bytes):
    """Bytes of an image, an audio clip or a video that know their MIME type (the artifact of media tools).

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import MediaBytes

            png = MediaBytes(b"\\x89PNG\\r\\n\\x1a\\n...", "image/png")
            print(png.mime_type, png.extension)  # image/png .png
    """

    mime_type: str
    source_url: str | None

    def __new__(
        cls, data: bytes, mime_type: str = "application/octet-stream", source_url: str | None = None
    ) -> MediaBytes:
        obj = super().__new__(cls, data)
        obj.mime_type = mime_type
        obj.source_url = source_url
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (bytes(self), self.mime_type, self.source_url))

    @property
    def kind(self) -> str:
        """``"image"``, ``"audio"``, ``"video"`` or the MIME type's top-level name."""
        return self.mime_type.split("/", 1)[0]

    @property
    def extension(self) -> str:
        """A file extension for the MIME type, with its dot (``".png"``)."""
        return _EXTENSIONS.get(self.mime_type, ".bin")

    def to_base64(self) -> str:
        return base64.b64encode(self).decode()

    def to_content_block(self) -> dict[str, Any]:
        """A LangChain multimodal content block (``{"type": "image", "base64", "mime_type"}``)."""
        return {"type": self.kind, "base64": self.to_base64(), "mime_type": self.mime_type}

    def save(self, path: str | Path) -> Path:
        """Write the bytes to ``path`` (a directory gets a generated file name) and return the file's path."""
        target = Path(path).expanduser()
        if target.is_dir():
            target = target / f"{self.kind}-{hashlib.sha256(self).hexdigest()[:12]}{self.extension}"
        target.write_bytes(self)
        return target


@dataclass(frozen=True)
class RemoteMedia:
    """An http(s) URL the tool must fetch (an untrusted one: see ``_untrusted_fetch``) before it can use the media."""

    url: str


# ---------------------------------------------------------------------------------------------- recognising bytes


def _ftyp_type(data: bytes) -> str:
    brand = data[8:12]
    if brand in (b"avif", b"avis"):
        return "image/avif"
    return "audio/mp4"


def sniff_mime(data: bytes) -> str | None:
    """The MIME type of image or audio bytes from their first bytes, or ``None``."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"BM") and len(data) > 26:
        return "image/bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "audio/webm"
    if head[4:8] == b"ftyp":
        return _ftyp_type(data)
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) > 1 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return "audio/aac"  # ADTS
    if len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "audio/mpeg"  # MPEG audio frame sync
    return None


def sniff_video(data: bytes) -> str | None:
    """The MIME type of MP4, MOV or WebM video bytes from their first bytes, or ``None``.

    Separate from :func:`sniff_mime`, which reads an ISO-BMFF or EBML container as audio (M4A, WebM audio): only
    a caller that expects a video reads one as video.
    """
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis", b"M4A ", b"M4B "):
            return None
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if data.startswith(b"\x1aE\xdf\xa3"):
        return "video/webm"
    return None


def video_seconds(data: bytes) -> float | None:
    """Duration of MP4/MOV bytes from the ``mvhd`` box of their ``moov`` box; ``None`` when not readable."""
    try:
        moov = _box(data, b"moov")
        mvhd = _box(moov, b"mvhd") if moov is not None else None
        if mvhd is None or len(mvhd) < 20:
            return None
        if mvhd[0] == 1:  # version 1: 64-bit times and duration
            scale, duration = struct.unpack(">IQ", mvhd[20:32])
        else:
            scale, duration = struct.unpack(">II", mvhd[12:20])
        return duration / scale if scale and duration else None
    except (struct.error, IndexError, ValueError):
        return None


def _box(data: bytes, name: bytes) -> bytes | None:
    """The payload of the first ISO-BMFF box called ``name`` among the boxes of ``data`` (one level)."""
    i = 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[i + 8 : i + 16])[0], 16
        elif size == 0:
            size = len(data) - i
        if size < header:
            return None
        if kind == name:
            return data[i + header : i + size]
        i += size
    return None


def normalise_mime(value: str | None) -> str | None:
    if not value:
        return None
    mime = value.split(";", 1)[0].strip().lower()
    return _ALIASES.get(mime, mime) or None


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` of PNG, JPEG, GIF or WEBP bytes, read from their headers; ``None`` if unknown."""
    try:
        if data.startswith(b"\x89PNG") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return int(width), int(height)
        if data.startswith((b"GIF87a", b"GIF89a")):
            width, height = struct.unpack("<HH", data[6:10])
            return int(width), int(height)
        if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            chunk = data[12:16]
            if chunk == b"VP8X":
                return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
            if chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
            if chunk == b"VP8 ":
                width, height = struct.unpack("<HH", data[26:30])
                return int(width & 0x3FFF), int(height & 0x3FFF)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
    except (struct.error, IndexError):
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None


def audio_seconds(data: bytes) -> float | None:
    """Duration of WAV or FLAC bytes from their headers; ``None`` for other formats."""
    try:
        if data.startswith(b"fLaC"):
            info = data[8:26]  # STREAMINFO follows the 4-byte metadata block header
            packed = int.from_bytes(info[10:18], "big")
            rate = packed >> 44
            samples = packed & ((1 << 36) - 1)
            return samples / rate if rate and samples else None
        if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
            i, byte_rate = 12, 0
            while i + 8 <= len(data):
                chunk, size = data[i : i + 4], int.from_bytes(data[i + 4 : i + 8], "little")
                if chunk == b"fmt ":
                    byte_rate = int.from_bytes(data[i + 16 : i + 20], "little")
                elif chunk == b"data":
                    return size / byte_rate if byte_rate else None
                i += 8 + size + (size & 1)
    except (struct.error, IndexError, ValueError):
        return None
    return None


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


# ---------------------------------------------------------------------------------------------- reading inputs


def _kind_types(kind: MediaKind) -> tuple[str, ...]:
    return {"image": IMAGE_TYPES, "audio": AUDIO_TYPES, "video": VIDEO_TYPES}[kind]


def checked_media(
    data: bytes, kind: MediaKind, *, declared: str | None = None, origin: str = "input", max_bytes: int
) -> MediaBytes:
    """``data`` as MediaBytes of ``kind``, or a MediaInputError saying what is wrong and what to send instead."""
    if not data:
        raise MediaInputError(f"The {kind} from {origin} is empty: send {_FORMS} of a non-empty {kind}.")
    if len(data) > max_bytes:
        raise MediaInputError(
            f"The {kind} from {origin} is {human_size(len(data))}, over the {human_size(max_bytes)} limit: "
            f"send a smaller {kind}, or raise max_input_bytes on the tool."
        )
    sniffed = sniff_video(data) if kind == "video" else sniff_mime(data)
    declared = normalise_mime(declared)
    mime = sniffed or (declared if declared in _kind_types(kind) else None)
    if mime is None:
        said = f" (declared as {declared})" if declared else ""
        raise MediaInputError(
            f"The input from {origin}{said} is not a recognised {kind}: send {_A[kind]} in one of the formats "
            f"{_formats(kind)}."
        )
    if not mime.startswith(kind + "/"):
        raise MediaInputError(f"The input from {origin} is {mime}, not {_A[kind]}: pass {_A[kind]} to this tool.")
    return MediaBytes(data, mime)


def _formats(kind: MediaKind) -> str:
    return ", ".join(t.split("/")[1].upper() for t in _kind_types(kind))


def _describe(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def read_media_input(
    value: Any,
    kind: MediaKind,
    *,
    max_bytes: int,
    allow_local_files: bool = False,
    local_files_dir: str | Path | None = None,
) -> MediaBytes | RemoteMedia:
    """A tool's media argument as checked bytes, or the http(s) URL to fetch first.

    Accepts bytes, a ``data:`` URL, an http(s) URL, base64 text, a ``pathlib.Path`` and, when allowed, a local
    path given as text (or ``file://``). Text comes from the model and is untrusted: it names a local file only
    inside ``local_files_dir`` (symlinks resolved, ``..`` refused), or anywhere with ``allow_local_files=True``,
    and never otherwise (no file is even looked at). A ``Path`` object can only come from Python code, never from
    a model's JSON arguments, so it is read wherever it points.
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        return checked_media(
            bytes(value),
            kind,
            declared=getattr(value, "mime_type", None),
            origin="the bytes given",
            max_bytes=max_bytes,
        )
    if isinstance(value, Path):
        return _read_file(value.expanduser(), kind, max_bytes=max_bytes)
    if not isinstance(value, str):
        raise MediaInputError(f"Unsupported {kind} input of type {type(value).__name__}: send {_FORMS}.")
    text = value.strip()
    if not text:
        raise MediaInputError(f"The {kind} argument is empty: send {_FORMS}.")
    if text.startswith("data:"):
        return _read_data_url(text, kind, max_bytes=max_bytes)
    scheme = _SCHEME.match(text)
    if scheme and scheme.group(1).lower() in ("http", "https"):
        return RemoteMedia(text)
    if scheme and scheme.group(1).lower() != "file":
        raise MediaInputError(
            f"Cannot fetch {_describe(text)}: only http(s) URLs are fetched, not {scheme.group(1)}:. "
            f"Send {_A[kind]} as an http(s) URL, a data: URL or base64."
        )
    local = LocalFiles(allow_local_files, local_files_dir)
    if scheme:  # file://
        path = local.find(text[len(scheme.group(0)) :], kind, quiet=True)
        if path is None:
            raise local.refusal(text, kind)
        return _read_file(path, kind, max_bytes=max_bytes)
    if local.enabled and len(text) < 4096 and "\n" not in text:
        path = local.find(text, kind, quiet=True)
        if path is not None and _is_file(path):
            return _read_file(path, kind, max_bytes=max_bytes)
    decoded = _b64decode(text)
    if decoded is not None and sniff_mime(decoded) is not None:
        return checked_media(decoded, kind, origin="the base64 text", max_bytes=max_bytes)
    looks_like_path = len(text) < 4096 and ("/" in text or "\\" in text or re.search(r"\.\w{2,5}$", text))
    if looks_like_path and (decoded is None or len(text) < 256):
        if not local.enabled or local.find(text, kind, quiet=True) is None:
            raise local.refusal(text, kind)
        raise MediaInputError(f"No such file: {_describe(text)}. Send {_FORMS}.")
    raise MediaInputError(
        f"Cannot read {_describe(text)} as {_A[kind]}: it is not an existing file, an http(s) URL, a data: URL, "
        f"or base64 of a {_formats(kind)} {kind}. Send one of those."
    )


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


@dataclass(frozen=True)
class LocalFiles:
    """Which local paths a model's text may name: none, those inside ``directory``, or (``anywhere``) all."""

    anywhere: bool
    directory: str | Path | None

    @property
    def enabled(self) -> bool:
        return self.anywhere or self.directory is not None

    def find(self, text: str, kind: MediaKind, *, quiet: bool = False) -> Path | None:
        """The path ``text`` names, if it may be read; ``None`` (or, unless ``quiet``, the refusal) otherwise.

        Inside ``directory``, relative paths start from it and the path with symlinks resolved must stay in it.
        """
        if self.directory is not None:
            root = Path(self.directory).expanduser().resolve()
            try:
                path = (root / text).resolve()
            except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
                path = None
            if path is not None and path.is_relative_to(root):
                return path
            if not quiet:
                raise self.refusal(text, kind)
            return None
        if self.anywhere:
            return Path(text).expanduser()
        if not quiet:
            raise self.refusal(text, kind)
        return None

    def refusal(self, text: str, kind: MediaKind) -> MediaInputError:
        instead = f"Send {_A[kind]} as an http(s) URL, a data: URL or base64"
        if self.directory is not None:
            return MediaInputError(
                f"Cannot read {_describe(text)}: this tool reads local files only inside its local_files_dir, "
                f"and that path is outside it. {instead}, or a file name inside that directory."
            )
        if self.anywhere:
            return MediaInputError(f"No such file: {_describe(text)}. Send {_FORMS}.")
        return MediaInputError(
            f"Cannot read {_describe(text)}: reading local files is disabled on this tool "
            f"(allow_local_files=False). {instead}."
        )


def _b64decode(text: str) -> bytes | None:
    compact = re.sub(r"\s+", "", text)
    if len(compact) < 8:
        return None
    padded = compact + "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        pass
    if not re.fullmatch(r"[A-Za-z0-9_\-]+=*", padded):
        return None
    try:
        return base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError):
        return None


def _read_data_url(text: str, kind: MediaKind, *, max_bytes: int) -> MediaBytes:
    match = _DATA_URL.match(text)
    if match is None or not match.group("b64"):
        raise MediaInputError(f"Unreadable data URL {_describe(text)}: send data:<mime>;base64,<data>.")
    decoded = _b64decode(match.group("data"))
    if decoded is None:
        raise MediaInputError(
            f"The data URL {_describe(text)} does not hold valid base64: send its bytes base64-encoded."
        )
    return checked_media(decoded, kind, declared=match.group("mime"), origin="the data URL", max_bytes=max_bytes)


def _read_file(path: Path, kind: MediaKind, *, max_bytes: int) -> MediaBytes:
    try:
        size = path.stat().st_size
    except OSError:
        raise MediaInputError(f"No such file: {str(path)!r}. Send {_FORMS}.") from None
    if not path.is_file():
        raise MediaInputError(f"{str(path)!r} is not a file. Send {_FORMS}.")
    if size > max_bytes:
        raise MediaInputError(
            f"The file {str(path)!r} is {human_size(size)}, over the {human_size(max_bytes)} limit: "
            f"send a smaller {kind}, or raise max_input_bytes on the tool."
        )
    return checked_media(path.read_bytes(), kind, origin=f"file {str(path)!r}", max_bytes=max_bytes)


# ---------------------------------------------------------------------------------------------- outputs


def media_output(
    data: bytes, kind: MediaKind, *, declared: str | None = None, source_url: str | None = None
) -> MediaBytes | None:
    """Generated bytes as MediaBytes of ``kind``, typed by the bytes themselves, else by the server's label.

    ``None`` when they are neither recognisable nor labelled as ``kind`` (an error page, another kind of media).
    """
    if not data:
        return None
    mime = sniff_video(data) if kind == "video" else sniff_mime(data)
    if mime is None:
        label = normalise_mime(declared)
        mime = label if label and label.startswith(kind + "/") else None
    if mime is None or not mime.startswith(kind + "/"):
        return None
    return MediaBytes(data, mime, source_url)


def summarise_media(media: MediaBytes) -> str:
    """``"1024x768 PNG image, 312 KB"`` / ``"3.2 s FLAC audio, 80 KB"`` / ``"5.0 s MP4 video, 1.2 MB"``."""
    fmt = media.mime_type.split("/", 1)[1].upper()
    size = human_size(len(media))
    if media.kind == "video":
        fmt = {"QUICKTIME": "MOV"}.get(fmt, fmt)
        seconds = video_seconds(media)
        return f"{seconds:.1f} s {fmt} video, {size}" if seconds else f"{fmt} video, {size}"
    if media.kind == "image":
        dims = image_size(media)
        return f"{dims[0]}x{dims[1]} {fmt} image, {size}" if dims else f"{fmt} image, {size}"
    seconds = audio_seconds(media)
    return f"{seconds:.1f} s {fmt} audio, {size}" if seconds else f"{fmt} audio, {size}"
