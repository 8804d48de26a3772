"""``beiandesk check-draft FILE [--json]`` as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DRAFTS = Path(__file__).resolve().parents[1] / "drafts"
SCRIPT = Path(sys.executable).with_name("beiandesk")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = (
        [str(SCRIPT)]
        if SCRIPT.exists()
        else [sys.executable, "-c", "from beiandesk.entrypoints.cli import main; main()"]
    )
    return subprocess.run(
        [*cmd, "check-draft", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_clean_draft_json_output_and_exit_0():
    r = cli(str(DRAFTS / "clean_enterprise.json"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"ok": True, "problems": []}


def test_failing_draft_exit_1_with_codes_fields_and_kind():
    r = cli(str(DRAFTS / "fail_materials_shanghai.json"), "--json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is False
    assert out["problems"] == [
        {
            "code": "material_missing",
            "severity": "error",
            "message": out["problems"][0]["message"],
            "field": "materials.authorization_letter",
            "kind": "authorization_letter",
        }
    ]
    assert "授权书" in out["problems"][0]["message"]


def test_warnings_only_is_ok_and_exit_0():
    r = cli(str(DRAFTS / "warn_unverified_domain.json"), "--json")
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert out["ok"] is True and [p["severity"] for p in out["problems"]] == ["warning"]


def test_human_output_lists_problems():
    r = cli(str(DRAFTS / "fail_resource.json"))
    assert r.returncode == 1
    assert "resource_not_mainland" in r.stdout


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "无法读取"),
        ("{not json", "JSON"),
        ('["a list"]', "草稿"),
        ('{"subject": {"kind": "personal"}}', "proposed"),
        (b"\xff\xfe\x00garbage", "无法读取"),
    ],
)
def test_bad_input_exit_2_with_one_line_on_stderr(tmp_path, content, needle):
    path = tmp_path / "draft.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    r = cli(str(path), "--json")
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
