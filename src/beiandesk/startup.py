"""Start-up checks and the effective configuration (api.md "Start-up and configuration").

Outside ``--demo`` a server or worker must not invent its own keys: two nodes that each
generated one could not read each other's records or tokens. :func:`problems` lists what stops
a start (missing keys, a setting naming an unknown backend) as ``(variable, Chinese line)``;
``serve``/``worker`` print the first and exit 2. :func:`report` is ``beiandesk check-config``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from beiandesk.config import Settings

ENV_PREFIX = "BEIANDESK_"
SMS_BACKENDS = ("outbox", "tencent", "aliyun")
STORAGE_SCHEMES = ("file", "s3")
GATEWAY_SCHEMES = ("http", "https")
#: Settings that are secrets: shown as set / not set only.
SECRET_FIELDS = frozenset(
    {
        "secret_key",
        "data_key",
        "gateway_secret",
        "tencent_secret_key",
        "aliyun_access_key_secret",
        "s3_secret_access_key",
        "metrics_token",
    }
)
#: Settings holding URLs whose ``user:password@`` part is masked.
URL_FIELDS = frozenset(
    {"database_url", "smtp_url", "storage_url", "gateway_url", "s3_endpoint_url"}
)


class StartupError(ValueError):
    """The settings cannot start beiandesk; ``problems`` are Chinese lines naming the variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


#: pydantic's error types, said as a Chinese clause after the variable's name.
_SETTING_ERRORS = {
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
    "json_invalid": "须为 JSON",
}


def setting_problems(errors: list[dict[str, Any]]) -> list[str]:
    """``Settings()``'s validation errors (pydantic's ``errors()``) as Chinese lines naming the
    variable, e.g. ``BEIANDESK_DB_READ_CONNECTIONS 须不小于 1（当前为 0）``. A value is quoted
    only where it cannot be a secret or hold one (numbers, switches): never a key, a token or a
    URL."""
    out = []
    for e in errors:
        field = str(e["loc"][0]) if e.get("loc") else ""
        name = env_name(field) if field else "配置"
        ctx = e.get("ctx") or {}
        kind = e.get("type", "")
        if kind in ("greater_than_equal", "greater_than"):
            said = f"须{'不小于' if kind == 'greater_than_equal' else '大于'} {ctx.get('ge', ctx.get('gt'))}"
        elif kind in ("less_than_equal", "less_than"):
            said = f"须{'不大于' if kind == 'less_than_equal' else '小于'} {ctx.get('le', ctx.get('lt'))}"
        else:
            said = _SETTING_ERRORS.get(kind, "的取值不正确")
        shown = field not in SECRET_FIELDS and field not in URL_FIELDS and not any(
            word in field for word in ("key", "secret", "token", "password")
        )
        value = e.get("input")
        if shown and isinstance(value, str | int | float) and len(str(value)) <= 40:
            said += f"（当前为 {value}）"
        out.append(f"{name} {said}")
    return out


def gateway_mode(settings: Settings) -> str:
    """``desk`` (staff hand-over on the authority desk) or ``gateway`` (an HTTP gateway)."""
    url = (settings.gateway_url or "").strip()
    return "desk" if url in ("", "desk") else "gateway"


def missing_keys(settings: Settings) -> list[tuple[str, str]]:
    out = []
    for field, what in (
        ("secret_key", "签发登录令牌与控制台会话"),
        ("data_key", "加密身份证号、手机号等个人信息"),
    ):
        if not getattr(settings, field, None):
            out.append(
                (
                    env_name(field),
                    f"未设置 {env_name(field)}（用于{what}；各节点必须相同）："
                    f"请设置后再启动，或用 --demo 运行演示模式。",
                )
            )
    return out


def backend_problems(settings: Settings) -> list[tuple[str, str]]:
    out = []
    sms = (getattr(settings, "sms_backend", "outbox") or "").strip()
    if sms not in SMS_BACKENDS:
        out.append(
            (
                env_name("sms_backend"),
                f"{env_name('sms_backend')}={sms!r} 不是已知的短信通道（可选 {' / '.join(SMS_BACKENDS)}）。",
            )
        )
    else:  # a known provider with a missing credential, signature or template (issue 10)
        from beiandesk.adapters.sms import sms_config_problems

        out.extend((env_name("sms_backend"), line) for line in sms_config_problems(settings))
    gw = (settings.gateway_url or "").strip()
    if gw and gw != "desk":
        parts = urlsplit(gw)
        if parts.scheme not in GATEWAY_SCHEMES or not parts.netloc:
            out.append(
                (
                    env_name("gateway_url"),
                    f"{env_name('gateway_url')} 须为 desk（管局工作台人工报送）或 http(s):// 网关地址，"
                    f"而不是 {_mask_url(gw)!r}。",
                )
            )
    storage = (getattr(settings, "storage_url", None) or "").strip()
    if storage:
        scheme = urlsplit(storage).scheme
        if scheme not in STORAGE_SCHEMES:
            out.append(
                (
                    env_name("storage_url"),
                    f"{env_name('storage_url')} 须为 file:///路径 或 s3://存储桶/前缀，而不是 {_mask_url(storage)!r}。",
                )
            )
    return out


def problems(settings: Settings, *, require_keys: bool | None = None) -> list[tuple[str, str]]:
    """What stops a start: missing keys (outside demo mode) and unknown backends."""
    if require_keys is None:
        require_keys = not settings.demo
    return (missing_keys(settings) if require_keys else []) + backend_problems(settings)


def require(settings: Settings, *, require_keys: bool | None = None) -> None:
    found = problems(settings, require_keys=require_keys)
    if found:
        raise StartupError([line for _, line in found])


def _mask_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None and "@" not in parts.netloc:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(
        (
            parts.scheme,
            f"{user}:***@{host}" if user else f"***@{host}",
            parts.path,
            parts.query,
            parts.fragment,
        )
    )


def _shown(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in SECRET_FIELDS or any(w in field for w in ("password", "secret")):
        return "***" if value else None
    if field in URL_FIELDS and isinstance(value, str):
        return _mask_url(value)
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def report(settings: Settings) -> dict[str, Any]:
    """``check-config``: the effective settings (secrets masked), what is missing, what is wrong."""
    effective: dict[str, Any] = {}
    explicit = settings.model_fields_set
    for field in sorted(type(settings).model_fields):
        effective[env_name(field)] = {
            "value": _shown(field, getattr(settings, field)),
            "source": "set" if field in explicit else "default",
        }
    effective[env_name("database_url")]["effective"] = _mask_url(settings.resolved_database_url())
    missing = [var for var, _ in missing_keys(settings)]
    found = problems(settings)
    return {
        "ok": not found,
        "demo": settings.demo,
        "gateway": gateway_mode(settings),
        "missing": missing,
        "problems": [{"variable": v, "message": m} for v, m in found],
        "settings": effective,
    }
