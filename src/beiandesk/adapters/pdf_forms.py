"""Render the 核验单 (domain/verification_form.py) as a PDF with reportlab.

The text uses reportlab's built-in Adobe CID font STSong-Light (UniGB-UCS2-H): no font file is
embedded, every PDF reader and poppler map it to a Song/Ming face, and the text stays
extractable (pdftotext gives the Chinese back).
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from beiandesk.domain.verification_form import VerificationForm

FONT = "STSong-Light"
_LEFT, _RIGHT = 18 * mm, A4[0] - 18 * mm
_LABEL_W = 48 * mm
_ROW_H = 7.2 * mm


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, FONT, size) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    return lines + ([line] if line else [])


class ReportlabFormRenderer:
    def render(self, form: VerificationForm) -> bytes:
        font = _font()
        buf = io.BytesIO()
        c = Canvas(buf, pagesize=A4, pageCompression=1)
        c.setTitle(form.title)
        c.setAuthor(form.provider)
        y = A4[1] - 20 * mm
        c.setFont(font, 18)
        c.drawCentredString(A4[0] / 2, y, form.title)
        y -= 9 * mm
        c.setFont(font, 9.5)
        c.drawString(_LEFT, y, f"接入服务单位：{form.provider}")
        c.drawRightString(_RIGHT, y, f"{form.order_ref}　填表日期：{form.issued_on.isoformat()}")
        y -= 4 * mm
        for section in form.sections:
            y = self._section(c, section.title, section.rows, y)
        y = self._statement(c, form, y)
        c.showPage()
        c.save()
        return buf.getvalue()

    def _section(self, c: Canvas, title: str, rows: tuple[tuple[str, str], ...], y: float) -> float:
        c.setFillGray(0.9)
        c.rect(_LEFT, y - _ROW_H, _RIGHT - _LEFT, _ROW_H, stroke=1, fill=1)
        c.setFillGray(0)
        c.setFont(FONT, 11)
        c.drawString(_LEFT + 2 * mm, y - _ROW_H + 2.2 * mm, title)
        y -= _ROW_H
        c.setFont(FONT, 9.5)
        for label, value in rows:
            lines = _wrap(value, _RIGHT - _LEFT - _LABEL_W - 4 * mm, 9.5) or [""]
            h = max(_ROW_H, (len(lines) * 4.4 + 2.8) * mm)
            c.rect(_LEFT, y - h, _LABEL_W, h)
            c.rect(_LEFT + _LABEL_W, y - h, _RIGHT - _LEFT - _LABEL_W, h)
            c.drawString(_LEFT + 2 * mm, y - 4.8 * mm, label)
            for i, line in enumerate(lines):
                c.drawString(_LEFT + _LABEL_W + 2 * mm, y - 4.8 * mm - i * 4.4 * mm, line)
            y -= h
        return y - 4 * mm

    def _statement(self, c: Canvas, form: VerificationForm, y: float) -> float:
        box_h = 34 * mm
        half = (_RIGHT - _LEFT) / 2
        c.rect(_LEFT, y - box_h, half, box_h)
        c.rect(_LEFT + half, y - box_h, half, box_h)
        c.setFont(FONT, 10.5)
        c.drawString(_LEFT + 2 * mm, y - 5.5 * mm, "网站负责人确认")
        c.drawString(_LEFT + half + 2 * mm, y - 5.5 * mm, "接入服务单位核验意见")
        c.setFont(FONT, 8.5)
        for i, line in enumerate(_wrap(form.applicant_statement, half - 4 * mm, 8.5)):
            c.drawString(_LEFT + 2 * mm, y - 11 * mm - i * 4 * mm, line)
        for i, check in enumerate(form.provider_checks):
            c.drawString(_LEFT + half + 2 * mm, y - 11 * mm - i * 5 * mm, f"□ {check}")
        c.setFont(FONT, 9.5)
        c.drawString(
            _LEFT + 2 * mm, y - box_h + 4 * mm, "签字：________________　日期：____年__月__日"
        )
        c.drawString(
            _LEFT + half + 2 * mm, y - box_h + 4 * mm, "核验人：____________　日期：____年__月__日"
        )
        y -= box_h + 6 * mm
        c.setFont(FONT, 8.5)
        notes = (
            "填写说明：1. 本核验单由接入服务单位根据变更单预填，请核对后由网站负责人本人签字；"
            "2. 签字后拍照或扫描，在「核验与上传资料」步骤的「其他材料」中选「网站备案信息真实性核验单」上传；3. 信息有误时请先修改变更单再重新下载。"
        )
        for i, line in enumerate(_wrap(notes, _RIGHT - _LEFT, 8.5)):
            c.drawString(_LEFT, y - i * 4.2 * mm, line)
        return y
