"""The pre-filled 核验单: a PDF whose text a machine (pdftotext) and a person can read."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import login


def _open_change(client, headers):  # noqa: ANN001, ANN202
    site = client.get("/api/v1/websites", headers=headers).json()
    items = site["items"] if isinstance(site, dict) else site
    open_site = next(w for w in items if w["status"] == "open")
    r = client.post(f"/api/v1/websites/{open_site['id']}/changes", headers=headers)
    assert r.status_code == 201, r.text
    return open_site, r.json()


def _pdf_text(pdf: bytes, tmp_path) -> str:  # noqa: ANN001
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is required: .ci/run installs it")
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_form_is_filled_from_the_order(client, tmp_path) -> None:  # noqa: ANN001
    h = login(client, "demo-enterprise")
    site, change = _open_change(client, h)
    r = client.get(f"/api/v1/changes/{change['id']}/verification-form.pdf", headers=h)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    text = _pdf_text(r.content, tmp_path)
    assert "网站备案信息真实性核验单" in text
    assert site["filing_number"] in text
    assert site["name"] in text
    for domain in site["domains"]:
        assert domain in text
    subject = client.get(f"/api/v1/subjects/{site['subject_id']}", headers=h).json()
    assert subject["name"] in text
    assert subject["filing_number"] in text
    assert change["proposed"]["principal"]["name"] in text
    # Masked like every other response: the full ID number never leaves in the form.
    assert subject["principal"]["id_number"] in text or "*" in text


def test_form_follows_the_proposed_information(client, tmp_path) -> None:  # noqa: ANN001
    h = login(client, "demo-personal")
    _, change = _open_change(client, h)
    r = client.patch(f"/api/v1/changes/{change['id']}", headers={**h, "If-Match": f'"{change["version"]}"'},
                     json={"name": "新的个人技术笔记"})
    assert r.status_code == 200, r.text
    pdf = client.get(f"/api/v1/changes/{change['id']}/verification-form.pdf", headers=h).content
    assert "新的个人技术笔记" in _pdf_text(pdf, tmp_path)


def test_another_applicant_gets_404(client) -> None:  # noqa: ANN001
    _, change = _open_change(client, login(client, "demo-enterprise"))
    r = client.get(f"/api/v1/changes/{change['id']}/verification-form.pdf", headers=login(client, "demo-personal"))
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    staff = client.get(f"/api/v1/changes/{change['id']}/verification-form.pdf", headers=login(client, "demo-reviewer"))
    assert staff.status_code == 200
