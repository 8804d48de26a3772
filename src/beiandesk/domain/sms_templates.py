"""SMS message kinds, their template parameters, and the check of ``SMS_TEMPLATES``.

Providers send only pre-approved templates, so every message kind beiandesk sends by SMS
names the parameters its template receives. Tencent Cloud takes them positionally ({1}, {2}, …
in this order); Alibaba Cloud by name (``${site}``, ``${filing}``, …). Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

#: kind → template parameters, in Tencent's positional order. Every kind names the website
#: (``site``) and its filing number (``filing``); rejections and returns add ``reason``.
PARAMS: dict[str, tuple[str, ...]] = {
    "received": ("site", "filing"),
    "resubmitted": ("site", "filing"),
    "provider_approved": ("site", "filing"),
    "provider_rejected": ("site", "filing", "reason"),
    "authority_submitted": ("site", "filing", "hours"),
    "sms_reminder": ("site", "filing"),
    "authority_returned": ("site", "filing", "reason"),
    "approved": ("site", "filing"),
    "authority_rejected": ("site", "filing", "reason"),
    # Reminders (services/reminders.py): a filed domain or server about to lapse, a stale order.
    "domain_expiring": ("site", "filing", "domain", "days"),
    "resource_expiring": ("site", "filing", "days"),
    "order_expiring": ("site", "filing", "days"),
    "order_expired": ("site", "filing"),
}

#: Providers cap a variable's length (Tencent: 6 for codes, otherwise ~12–35 by type; Alibaba 35).
MAX_PARAM_CHARS = 20

BACKENDS = ("outbox", "tencent", "aliyun")


@dataclass
class Templates:
    by_kind: dict[str, str] = field(default_factory=dict)
    fallback: str | None = None
    unknown: list[str] = field(default_factory=list)

    def for_kind(self, kind: str) -> str | None:
        return self.by_kind.get(kind) or self.fallback


def parse(raw: str | None) -> Templates:
    """``{"received": "1234567", "*": "7654321"}`` → Templates. Raises ValueError when malformed."""
    if not raw or not raw.strip():
        return Templates()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"BEIANDESK_SMS_TEMPLATES 不是合法的 JSON：{exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, str | int) and str(v).strip() for v in data.values()
    ):
        raise ValueError("BEIANDESK_SMS_TEMPLATES 应为 JSON 对象：消息类型 → 模板 ID（非空字符串）")
    out = Templates()
    for key, value in data.items():
        if key == "*":
            out.fallback = str(value).strip()
        elif key in PARAMS:
            out.by_kind[key] = str(value).strip()
        else:
            out.unknown.append(str(key))
    return out


def params_for(kind: str, values: dict[str, str]) -> dict[str, str]:
    """The named parameters of ``kind``'s template, each cut to the providers' length cap."""
    out = {}
    for name in PARAMS.get(kind, ("site", "filing")):
        value = str(values.get(name, "") or "").strip() or "-"
        out[name] = value if len(value) <= MAX_PARAM_CHARS else value[: MAX_PARAM_CHARS - 1] + "…"
    return out


def problems(
    backend: str,
    templates_raw: str | None,
    sign_name: str | None,
    credentials: dict[str, str | None],
) -> list[str]:
    """Why this SMS configuration cannot start (Chinese lines); empty when it can."""
    if backend not in BACKENDS:
        return [f"BEIANDESK_SMS_BACKEND 只能是 outbox、tencent 或 aliyun（当前：{backend!r}）"]
    if backend == "outbox":
        return []
    out = [
        f"短信后端 {backend} 缺少配置 BEIANDESK_{name.upper()}"
        for name, value in credentials.items()
        if not value
    ]
    if not (sign_name or "").strip():
        out.append(f"短信后端 {backend} 缺少短信签名 BEIANDESK_SMS_SIGN_NAME")
    try:
        templates = parse(templates_raw)
    except ValueError as exc:
        return [*out, str(exc)]
    missing = [k for k in PARAMS if templates.for_kind(k) is None]
    if missing:
        out.append(
            'BEIANDESK_SMS_TEMPLATES 缺少以下消息类型的模板（或用 "*" 指定通用模板）：'
            + "、".join(missing)
        )
    return out
