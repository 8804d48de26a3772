"""How a subject becomes a row: one place for the repository and the bulk import alike."""

from __future__ import annotations

from typing import Any

from beiandesk.adapters.crypto import DataCipher
from beiandesk.domain.model import Subject


def mobile_key(mobile: str) -> str:
    """The last 11 digits: ``+86 138…``, ``86138…`` and ``138…`` are one mobile."""
    digits = "".join(ch for ch in mobile if ch.isdigit())
    return digits[-11:] if len(digits) >= 11 else digits


def subject_values(cipher: DataCipher, s: Subject, account_id: int | None) -> dict[str, Any]:
    """The ``subjects`` columns of ``s``; personal data encrypted, the mobile blind-indexed."""
    return dict(
        account_id=account_id,
        kind=str(s.kind),
        name=s.name,
        province=s.province,
        id_type=s.id_type,
        id_number_enc=cipher.encrypt(s.id_number),
        filing_number=s.filing_number,
        legal_rep=s.legal_rep,
        principal_enc=cipher.encrypt_json(s.principal.to_dict()),
        principal_mobile_hash=cipher.blind_index(mobile_key(s.principal.mobile)),
    )
