"""The demo data of api.md, created idempotently (``seed-demo``, ``serve --demo``)."""

from __future__ import annotations

import logging

from beiandesk import demo_data
from beiandesk.domain.model import (
    Principal,
    Resource,
    Role,
    Subject,
    SubjectKind,
    Website,
    WebsiteInfo,
    WebsiteStatus,
)
from beiandesk.services.deps import Deps

log = logging.getLogger(__name__)


def seed_demo(d: Deps) -> dict[str, int]:
    """Create whatever of the demo data is missing; existing records are left as they are."""
    now = d.clock.now()
    created = {"accounts": 0, "subjects": 0, "websites": 0}
    with d.uow() as uow:
        ids: dict[str, int] = {}
        for a in demo_data.ACCOUNTS:
            found = uow.accounts.by_username(a["username"])
            if found:
                ids[a["username"]] = found[0].id
                continue
            acc = uow.accounts.add(
                a["username"],
                d.passwords.hash(demo_data.DEMO_PASSWORD),
                Role(a["role"]),
                a["display_name"],
                a["email"],
                a.get("enterprise_verified", False),
                now,
            )
            ids[a["username"]] = acc.id
            created["accounts"] += 1
        for s in demo_data.SUBJECTS:
            if uow.subjects.by_filing_number(s["filing_number"]):
                continue
            subject = uow.subjects.add(
                Subject(
                    id=0,
                    account_id=ids[s["account"]],
                    kind=SubjectKind(s["kind"]),
                    name=s["name"],
                    province=s["province"],
                    id_type=s["id_type"],
                    id_number=s["id_number"],
                    filing_number=s["filing_number"],
                    principal=Principal.from_dict(s["principal"]),
                    legal_rep=s["legal_rep"],
                ),
                now,
            )
            created["subjects"] += 1
            for w in s["websites"]:
                info = WebsiteInfo(
                    name=w["name"],
                    domains=tuple(w["domains"]),
                    home_url=w["home_url"],
                    principal=Principal.from_dict(w["principal"]),
                    content_categories=tuple(w["content_categories"]),
                    resource=Resource.from_dict(w["resource"]),
                )
                uow.websites.add(
                    Website(
                        id=0,
                        subject_id=subject.id,
                        filing_number=w["filing_number"],
                        status=WebsiteStatus(w["status"]),
                        info=info,
                    ),
                    now,
                )
                created["websites"] += 1
        uow.commit()
    if any(created.values()):
        log.info("demo data created: %s", created)
    return created
