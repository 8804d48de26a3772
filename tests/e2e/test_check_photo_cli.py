"""``beiandesk check-photo FILE [--json]``: output shape and exit statuses of api.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beiandesk.entrypoints.cli import app
from tests import photo_samples as samples

SCRIPT = Path(sys.executable).with_name("beiandesk")
SAMPLES = {s.name: s for s in samples.labelled_set()}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    out = {}
    for name in ("good", "eyes_closed", "background_door_gap"):
        out[name] = folder / f"{name}.jpg"
        out[name].write_bytes(samples.encode(SAMPLES[name].image))
    out["text"] = folder / "not-a-photo.jpg"
    out["text"].write_text("这不是照片\n", encoding="utf-8")
    out["empty"] = folder / "empty.png"
    out["empty"].write_bytes(b"")
    return out


def run(*args: str):
    return CliRunner().invoke(app, ["check-photo", *args])


def test_good_photo_json_exit_0(files):
    result = run(str(files["good"]), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"ok": True, "problems": []}


@pytest.mark.parametrize("name", ["eyes_closed", "background_door_gap"])
def test_failing_photo_json_exit_1(files, name):
    result = run(str(files[name]), "--json")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["ok"] is False
    assert [p["code"] for p in out["problems"]] == sorted(SAMPLES[name].codes)
    for p in out["problems"]:
        assert set(p) >= {"code", "severity", "message"}
        assert p["severity"] == "error" and p["message"]


@pytest.mark.parametrize("name", ["text", "empty"])
def test_unreadable_content_is_a_problem_not_a_usage_error(files, name):
    result = run(str(files[name]), "--json")
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["code"] == "photo_unreadable"


def test_missing_file_and_directory_exit_2_with_one_line(tmp_path):
    for target in (tmp_path / "nope.jpg", tmp_path):
        result = run(str(target), "--json")
        assert result.exit_code == 2
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1


def test_table_output_names_the_code(files):
    result = run(str(files["eyes_closed"]))
    assert result.exit_code == 1
    assert "eyes_closed" in result.stdout


def test_real_process_prints_only_json(files):
    cmd = (
        [str(SCRIPT)]
        if SCRIPT.exists()
        else [sys.executable, "-c", "from beiandesk.entrypoints.cli import main; main()"]
    )
    proc = subprocess.run(
        [*cmd, "check-photo", str(files["eyes_closed"]), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert [p["code"] for p in json.loads(proc.stdout)["problems"]] == ["eyes_closed"]
