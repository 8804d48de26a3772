"""Response shapes of api.md, with ID numbers and mobiles masked everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beiandesk.domain.masking import mask_id_number, mask_mobile
from beiandesk.domain.model import (
    Call,
    ChangeOrder,
    Event,
    Principal,
    Subject,
    Website,
    WebsiteInfo,
)
from beiandesk.domain.states import LABELS, STEP, STEPS


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def principal(p: Principal) -> dict[str, Any]:
    return {
        "name": p.name,
        "id_type": p.id_type,
        "id_number": mask_id_number(p.id_number),
        "mobile": mask_mobile(p.mobile),
        "email": p.email,
    }


def subject(s: Subject) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": str(s.kind),
        "name": s.name,
        "province": s.province,
        "filing_number": s.filing_number,
        "id_type": s.id_type,
        "id_number": mask_id_number(s.id_number),
        "legal_rep": s.legal_rep,
        "principal": principal(s.principal),
    }


def info(i: WebsiteInfo) -> dict[str, Any]:
    d = i.to_dict()
    d["principal"] = principal(i.principal)
    return d


def website(w: Website) -> dict[str, Any]:
    return {
        "id": w.id,
        "subject_id": w.subject_id,
        "filing_number": w.filing_number,
        "status": str(w.status),
        **info(w.info),
        "version": w.version,
    }


def _call(c: Call, staff: bool) -> dict[str, Any]:
    out = {"at": _iso(c.at), "outcome": c.outcome, "reviewer": c.reviewer}
    if staff:  # call notes are internal: reviewers see them, the applicant never does
        out["note"] = c.note
    return out


def change(o: ChangeOrder, staff: bool = False) -> dict[str, Any]:
    """The order in api.md's shape; ``calls`` are the current round's, notes only for staff."""
    return {
        "id": o.id,
        "website_id": o.website_id,
        "subject_id": o.subject_id,
        "state": str(o.state),
        "state_label": LABELS[o.state],
        "step": STEP[o.state],
        "steps": list(STEPS),
        "current": info(o.current),
        "proposed": info(o.proposed),
        "changed_fields": o.changed_fields(),
        "version": o.version,
        "created_at": _iso(o.created_at),
        "updated_at": _iso(o.updated_at),
        "submitted_at": _iso(o.submitted_at),
        "consent": {"at": _iso(o.consent_at), "terms_version": o.consent_version}
        if o.consent_at
        else None,
        "due_at": _iso(o.due_at),
        "next_call_at": _iso(o.next_call_at),
        "review_passed_at": _iso(o.review_passed_at),
        "round": o.round,
        "calls": [_call(c, staff) for c in o.calls],
        "reasons": [r.to_dict() for r in o.reasons],
        "authority_ref": o.authority_ref,
        "authority_reason": o.authority_reason,
        "sms_deadline": _iso(o.sms_deadline),
    }


def event(e: Event) -> dict[str, Any]:
    return {
        "at": _iso(e.at),
        "kind": e.kind,
        "state": e.state,
        "from_state": e.from_state,
        "actor": e.actor,
        "message": e.message,
        "data": e.data,
    }
