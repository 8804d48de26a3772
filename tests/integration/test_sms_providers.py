"""Tencent Cloud and Alibaba Cloud SMS through their official SDKs, against loopback servers that
check the signature the way each provider documents it (tests/integration/sms_provider_servers.py).
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from beiandesk.adapters.sms import AliyunSms, TencentSms, mainland_mobile, sms_config_problems
from beiandesk.config import Settings
from beiandesk.domain import sms_templates
from beiandesk.domain.outbox_states import PermanentFailure, TransientFailure
from beiandesk.services import jobs, outbox_admin
from tests.integration.sms_provider_servers import AliyunServer, TencentServer

TEMPLATES = sms_templates.parse(json.dumps({"received": "1110001", "provider_rejected": "1110002", "*": "1119999"}))
PARAMS = {"site": "示例网站", "filing": "京ICP备12345678号-1"}


def tencent(server: TencentServer, key: str = "tc-secret-key") -> TencentSms:
    return TencentSms(secret_id="AKIDtest", secret_key=key, sdk_app_id="1400000001", sign_name="beiandesk",
                      templates=TEMPLATES, endpoint=server.url, timeout_s=5)


def aliyun(server: AliyunServer, secret: str = "ali-secret") -> AliyunSms:
    return AliyunSms(access_key_id="LTAItest", access_key_secret=secret, sign_name="beiandesk",
                     templates=TEMPLATES, endpoint=server.url, timeout_s=5)


def _replay(url: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


# -- Tencent --------------------------------------------------------------------------------

def test_tencent_sdk_request_passes_the_tc3_verifier_and_carries_the_template() -> None:
    with TencentServer({"AKIDtest": "tc-secret-key"}) as server:
        answer = tencent(server).send("13800138000", "正文", kind="received", params=PARAMS, ref="beiandesk-7")
        req = server.requests[-1]
        assert req["verified"], req["error"]
        body = req["json"]
        assert body["PhoneNumberSet"] == ["+8613800138000"]          # E.164 for Tencent
        assert body["TemplateId"] == "1110001" and body["SignName"] == "beiandesk"
        assert body["TemplateParamSet"] == ["示例网站", "京ICP备12345678号-1"]  # positional, in PARAMS order
        assert body["SmsSdkAppId"] == "1400000001" and body["SessionContext"] == "beiandesk-7"
        assert req["headers"]["x-tc-region"] == "ap-guangzhou"
        assert answer["code"] == "Ok" and answer["serial_no"] and answer["request_id"]


def test_tencent_verifier_rejects_a_tampered_request_and_a_wrong_key() -> None:
    with TencentServer({"AKIDtest": "tc-secret-key"}) as server:
        tencent(server).send("13800138000", "正文", kind="received", params=PARAMS)
        good = server.requests[-1]
        tampered = good["body"].replace(b"+8613800138000", b"+8613900139000")
        headers = {k: v for k, v in good["headers"].items() if k != "content-length"}
        _, answer = _replay(server.url, good["path"], headers, tampered)
        assert answer["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
        _, answer = _replay(server.url, good["path"], headers, good["body"])  # untouched: still accepted
        assert "SendStatusSet" in answer["Response"]
        with pytest.raises(PermanentFailure) as exc:
            tencent(server, key="wrong-key").send("13800138000", "x", kind="received", params=PARAMS)
        assert "AuthFailure.SignatureFailure" in exc.value.reason


def test_tencent_transient_and_permanent_answers_are_told_apart() -> None:
    with TencentServer({"AKIDtest": "tc-secret-key"}) as server:
        server.script = ["transient", "http502", "permanent"]
        sms = tencent(server)
        with pytest.raises(TransientFailure) as t1:
            sms.send("13800138000", "x", kind="received", params=PARAMS)
        assert t1.value.answer["code"] == "InternalError.Timeout" and t1.value.answer["request_id"]
        with pytest.raises(TransientFailure):
            sms.send("13800138000", "x", kind="received", params=PARAMS)
        with pytest.raises(PermanentFailure) as p:
            sms.send("13800138000", "x", kind="received", params=PARAMS)
        assert p.value.answer["code"] == "FailedOperation.TemplateIncorrectOrUnapproved"
        assert len(server.requests) == 3  # the SDK never retried on its own


# -- Alibaba --------------------------------------------------------------------------------

def test_aliyun_sdk_request_passes_the_acs3_verifier_and_carries_the_template() -> None:
    with AliyunServer({"LTAItest": "ali-secret"}) as server:
        answer = aliyun(server).send("+86 138 0013 8000", "正文", kind="provider_rejected",
                                     params={**PARAMS, "reason": "首页未展示备案号"}, ref="beiandesk-9")
        req = server.requests[-1]
        assert req["verified"], req["error"]
        p = req["params"]
        assert p["PhoneNumbers"] == "13800138000"                     # 11 digits for Alibaba
        assert p["TemplateCode"] == "1110002" and p["SignName"] == "beiandesk" and p["OutId"] == "beiandesk-9"
        assert json.loads(p["TemplateParam"]) == {"site": "示例网站", "filing": "京ICP备12345678号-1",
                                                  "reason": "首页未展示备案号"}  # named
        assert answer["code"] == "OK" and answer["biz_id"] and answer["request_id"]


def test_aliyun_verifier_rejects_a_tampered_request_a_replay_and_a_wrong_secret() -> None:
    with AliyunServer({"LTAItest": "ali-secret"}) as server:
        aliyun(server).send("13800138000", "正文", kind="received", params=PARAMS)
        good = server.requests[-1]
        params = dict(parse_qsl(good["query"], keep_blank_values=True))
        params["PhoneNumbers"] = "13900139000"
        headers = {k: v for k, v in good["headers"].items() if k != "content-length"}
        status, answer = _replay(server.url, f"{good['path']}?{urlencode(params)}", headers, good["body"])
        assert (status, answer["Code"]) == (400, "SignatureDoesNotMatch")
        status, answer = _replay(server.url, f"{good['path']}?{good['query']}", headers, good["body"])
        assert (status, answer["Code"]) == (400, "SignatureNonceUsed")
        with pytest.raises(PermanentFailure) as exc:
            aliyun(server, secret="wrong").send("13800138000", "x", kind="received", params=PARAMS)
        assert exc.value.answer["code"] == "SignatureDoesNotMatch" and exc.value.answer["request_id"]


def test_aliyun_transient_and_permanent_answers_are_told_apart() -> None:
    with AliyunServer({"LTAItest": "ali-secret"}) as server:
        server.script = ["transient", "permanent"]
        sms = aliyun(server)
        with pytest.raises(TransientFailure) as t:
            sms.send("13800138000", "x", kind="received", params=PARAMS)
        assert t.value.answer["http_status"] == 503
        with pytest.raises(PermanentFailure) as p:
            sms.send("13800138000", "x", kind="received", params=PARAMS)
        assert p.value.answer["code"] == "isv.DAY_LIMIT_CONTROL"
        assert len(server.requests) == 2


def test_a_refused_connection_is_transient() -> None:
    with AliyunServer({"LTAItest": "ali-secret"}) as server:
        url = server.url
    sms = AliyunSms(access_key_id="LTAItest", access_key_secret="ali-secret", sign_name="s", templates=TEMPLATES,
                    endpoint=url, timeout_s=2)
    with pytest.raises(TransientFailure):
        sms.send("13800138000", "x", kind="received", params=PARAMS)


def test_numbers_in_the_form_each_provider_wants() -> None:
    assert mainland_mobile("+86 138-0013-8000") == mainland_mobile("008613800138000") == "13800138000"
    with pytest.raises(PermanentFailure):
        mainland_mobile("12345")


# -- configuration --------------------------------------------------------------------------

def _settings(**kw) -> Settings:  # noqa: ANN003
    return Settings(_env_file=None, **kw)


def test_a_configured_backend_without_a_template_for_every_kind_cannot_start(caplog) -> None:
    base = {"sms_backend": "tencent", "tencent_secret_id": "id", "tencent_secret_key": "k",
            "tencent_sms_sdk_app_id": "1400", "sms_sign_name": "beiandesk"}
    problems = sms_config_problems(_settings(**base, sms_templates='{"received": "1"}'))
    assert len(problems) == 1 and "provider_rejected" in problems[0] and "*" in problems[0]
    assert sms_config_problems(_settings(**base, sms_templates='{"*": "1", "no_such_kind": "2"}')) == []
    assert sms_config_problems(_settings(**base, sms_templates="not json"))
    missing = sms_config_problems(_settings(sms_backend="aliyun", sms_templates='{"*": "1"}'))
    assert any("ALIYUN_ACCESS_KEY_ID" in p for p in missing) and any("SMS_SIGN_NAME" in p for p in missing)
    assert sms_config_problems(_settings(sms_backend="nope"))
    assert sms_config_problems(_settings()) == []  # outbox needs nothing

    from beiandesk.adapters.sms import build_sms
    with caplog.at_level("WARNING"):
        build_sms(_settings(**base, sms_templates='{"*": "1", "no_such_kind": "2"}'))
    assert "no_such_kind" in caplog.text


def test_bootstrap_refuses_an_incomplete_sms_configuration(tmp_path) -> None:
    from beiandesk import bootstrap
    s = _settings(var_dir=tmp_path, secret_key="k" * 32, data_key="d" * 32, sms_backend="aliyun",
                  aliyun_access_key_id="a", aliyun_access_key_secret="b",
                  sms_sign_name="x", sms_templates='{"received": "1"}')
    with pytest.raises(bootstrap.ConfigError) as exc:
        bootstrap.build(s, migrate=False)
    assert any("sms_reminder" in p for p in exc.value.problems)


# -- through the outbox ---------------------------------------------------------------------

def _queue_sms(deps, kind: str = "received") -> int:  # noqa: ANN001
    now = deps.clock.now()
    with deps.uow() as uow:
        item = uow.outbox.add("sms", {"to": "13800138000", "text": "【beiandesk】正文", "event": kind,
                                      "params": dict(PARAMS)}, now, recipient_masked="138****8000", subject="测试")
        uow.commit()
    return item


@pytest.mark.parametrize("provider", ["tencent", "aliyun"])
def test_outbox_retries_a_transient_failure_then_sends_and_keeps_the_answer(deps, fakes, provider) -> None:
    server_cls, make = (TencentServer, tencent) if provider == "tencent" else (AliyunServer, aliyun)
    with server_cls({"AKIDtest": "tc-secret-key", "LTAItest": "ali-secret"}) as server:
        server.script = ["transient"]
        deps.sms = make(server)
        item = _queue_sms(deps)
        assert jobs.deliver(deps, item) == "pending"
        with deps.uow(readonly=True) as uow:
            row = uow.outbox.get(item)
        assert row.last_error and row.provider_answer["request_id"]
        wait = (row.next_attempt_at - fakes["clock"].now()).total_seconds()
        assert 0 < wait <= 30                                   # the first retry within 30 s
        assert jobs.due_outbox(deps) == []
        fakes["clock"].advance(seconds=wait)
        assert jobs.due_outbox(deps) == [item]
        assert jobs.deliver(deps, item) == "sent"
        with deps.uow(readonly=True) as uow:
            row = uow.outbox.get(item).public()
        assert row["status_label"] == "已发送" and row["attempts"] == 2
        ref = row["provider_answer"]["serial_no" if provider == "tencent" else "biz_id"]
        assert ref and row["provider_answer"]["request_id"]
        assert [r["verified"] for r in server.requests] == [True, True]


@pytest.mark.parametrize("provider", ["tencent", "aliyun"])
def test_outbox_marks_a_permanent_failure_failed_and_the_admin_retries_it(deps, fakes, provider) -> None:
    server_cls, make = (TencentServer, tencent) if provider == "tencent" else (AliyunServer, aliyun)
    with server_cls({"AKIDtest": "tc-secret-key", "LTAItest": "ali-secret"}) as server:
        server.script = ["permanent"]
        deps.sms = make(server)
        item = _queue_sms(deps)
        assert jobs.deliver(deps, item) == "failed"
        with deps.uow(readonly=True) as uow:
            row = uow.outbox.get(item).public()
        assert row["status_label"] == "发送失败" and row["can_retry"]
        assert ("TemplateIncorrectOrUnapproved" if provider == "tencent" else "DAY_LIMIT_CONTROL") in row["last_error"]
        fakes["clock"].advance(hours=1)
        assert jobs.due_outbox(deps) == []                      # never retried on its own
        admin = _admin(deps)
        assert outbox_admin.retry(deps, admin, item)["status"] == "pending"
        assert jobs.deliver(deps, item) == "sent"
        assert len(server.requests) == 2


def _admin(deps):  # noqa: ANN001, ANN202
    from beiandesk.domain.model import Account, Role
    return Account(id=1, username="ops-admin", role=Role.admin)
