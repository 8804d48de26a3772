"""``check-draft`` says what is wrong with a draft file in Chinese only (issue 12: the OS's and the
JSON parser's English leaked into its one-line errors)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.test_cli_chinese import cli

LATIN_WORDS = re.compile(r"\b(?:No such|Expecting|Permission|denied|Invalid|invalid|Extra data|Unterminated|"
                         r"delimiter|property name|directory|codec|decode)\b")


@pytest.mark.parametrize("content", [b"{", b"{\"subject\": }", b"{} {}", b"\xff\xfe\x00garbage",
                                     b"{'single': 'quotes'}"])
def test_unreadable_drafts_are_explained_in_chinese(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "draft.json"
    f.write_bytes(content)
    r = cli("check-draft", str(f))
    assert r.returncode == 2
    line = r.stderr.strip()
    assert "\n" not in line and re.search(r"[\u4e00-\u9fff]", line), r.stderr
    assert not LATIN_WORDS.search(line), line


def test_missing_file_and_a_directory(tmp_path: Path) -> None:
    for target in (tmp_path / "nope.json", tmp_path):
        r = cli("check-draft", str(target))
        assert r.returncode == 2 and not LATIN_WORDS.search(r.stderr), r.stderr
        assert re.search(r"[\u4e00-\u9fff]", r.stderr)


def test_wrong_shapes_are_chinese(tmp_path: Path) -> None:
    draft = json.loads(Path("tests/drafts/clean_personal.json").read_text(encoding="utf-8"))
    draft["resource"]["purchased_at"] = "not a date"
    draft["subject"]["principal"] = {"name": 5}
    f = tmp_path / "d.json"
    f.write_text(json.dumps(draft, ensure_ascii=False), encoding="utf-8")
    r = cli("check-draft", str(f))
    assert r.returncode == 2 and not LATIN_WORDS.search(r.stderr), r.stderr
