"""The materials step offers the pre-filled 核验单 and said 「在「核验单」处上传」 (helper J's
walk-through): there was no such place — the kind was left out of the optional uploads, so a
signed form could not be uploaded at all. The 其他材料 select now offers it and the upload shows."""

from __future__ import annotations

from tests.e2e.test_console_http import console_client, csrf_of, log_in, ready_order, scan_png


def test_the_signed_form_can_be_uploaded_on_the_materials_step(app, seeded) -> None:  # noqa: ANN001
    order_id = ready_order(seeded)
    web = console_client(app)
    log_in(web, "demo-personal")
    page = web.get(f"/changes/{order_id}/materials").text
    assert "verification-form.pdf" in page and "「其他材料」中选「网站备案信息真实性核验单」上传" in page
    assert '<option value="verification_form">网站备案信息真实性核验单</option>' in page
    r = web.post(f"/changes/{order_id}/materials",
                 data={"csrf_token": csrf_of(web, f"/changes/{order_id}/materials"), "kind": "verification_form",
                       "slot": "material-other-upload"},
                 files={"file": ("signed-form.png", scan_png(), "image/png")}, follow_redirects=True)
    assert r.status_code == 200, r.text[:500]
    assert 'id="material-verification_form"' in r.text and "signed-form.png" in r.text
