"""Loopback stand-ins for Tencent Cloud SMS and Alibaba Cloud SMS that check signatures as the
providers document them, so the adapters are proven against the real signing of the SDKs.

* Tencent Cloud API 3.0, "签名方法 v3" (TC3-HMAC-SHA256): CanonicalRequest =
  Method \\n URI \\n Query \\n CanonicalHeaders \\n SignedHeaders \\n hex(SHA256(body)), where every
  signed header is ``lowercase(name):lowercase(trim(value))\\n``; StringToSign =
  ``TC3-HMAC-SHA256\\n{X-TC-Timestamp}\\n{date}/{service}/tc3_request\\n{hex(SHA256(CanonicalRequest))}``;
  the key is HMAC chained over "TC3"+SecretKey → date → service → "tc3_request". The
  timestamp must be within 5 minutes and the date the timestamp's UTC date.
* Alibaba Cloud "V3 版本请求体&签名机制" (ACS3-HMAC-SHA256): CanonicalRequest = Method \\n URI \\n
  CanonicalQueryString (names and values RFC 3986 encoded, sorted) \\n CanonicalHeaders (host,
  content-type and every x-acs-* header, ``lowercase(name):trim(value)\\n`` sorted) \\n
  SignedHeaders \\n x-acs-content-sha256 (which must be hex(SHA256(body))); StringToSign =
  ``ACS3-HMAC-SHA256\\n{hex(SHA256(CanonicalRequest))}``; Signature = hex(HMAC-SHA256(secret,
  StringToSign)). x-acs-date within 15 minutes, a signature nonce used once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


# -- Tencent --------------------------------------------------------------------------------

_TC3 = re.compile(r"^TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request, "
                  r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")


def tencent_verify(method: str, path: str, query: str, headers: dict[str, str], body: bytes,
                   secrets: dict[str, str], now: float) -> str | None:
    """None when the request is signed correctly; else the provider's error code."""
    m = _TC3.match(headers.get("authorization", ""))
    if not m:
        return "AuthFailure.InvalidAuthorization"
    secret_id, date, service, signed, signature = m.groups()
    if secret_id not in secrets:
        return "AuthFailure.SecretIdNotFound"
    try:
        ts = int(headers.get("x-tc-timestamp", ""))
    except ValueError:
        return "AuthFailure.InvalidAuthorization"
    if abs(now - ts) > 300:
        return "AuthFailure.SignatureExpire"
    if datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d") != date:
        return "AuthFailure.SignatureFailure"
    names = signed.split(";")
    if not {"content-type", "host"} <= set(names):
        return "AuthFailure.SignatureFailure"
    canonical_headers = "".join(f"{n}:{headers.get(n, '').strip().lower()}\n" for n in names)
    canonical = "\n".join([method, path or "/", query if method == "GET" else "", canonical_headers, signed,
                           _sha256_hex(body)])
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{ts}\n{scope}\n{_sha256_hex(canonical.encode('utf-8'))}"
    key = _hmac(_hmac(_hmac(("TC3" + secrets[secret_id]).encode("utf-8"), date), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "AuthFailure.SignatureFailure"


# -- Alibaba --------------------------------------------------------------------------------

_ACS3 = re.compile(r"^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([a-z0-9;.-]+),Signature=([0-9a-f]{64})$")


def _pct(s: str) -> str:
    return quote(s, safe="-_.~")


def aliyun_verify(method: str, path: str, query: str, headers: dict[str, str], body: bytes,
                  secrets: dict[str, str], now: float, seen_nonces: set[str]) -> str | None:
    m = _ACS3.match(headers.get("authorization", ""))
    if not m:
        return "IncompleteSignature"
    ak, signed, signature = m.groups()
    if ak not in secrets:
        return "InvalidAccessKeyId.NotFound"
    names = signed.split(";")
    required = {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"}
    every_acs = {n for n in headers if n.startswith("x-acs-")}
    if not required <= set(names) or not every_acs <= set(names) or names != sorted(names):
        return "IncompleteSignature"
    if headers.get("x-acs-content-sha256") != _sha256_hex(body):
        return "SignatureDoesNotMatch"
    try:
        when = datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (KeyError, ValueError):
        return "InvalidTimeStamp.Format"
    if abs(now - when.timestamp()) > 900:
        return "InvalidTimeStamp.Expired"
    nonce = headers["x-acs-signature-nonce"]
    pairs = sorted((_pct(k), _pct(v)) for k, v in parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical_headers = "".join(f"{n}:{headers.get(n, '').strip()}\n" for n in names)
    canonical = "\n".join([method, path or "/", canonical_query, canonical_headers, signed,
                           headers["x-acs-content-sha256"]])
    to_sign = f"ACS3-HMAC-SHA256\n{_sha256_hex(canonical.encode('utf-8'))}"
    expected = hmac.new(secrets[ak].encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "SignatureDoesNotMatch"
    if nonce in seen_nonces:
        return "SignatureNonceUsed"
    seen_nonces.add(nonce)
    return None


# -- the servers ----------------------------------------------------------------------------

class ProviderServer:
    """A threaded HTTP server on a free loopback port. ``script`` lists what the next SendSms
    calls get: "ok", "transient", "permanent" (then "ok" for ever)."""

    provider = ""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets, self.script = secrets, []
        self.requests: list[dict[str, Any]] = []
        self.nonces: set[str] = set()
        self.clock = lambda: datetime.now(timezone.utc).timestamp()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                u = urlsplit(self.path)
                status, answer = outer.handle(self.command, u.path, u.query, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ProviderServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def next_outcome(self) -> str:
        return self.script.pop(0) if self.script else "ok"

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        raise NotImplementedError


class TencentServer(ProviderServer):
    provider = "tencent"

    def handle(self, method, path, query, headers, body):  # noqa: ANN001, ANN201
        request_id = str(uuid.uuid4())
        error = tencent_verify(method, path, query, headers, body, self.secrets, self.clock())
        record = {"headers": headers, "body": body, "path": path, "query": query, "verified": error is None,
                  "error": error, "json": json.loads(body or b"{}") if error is None else None}
        self.requests.append(record)
        if error:
            return 200, {"Response": {"Error": {"Code": error, "Message": "签名校验失败"}, "RequestId": request_id}}
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return 200, {"Response": {"Error": {"Code": "InvalidAction", "Message": "?"}, "RequestId": request_id}}
        outcome = self.next_outcome()
        record["outcome"] = outcome
        if outcome == "transient":
            return 200, {"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "请求下发短信超时"},
                                      "RequestId": request_id}}
        if outcome == "http502":
            return 502, {"message": "bad gateway"}
        req = record["json"]
        phone = req["PhoneNumberSet"][0]
        if outcome == "permanent":
            status = {"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": req.get("SessionContext", ""),
                      "Code": "FailedOperation.TemplateIncorrectOrUnapproved", "Message": "模板未审批或内容不匹配",
                      "IsoCode": "CN"}
        else:
            status = {"SerialNo": f"2640:{uuid.uuid4().int % 10**20}", "PhoneNumber": phone, "Fee": 1,
                      "SessionContext": req.get("SessionContext", ""), "Code": "Ok", "Message": "send success",
                      "IsoCode": "CN"}
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": request_id}}


class AliyunServer(ProviderServer):
    provider = "aliyun"

    def handle(self, method, path, query, headers, body):  # noqa: ANN001, ANN201
        request_id = str(uuid.uuid4()).upper()
        error = aliyun_verify(method, path, query, headers, body, self.secrets, self.clock(), self.nonces)
        record = {"headers": headers, "body": body, "path": path, "query": query, "verified": error is None,
                  "error": error, "params": dict(parse_qsl(query, keep_blank_values=True))}
        self.requests.append(record)
        if error:
            return 400, {"RequestId": request_id, "Code": error, "Message": "Specified signature does not match",
                         "HostId": "dysmsapi.aliyuncs.com"}
        if headers.get("x-acs-action") != "SendSms" or headers.get("x-acs-version") != "2017-05-25":
            return 400, {"RequestId": request_id, "Code": "InvalidAction.NotFound", "Message": "?"}
        outcome = self.next_outcome()
        record["outcome"] = outcome
        if outcome == "transient":
            return 503, {"RequestId": request_id, "Code": "ServiceUnavailable", "Message": "服务暂不可用"}
        if outcome == "permanent":
            return 200, {"RequestId": request_id, "Code": "isv.DAY_LIMIT_CONTROL", "Message": "触发日发送限额"}
        return 200, {"RequestId": request_id, "Code": "OK", "Message": "OK", "BizId": f"{uuid.uuid4().int % 10**18}^0"}
