"""Small, valid media files built in code, shared by the tests that send or receive media."""

from __future__ import annotations

import base64
import struct
import zlib


def png(width: int = 4, height: int = 2) -> bytes:
    """An RGB PNG of ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x40\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def box(kind: bytes, payload: bytes) -> bytes:
    """One ISO-BMFF box."""
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(seconds: float = 4.2, brand: bytes = b"isom", version: int = 0) -> bytes:
    """A minimal ISO-BMFF file: ftyp, an mdat before the moov (as most encoders write it), mvhd in moov."""
    if version == 0:
        mvhd = bytes([0, 0, 0, 0]) + struct.pack(">IIII", 0, 0, 1000, int(seconds * 1000)) + b"\x00" * 80
    else:
        mvhd = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, 1000, int(seconds * 1000)) + b"\x00" * 80
    return (
        box(b"ftyp", brand + b"\x00\x00\x02\x00isomiso2")
        + box(b"mdat", b"\x00" * 64)
        + box(b"moov", box(b"mvhd", mvhd))
    )


PNG = png()
"""A 4x2 PNG."""
B64 = base64.b64encode(PNG).decode()
FLAC = (
    b"fLaC\x80\x00\x00\x22"
    + b"\x10\x00\x10\x00"
    + b"\x00" * 6
    + ((8000 << 44) | 4000).to_bytes(8, "big")
    + b"\x00" * 16
)
"""A FLAC header: 8 kHz, 4000 samples (0.5 s)."""
MP4 = mp4()
WEBM = b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webm" + b"\x00" * 32
