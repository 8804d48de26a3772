"""Masks for personal data in responses and logs (api.md: ``4403**********1234``, ``138****5678``)."""

from __future__ import annotations

import re


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters of an ID or credit-code number."""
    if not value:
        return value
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_mobile(value: str) -> str:
    """Keep the first 3 and last 4 digits of a mobile number."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# A mobile may follow a bare country code (8613912345678, +86 13912345678) and is masked there too.
_MOBILE_RE = re.compile(r"(?:(?<!\d)|(?<=(?<!\d)86))(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def scrub(text: str) -> str:
    """Mask resident ID numbers and mobile numbers wherever they appear in free text (logs)."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    return _MOBILE_RE.sub(lambda m: mask_mobile(m.group(0)), text)
