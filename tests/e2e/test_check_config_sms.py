"""check-config names what an SMS provider still lacks (credentials, signature, templates)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _run(tmp_path, **env: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    base = {k: v for k, v in os.environ.items() if not k.startswith("BEIANDESK_")}
    base.update({"BEIANDESK_SECRET_KEY": "k" * 32, "BEIANDESK_DATA_KEY": "d" * 32,
                 "BEIANDESK_VAR_DIR": str(tmp_path / "var"), **env})
    return subprocess.run([sys.executable, "-m", "beiandesk", "check-config", "--json"], env=base, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_incomplete_provider_is_reported(tmp_path) -> None:  # noqa: ANN001
    r = _run(tmp_path, BEIANDESK_SMS_BACKEND="tencent", BEIANDESK_SMS_TEMPLATES='{"received": "1001"}')
    assert r.returncode == 1, r.stderr
    text = json.dumps(json.loads(r.stdout), ensure_ascii=False)
    assert "BEIANDESK_TENCENT_SECRET_ID" in text and "BEIANDESK_SMS_SIGN_NAME" in text
    assert "provider_approved" in text and "received、" not in text


def test_complete_provider_passes(tmp_path) -> None:  # noqa: ANN001
    r = _run(tmp_path, BEIANDESK_SMS_BACKEND="aliyun", BEIANDESK_SMS_TEMPLATES='{"*": "SMS_1"}',
             BEIANDESK_SMS_SIGN_NAME="云帆", BEIANDESK_ALIYUN_ACCESS_KEY_ID="id",
             BEIANDESK_ALIYUN_ACCESS_KEY_SECRET="secret")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\"secret\"" not in r.stdout  # the value is masked
