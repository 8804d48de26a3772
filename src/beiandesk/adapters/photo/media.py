"""Upload media: content sniffing, image dimensions from the header alone (so the pixel cap is
applied before anything is decoded) and bounded decoding."""

from __future__ import annotations

import cv2
import numpy as np

#: JPEGs are decoded at 1/2, 1/4 or 1/8 scale while the long side stays ≥ this many pixels.
DECODE_MIN_SIDE = 1000

HEIF_MESSAGE = "暂不支持 HEIC/AVIF 格式，请在手机中选择“兼容性最佳”或转为 JPEG 后重新上传。"

# --- sniffing and headers -----------------------------------------------------------------------

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


#: ISO-BMFF brands of still images (iPhone HEIC, AVIF): an ``ftyp`` box, but not a video.
_HEIF_BRANDS = {
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"mif1",
    b"msf1",
    b"avif",
    b"avis",
}


def sniff(head: bytes) -> str | None:
    """ "jpeg", "png", "webp", "video" (ISO-BMFF ``ftyp``: MP4/MOV), "heif" or None, by content."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "heif" if head[8:12] in _HEIF_BRANDS else "video"
    return None


def image_header(data: bytes, kind: str) -> tuple[int, int, bool] | None:
    """(width, height, complete) from the header alone, or None when the header is broken."""
    if kind == "jpeg":
        return _jpeg_header(data)
    if kind == "png":
        if len(data) < 33 or data[12:16] != b"IHDR":
            return None
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return width, height, data.rfind(b"IEND") > 33
    return _webp_header(data)


def _jpeg_header(data: bytes) -> tuple[int, int, bool] | None:
    """Walk the marker segments to the first SOFn; complete when an EOI follows the scan."""
    i, size, n = 2, None, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # standalone markers
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return None
        if marker in _SOF_MARKERS and i + 9 <= n:
            size = (
                int.from_bytes(data[i + 7 : i + 9], "big"),
                int.from_bytes(data[i + 5 : i + 7], "big"),
            )
        if marker == 0xDA:  # start of scan: entropy-coded data until EOI
            return (size[0], size[1], data.rfind(b"\xff\xd9") > i) if size else None
        i += 2 + length
    return None


def _webp_header(data: bytes) -> tuple[int, int, bool] | None:
    if len(data) < 30:
        return None
    complete = int.from_bytes(data[4:8], "little") + 8 <= len(data)
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(data[26:28], "little") & 0x3FFF
        height = int.from_bytes(data[28:30], "little") & 0x3FFF
    elif chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
    else:
        return None
    return width, height, complete


#: libjpeg fills the blocks it has no data for with mid-grey (all coefficients 0 → 128,128,128);
#: a cut JPEG with an end marker appended decodes "successfully" with its bottom flat grey.
#: This share of the rows flat 128-grey at the bottom means the scan data was cut short (a
#: photo's bottom rows are clothing or the wall: never exactly flat mid-grey, noise alone
#: spreads them by more than ±1).
TRUNCATED_GREY_ROWS = 0.02


def grey_tail(image: np.ndarray) -> float:
    """Share of the image's rows, counted up from the bottom, that are flat libjpeg grey."""
    rows = image.reshape(image.shape[0], -1)
    last = rows[-1]
    if last.min() < 127 or last.max() > 129:
        return 0.0  # the usual case, decided on one row
    flat = (rows.min(axis=1) >= 127) & (rows.max(axis=1) <= 129)
    changes = np.flatnonzero(~flat[::-1])
    count = int(changes[0]) if changes.size else len(flat)
    return count / len(flat)


def decode(data: bytes, kind: str, width: int, height: int) -> np.ndarray | None:
    """BGR image; JPEGs at the smallest 1/n scale that keeps DECODE_MIN_SIDE (libjpeg's DCT
    scaling: a 12 MP photo decodes at 1/4 in a fraction of the time and memory)."""
    flag = cv2.IMREAD_COLOR
    if kind == "jpeg":
        for factor, reduced in (
            (8, cv2.IMREAD_REDUCED_COLOR_8),
            (4, cv2.IMREAD_REDUCED_COLOR_4),
            (2, cv2.IMREAD_REDUCED_COLOR_2),
        ):
            if max(width, height) // factor >= DECODE_MIN_SIDE:
                flag = reduced
                break
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        return None
    if image is None or image.ndim != 3 or image.shape[0] < 8 or image.shape[1] < 8:
        return None
    scale = DECODE_MIN_SIDE / max(image.shape[:2])
    # a big PNG/WebP (no reduced decoding), or a JPEG whose 1/n steps overshoot (a 3500 px
    # photo decodes at 1/2 = 1750 px): keep only a working copy near DECODE_MIN_SIDE
    if scale < 0.75:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


def _shrink(frame: np.ndarray) -> np.ndarray:
    scale = DECODE_MIN_SIDE / max(frame.shape[:2])
    return (
        cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else frame
    )
