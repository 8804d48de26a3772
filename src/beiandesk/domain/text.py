"""Text people may enter: no NUL, no other control characters, no lone surrogates.

Tab, line feed and carriage return are text (notes have lines). Everything else of Unicode
category Cc (C0 controls, DEL, C1 controls) and Cs (surrogates, which no UTF-8 store accepts)
is refused at the door, in the API and the console alike.
"""

from __future__ import annotations

import re

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def first_forbidden_char(value: str) -> str | None:
    m = _FORBIDDEN.search(value)
    return m.group(0) if m else None


def safe_filename(name: str, limit: int = 200) -> str:
    """The last path component of an uploaded file's name, control characters dropped."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return (
        _FORBIDDEN.sub("", base)
        .replace("\t", " ")
        .replace("\n", " ")
        .replace("\r", " ")
        .strip()[:limit]
    )
