"""Material uploads judged by content (domain/materials_files.py; api.md §Change orders)."""

from __future__ import annotations

import struct
import zlib

import pytest

from beiandesk.domain.materials_files import MATERIAL_KINDS, check_material, sniff

MB = 1024 * 1024


def png(width: int = 4, height: int = 4) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    import cv2
    import numpy as np
    ok, buf = cv2.imencode(".jpg", np.full((16, 16, 3), 200, dtype=np.uint8))
    assert ok
    return buf.tobytes()


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


FILES = {"image/png": png, "image/jpeg": jpeg, "application/pdf": pdf}


def codes(problems: list) -> list[str]:
    return [p.code for p in problems]


@pytest.mark.parametrize("ctype", sorted(FILES))
@pytest.mark.parametrize("kind", sorted(MATERIAL_KINDS))
def test_accepted_types_for_every_kind(kind: str, ctype: str) -> None:
    assert check_material(kind, FILES[ctype](), 10 * MB) == (ctype, [])


def test_api_md_kinds() -> None:
    assert set(MATERIAL_KINDS) == {"id_card_front", "id_card_back", "business_license", "authorization_letter",
                                   "verification_form", "preapproval", "commitment_letter", "other"}
    assert all(MATERIAL_KINDS.values())


def test_pdf_with_a_bom_or_leading_whitespace_is_a_pdf() -> None:
    assert sniff(b"\xef\xbb\xbf" + pdf()) == "application/pdf"
    assert sniff(b"\r\n  " + pdf()) == "application/pdf"


@pytest.mark.parametrize("data", [
    b"hello, this is a text file pretending to be a .jpg",
    b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    b"MZ\x90\x00" + b"\x00" * 200,                   # a Windows executable
    b"PK\x03\x04" + b"\x00" * 100 + b"%PDF-",         # a zip with the PDF magic later on
    b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    b"\xff\xd8",                                       # two bytes of JPEG magic only
    b"\x89PNG",
])
def test_other_content_is_refused(data: bytes) -> None:
    ctype, problems = check_material("other", data, 10 * MB)
    assert ctype is None
    assert codes(problems) == ["material_type_not_allowed"]
    assert problems[0].field == "file" and problems[0].is_error
    assert "PDF" in problems[0].message and "JPG" in problems[0].message


@pytest.mark.parametrize("ctype", sorted(FILES))
def test_truncated_files_are_unreadable(ctype: str) -> None:
    data = FILES[ctype]()
    cut = data[: len(data) // 2]
    assert sniff(cut) == ctype
    result, problems = check_material("other", cut, 10 * MB)
    assert result is None and codes(problems) == ["material_unreadable"]


def test_an_empty_file_is_unreadable() -> None:
    result, problems = check_material("id_card_front", b"", 10 * MB)
    assert result is None and codes(problems) == ["material_unreadable"]
    assert "空" in problems[0].message


def test_size_limit_is_inclusive() -> None:
    data = png()
    assert check_material("other", data, len(data)) == ("image/png", [])
    result, problems = check_material("other", data, len(data) - 1)
    assert result is None and codes(problems) == ["material_too_large"]


def test_oversize_message_names_the_limit_in_mb() -> None:
    big = b"\xff\xd8\xff" + b"\x00" * (2 * MB)
    _, problems = check_material("business_license", big, 2 * MB)
    assert codes(problems) == ["material_too_large"]
    assert "2 MB" in problems[0].message and problems[0].field == "file"


def test_oversize_is_reported_before_the_content_is_looked_at() -> None:
    _, problems = check_material("other", b"not an image at all" * 100, 10)
    assert codes(problems) == ["material_too_large"]


@pytest.mark.parametrize("kind", ["", "ID_CARD_FRONT", "passport", "../../etc/passwd"])
def test_unknown_kind(kind: str) -> None:
    result, problems = check_material(kind, png(), 10 * MB)
    assert result is None and codes(problems) == ["material_kind_invalid"]
    assert problems[0].field == "kind"


def test_messages_are_chinese() -> None:
    for data, limit in [(b"", 10), (b"x" * 20, 10), (b"text", 10 * MB), (png()[:20], 10 * MB)]:
        _, problems = check_material("other", data, limit)
        assert problems and all(any("\u4e00" <= ch <= "\u9fff" for ch in p.message) for p in problems)
