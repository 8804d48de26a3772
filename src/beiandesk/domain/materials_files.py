"""Uploaded material files: accepted kinds and types, judged by content (api.md §Change orders).

Accepted: JPEG, PNG and PDF, recognised by their signature bytes and checked for a proper end
marker, so a renamed executable or a truncated scan is refused before a reviewer opens it.
"""

from __future__ import annotations

import re

from beiandesk.domain.problems import Problem, error

MATERIAL_KINDS: dict[str, str] = {
    "id_card_front": "身份证人像面",
    "id_card_back": "身份证国徽面",
    "business_license": "营业执照",
    "authorization_letter": "网站负责人授权书",
    "verification_form": "网站备案信息真实性核验单",
    "preapproval": "前置审批文件",
    "commitment_letter": "承诺书",
    "other": "其他材料",
}


def sniff(data: bytes) -> str | None:
    """The content type of a JPEG, PNG or PDF by its first bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"%PDF-":
        return "application/pdf"
    return None


#: Decoding cap: a scan or photo above this is refused before any pixel is decoded (a 388 KB PNG
#: may claim 20000×20000 = 400 MP, 1.2 GB once decoded, and froze the reviewer's browser).
MAX_PIXELS = 50_000_000
MAX_SIDE = 10_000

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class _Unreadable(Exception):
    pass


class _TooManyPixels(Exception):
    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height}")
        self.width, self.height = width, height


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise _Unreadable()
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise _TooManyPixels(width, height)


def _walk_png(data: bytes) -> None:
    """Every chunk whole and its CRC right, IHDR first, nothing after IEND."""
    import struct
    import zlib

    pos, first = len(_PNG_SIG), True
    while True:
        if pos + 12 > len(data):
            raise _Unreadable()
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body_end = pos + 8 + length
        if body_end + 4 > len(data):
            raise _Unreadable()
        body = data[pos + 8:body_end]
        if first:
            if kind != b"IHDR" or length != 13:
                raise _Unreadable()
            width, height = struct.unpack(">II", body[:8])
            _check_size(width, height)
            first = False
        (crc,) = struct.unpack(">I", data[body_end:body_end + 4])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise _Unreadable()
        pos = body_end + 4
        if kind == b"IEND":
            if pos != len(data):  # bytes after the end: an appended page, archive or script
                raise _Unreadable()
            return


def _walk_jpeg(data: bytes) -> None:
    """Segments whole, a frame header with a sane size, scans ended by a marker, EOI last."""
    pos, n, frame = 2, len(data), False
    while True:
        if pos >= n or data[pos] != 0xFF:
            raise _Unreadable()
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise _Unreadable()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            if not frame or pos != n:
                raise _Unreadable()
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if pos + 2 > n:
            raise _Unreadable()
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > n:
            raise _Unreadable()
        if marker in _JPEG_SOF:
            if length < 8:
                raise _Unreadable()
            height = int.from_bytes(data[pos + 3:pos + 5], "big")
            width = int.from_bytes(data[pos + 5:pos + 7], "big")
            _check_size(width, height)
            frame = True
        pos += length
        if marker == 0xDA:  # a scan: entropy-coded data up to the next real marker
            if not frame:
                raise _Unreadable()
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    raise _Unreadable()
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1 if following == 0xFF else 2
                    continue
                break


_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData|GoToE)(?![A-Za-z0-9])")
_PDF_NAME_ESCAPE = re.compile(rb"/[^\s/<>\[\]()%{}]*#[0-9A-Fa-f]{2}[^\s/<>\[\]()%{}]*")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
#: How much inflated stream text is searched at most (a zip bomb stops here, and is refused).
_PDF_INFLATE_CAP = 64 * 1024 * 1024


def _pdf_names(text: bytes) -> bytes:
    """Names with ``#xx`` escapes spelled out (``/J#61vaScript`` is ``/JavaScript``)."""
    return _PDF_NAME_ESCAPE.sub(lambda m: re.sub(rb"#([0-9A-Fa-f]{2})",
                                                 lambda h: bytes([int(h.group(1), 16)]), m.group(0)), text)


def _pdf_active(data: bytes) -> str | None:
    """The first active-content name in the PDF, compressed object streams included."""
    import zlib

    found = _PDF_ACTIVE.search(_pdf_names(data))
    if found:
        return found.group(1).decode()
    budget = _PDF_INFLATE_CAP
    for m in _PDF_STREAM.finditer(data):
        raw = m.group(1)
        try:
            inflater = zlib.decompressobj()
            text = inflater.decompress(raw, budget)
        except zlib.error:
            continue  # not Flate (an image, a font): nothing to read in it
        budget -= len(text)
        if budget <= 0:
            return "FlateDecode"  # more inflated text than any form needs: refused as suspicious
        found = _PDF_ACTIVE.search(_pdf_names(text))
        if found:
            return found.group(1).decode()
    return None


def _structure_problems(data: bytes, content_type: str) -> list[Problem]:
    try:
        if content_type == "image/png":
            _walk_png(data)
        elif content_type == "image/jpeg":
            _walk_jpeg(data)
        elif b"%%EOF" not in data[-2048:]:
            raise _Unreadable()
    except _TooManyPixels as big:
        return [error("material_too_many_pixels",
                      f"图片尺寸 {big.width}×{big.height} 像素过大（上限 {MAX_SIDE} 像素边长、"
                      f"{MAX_PIXELS // 1_000_000} 百万像素），请缩小后重新上传。", "file")]
    except _Unreadable:
        return [error("material_unreadable", "文件不完整、已损坏或末尾附带了其他数据，请重新扫描或拍照后上传。", "file")]
    if content_type == "application/pdf":
        active = _pdf_active(data)
        if active is not None:
            return [error("material_active_content",
                          f"PDF 含有可执行内容（/{active}：脚本、启动程序或内嵌文件），不能作为材料上传；"
                          "请用「打印为 PDF」或扫描件重新生成后上传。", "file", active=active)]
    return []


def check_material(kind: str, data: bytes, max_bytes: int) -> tuple[str | None, list[Problem]]:
    """(content type, problems) for an upload of ``kind``."""
    if kind not in MATERIAL_KINDS:
        return None, [
            error(
                "material_kind_invalid",
                f"材料类型「{kind}」无效，可选：{'、'.join(MATERIAL_KINDS)}。",
                "kind",
            )
        ]
    if len(data) > max_bytes:
        return None, [
            error(
                "material_too_large",
                f"文件超过 {max_bytes // (1024 * 1024)} MB 上限，请压缩或降低分辨率后重新上传。",
                "file",
            )
        ]
    if not data:
        return None, [error("material_unreadable", "文件是空的，请重新选择文件上传。", "file")]
    content_type = sniff(data)
    if content_type is None:
        return None, [
            error(
                "material_type_not_allowed",
                "只接受 JPG、PNG 图片或 PDF 文件（按文件内容判断，而不是文件名）。",
                "file",
            )
        ]
    problems = _structure_problems(data, content_type)
    if problems:
        return None, problems
    return content_type, []
