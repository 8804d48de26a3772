"""``serve --demo`` configured for real SMS through environment variables only: the submission's
SMS reaches a signature-checking Tencent / Alibaba stand-in, a transient failure is retried, and
the admin API shows the provider's answer on the row."""

from __future__ import annotations

import json

import pytest

from tests.e2e.live import LiveServer, wait_for
from tests.e2e.test_flow_http import submit_change
from tests.integration.sms_provider_servers import AliyunServer, TencentServer

pytestmark = pytest.mark.slow

TEMPLATES = json.dumps({"received": "2001", "*": "2999"})


def _env(provider: str, url: str) -> dict[str, str]:
    common = {"BEIANDESK_SMS_BACKEND": provider, "BEIANDESK_SMS_TEMPLATES": TEMPLATES,
              "BEIANDESK_SMS_SIGN_NAME": "beiandesk"}
    if provider == "tencent":
        return {**common, "BEIANDESK_TENCENT_SECRET_ID": "AKIDlive", "BEIANDESK_TENCENT_SECRET_KEY": "tc-live-key",
                "BEIANDESK_TENCENT_SMS_SDK_APP_ID": "1400009999", "BEIANDESK_TENCENT_SMS_ENDPOINT": url}
    return {**common, "BEIANDESK_ALIYUN_ACCESS_KEY_ID": "LTAIlive", "BEIANDESK_ALIYUN_ACCESS_KEY_SECRET": "ali-live",
            "BEIANDESK_ALIYUN_SMS_ENDPOINT": url}


@pytest.mark.parametrize("provider", ["tencent", "aliyun"])
def test_submission_sms_goes_through_the_provider_with_one_retry(tmp_path, provider) -> None:
    cls = TencentServer if provider == "tencent" else AliyunServer
    with cls({"AKIDlive": "tc-live-key", "LTAIlive": "ali-live"}) as sms:
        sms.script = ["transient"]
        with LiveServer(tmp_path / "var", f"sqlite:///{tmp_path / 'live.db'}", env=_env(provider, sms.url)) as server:
            submit_change(server)
            admin = server.client("demo-admin")

            def sent() -> list:
                rows = admin.get("/api/v1/admin/outbox", params={"kind": "sms"}).json()["items"]
                return [r for r in rows if r["status"] == "sent"]

            rows = wait_for(sent, timeout=40)
            row = rows[0]
            assert row["status_label"] == "已发送" and row["attempts"] == 2
            assert row["provider_answer"]["request_id"]
            assert row["provider_answer"]["serial_no" if provider == "tencent" else "biz_id"]
        verified = [r for r in sms.requests if r.get("outcome")]
        assert [r["outcome"] for r in verified][:2] == ["transient", "ok"]
        assert all(r["verified"] for r in sms.requests)
        first = verified[1]
        if provider == "tencent":
            assert first["json"]["TemplateId"] == "2001" and len(first["json"]["TemplateParamSet"]) == 2
        else:
            assert first["params"]["TemplateCode"] == "2001"
            assert set(json.loads(first["params"]["TemplateParam"])) == {"site", "filing"}
