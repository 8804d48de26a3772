"""SMS backends: Tencent Cloud SMS and Alibaba Cloud SMS through their official SDKs.

Both send the approved template of the message's kind (``SMS_TEMPLATES``) with its parameters
(``domain/sms_templates.PARAMS``: positional for Tencent, named for Alibaba) and return the
provider's answer, kept on the outbox row. Failures are sorted into transient (the provider's
internal error, rate limiting of the API, a time-out, HTTP 5xx: retried) and permanent (bad
number, template or signature not approved, daily limits, bad credentials: failed with the
reason). Neither SDK is allowed to retry on its own: the outbox decides, so one row is one call.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlparse

from beiandesk.domain import sms_templates
from beiandesk.domain.masking import mask_mobile
from beiandesk.domain.outbox_states import PermanentFailure, TransientFailure

log = logging.getLogger(__name__)


class OutboxSms:
    """The ``outbox`` SMS backend: messages are stored and listed for admins (仅保存), not sent."""

    keeps_only = True

    def send(self, to: str, text: str, **_: Any) -> None:
        log.info("SMS to %s kept in outbox", mask_mobile(to))


def mainland_mobile(number: str) -> str:
    """``+86 138-0013-8000`` / ``8613800138000`` / ``13800138000`` → ``13800138000``."""
    digits = re.sub(r"[\s()-]", "", number or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not re.fullmatch(r"1[3-9]\d{9}", digits):
        raise PermanentFailure(f"手机号码格式不正确：{mask_mobile(number)}")
    return digits


def _endpoint(url: str | None, default_host: str) -> tuple[str, str]:
    """``http://127.0.0.1:9000`` → ("http", "127.0.0.1:9000"); a bare host means https."""
    if not url:
        return "https", default_host
    if "//" not in url:
        return "https", url.strip("/")
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise ValueError(
            f"短信服务地址格式不正确：{url!r}（应为 https://host 或 http://host:port）"
        )
    return u.scheme, u.netloc


def _template(templates: sms_templates.Templates, kind: str) -> str:
    tid = templates.for_kind(kind)
    if tid is None:
        raise PermanentFailure(
            f"消息类型 {kind or '（未知）'} 没有配置短信模板（BEIANDESK_SMS_TEMPLATES）"
        )
    return tid


# -- Tencent Cloud ------------------------------------------------------------------------------

#: Tencent error codes worth retrying (everything InternalError.* is, too).
_TENCENT_TRANSIENT = {
    "RequestLimitExceeded",
    "ClientNetworkError",
    "ServerNetworkError",
    "InternalError",
    "FailedOperation.ServiceUnavailable",
    "ResourceUnavailable",
}


def tencent_is_transient(code: str) -> bool:
    if (
        code in _TENCENT_TRANSIENT
        or code.startswith("InternalError")
        and code != "InternalError.RequestTimeException"
    ):
        return True
    return False


class TencentSms:
    """Tencent Cloud SMS ``SendSms`` (API 2021-01-11, TC3-HMAC-SHA256) via tencentcloud-sdk-python-sms."""

    keeps_only = False

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        templates: sms_templates.Templates,
        region: str = "ap-guangzhou",
        endpoint: str | None = None,
        timeout_s: float = 15.0,
    ) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        scheme, host = _endpoint(endpoint, "sms.tencentcloudapi.com")
        http = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=max(1, int(round(timeout_s))))
        self._client = sms_client.SmsClient(
            credential.Credential(secret_id, secret_key), region, ClientProfile(httpProfile=http)
        )
        self.sdk_app_id, self.sign_name, self.templates = sdk_app_id, sign_name, templates

    def send(
        self,
        to: str,
        text: str,
        *,
        kind: str = "",
        params: dict[str, str] | None = None,
        ref: str = "",
    ) -> dict[str, Any]:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models

        req = models.SendSmsRequest()
        req.PhoneNumberSet = ["+86" + mainland_mobile(to)]
        req.SmsSdkAppId = self.sdk_app_id
        req.SignName = self.sign_name
        req.TemplateId = _template(self.templates, kind)
        req.TemplateParamSet = [
            str((params or {}).get(name, "")) for name in sms_templates.PARAMS.get(kind, ())
        ]
        req.SessionContext = ref
        try:
            resp = self._client.SendSms(req)
        except TencentCloudSDKException as exc:
            code, message = str(exc.code or ""), str(exc.message or "")
            answer = {
                "provider": "tencent",
                "request_id": exc.requestId,
                "code": code,
                "message": message[:500],
            }
            reason = f"腾讯云短信：{code} {message}".strip()[:500]
            if tencent_is_transient(code):
                raise TransientFailure(reason, answer) from None
            raise PermanentFailure(reason, answer) from None
        status = (resp.SendStatusSet or [None])[0]
        answer = {
            "provider": "tencent",
            "request_id": resp.RequestId,
            "serial_no": getattr(status, "SerialNo", None),
            "code": getattr(status, "Code", None),
            "message": getattr(status, "Message", None),
            "fee": getattr(status, "Fee", None),
        }
        code = str(answer["code"] or "")
        if code.lower() == "ok":
            return answer
        reason = f"腾讯云短信：{code} {answer['message'] or ''}".strip()[:500]
        if tencent_is_transient(code):
            raise TransientFailure(reason, answer)
        raise PermanentFailure(reason, answer)


# -- Alibaba Cloud ------------------------------------------------------------------------------

#: Alibaba codes worth retrying: the platform's own errors and API throttling. ``isv.*`` (the
#: caller's fault: number, template, signature, daily/minute limits, balance) is permanent.
_ALIYUN_TRANSIENT_PREFIXES = (
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "Throttling",
    "ServiceUnavailable",
    "InternalError",
    "isp.OUT_OF_SERVICE_TEMP",
)


def aliyun_is_transient(code: str, status: int | None = None) -> bool:
    if status is not None and status >= 500:
        return True
    return code.startswith(_ALIYUN_TRANSIENT_PREFIXES)


class AliyunSms:
    """Alibaba Cloud SMS ``SendSms`` (dysmsapi 2017-05-25) via alibabacloud-dysmsapi20170525
    (its default ACS3-HMAC-SHA256 signature)."""

    keeps_only = False

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: sms_templates.Templates,
        endpoint: str | None = None,
        timeout_s: float = 15.0,
    ) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        scheme, host = _endpoint(endpoint, "dysmsapi.aliyuncs.com")
        ms = int(timeout_s * 1000)
        self._client = Client(
            Config(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                endpoint=host,
                protocol=scheme,
                read_timeout=ms,
                connect_timeout=ms,
            )
        )
        self._timeout_ms = ms
        self.sign_name, self.templates = sign_name, templates

    def send(
        self,
        to: str,
        text: str,
        *,
        kind: str = "",
        params: dict[str, str] | None = None,
        ref: str = "",
    ) -> dict[str, Any]:
        from alibabacloud_dysmsapi20170525 import models
        from darabonba.exceptions import ResponseException
        from darabonba.runtime import RuntimeOptions

        req = models.SendSmsRequest(
            phone_numbers=mainland_mobile(to),
            sign_name=self.sign_name,
            template_code=_template(self.templates, kind),
            template_param=json.dumps(
                {k: str(v) for k, v in (params or {}).items()}, ensure_ascii=False
            ),
            out_id=ref or None,
        )
        runtime = RuntimeOptions(
            autoretry=False,
            max_attempts=1,
            read_timeout=self._timeout_ms,
            connect_timeout=self._timeout_ms,
        )
        try:
            resp = self._client.send_sms_with_options(req, runtime)
        except ResponseException as exc:
            code, status = str(exc.code or ""), getattr(exc, "status_code", None)
            data = exc.data if isinstance(getattr(exc, "data", None), dict) else {}
            answer = {
                "provider": "aliyun",
                "request_id": data.get("RequestId") or getattr(exc, "request_id", None),
                "code": code,
                "message": str(data.get("Message") or exc.message or "")[:500],
                "http_status": status,
            }
            reason = f"阿里云短信：{code} {answer['message']}".strip()[:500]
            if aliyun_is_transient(code, status):
                raise TransientFailure(reason, answer) from None
            raise PermanentFailure(reason, answer) from None
        except Exception as exc:  # noqa: BLE001 - connection refused, time-out, TLS: worth another try
            raise TransientFailure(
                f"阿里云短信：无法连接或超时（{type(exc).__name__}）",
                {"provider": "aliyun", "code": type(exc).__name__},
            ) from None
        body = resp.body
        answer = {
            "provider": "aliyun",
            "request_id": body.request_id,
            "biz_id": body.biz_id,
            "code": body.code,
            "message": body.message,
        }
        code = str(body.code or "")
        if code == "OK":
            return answer
        reason = f"阿里云短信：{code} {body.message or ''}".strip()[:500]
        if aliyun_is_transient(code):
            raise TransientFailure(reason, answer)
        raise PermanentFailure(reason, answer)


def build_sms(settings: Any) -> Any:
    """The configured SMS backend (call ``sms_config_problems`` first: this assumes it is complete)."""
    backend = settings.sms_backend
    templates = sms_templates.parse(settings.sms_templates)
    for key in templates.unknown:
        log.warning("BEIANDESK_SMS_TEMPLATES 中的 %r 不是 beiandesk 的消息类型，已忽略", key)
    if backend == "tencent":
        return TencentSms(
            secret_id=settings.tencent_secret_id,
            secret_key=settings.tencent_secret_key,
            sdk_app_id=settings.tencent_sms_sdk_app_id,
            sign_name=settings.sms_sign_name,
            templates=templates,
            region=settings.tencent_sms_region,
            endpoint=settings.tencent_sms_endpoint,
            timeout_s=settings.notify_timeout_s,
        )
    if backend == "aliyun":
        return AliyunSms(
            access_key_id=settings.aliyun_access_key_id,
            access_key_secret=settings.aliyun_access_key_secret,
            sign_name=settings.sms_sign_name,
            templates=templates,
            endpoint=settings.aliyun_sms_endpoint,
            timeout_s=settings.notify_timeout_s,
        )
    return OutboxSms()


def sms_config_problems(settings: Any) -> list[str]:
    """Why the SMS settings cannot start (Chinese lines, for the CLI's exit 2); empty when fine."""
    backend = settings.sms_backend
    creds: dict[str, str | None] = {}
    if backend == "tencent":
        creds = {
            "tencent_secret_id": settings.tencent_secret_id,
            "tencent_secret_key": settings.tencent_secret_key,
            "tencent_sms_sdk_app_id": settings.tencent_sms_sdk_app_id,
        }
    elif backend == "aliyun":
        creds = {
            "aliyun_access_key_id": settings.aliyun_access_key_id,
            "aliyun_access_key_secret": settings.aliyun_access_key_secret,
        }
    out = sms_templates.problems(backend, settings.sms_templates, settings.sms_sign_name, creds)
    for name in ("tencent_sms_endpoint", "aliyun_sms_endpoint"):
        try:
            _endpoint(getattr(settings, name), "x")
        except ValueError as exc:
            out.append(f"BEIANDESK_{name.upper()}：{exc}")
    return out
