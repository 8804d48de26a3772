"""Masks for personal data in responses and logs (domain/masking.py; api.md §Records)."""

from __future__ import annotations

import pytest

from beiandesk import demo_data
from beiandesk.domain.masking import mask_id_number, mask_mobile, scrub

ID_NUMBERS = [s["principal"]["id_number"] for s in demo_data.SUBJECTS] + [
    w["principal"]["id_number"] for s in demo_data.SUBJECTS for w in s["websites"]]
MOBILES = [s["principal"]["mobile"] for s in demo_data.SUBJECTS] + [
    w["principal"]["mobile"] for s in demo_data.SUBJECTS for w in s["websites"]]


@pytest.mark.parametrize(("value", "masked"), [
    ("44030519900101123X", "4403**********123X"),   # api.md's example shape
    ("310104198503152023", "3101**********2023"),
    ("91310104MA1FL8XQ36", "9131**********XQ36"),   # a credit code
    ("E12345678", "E123*5678"),                     # a passport: 9 characters
    ("12345678", "1*******"),                       # too short to show both ends
    ("A", "A"),
    ("", ""),
])
def test_mask_id_number(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked
    assert len(mask_id_number(value)) == len(value)


@pytest.mark.parametrize(("value", "masked"), [
    ("13912345678", "139****5678"),
    ("13812345678", "138****5678"),
    ("8613912345678", "861******5678"),
    ("1234567", "*******"),
    ("", ""),
])
def test_mask_mobile(value: str, masked: str) -> None:
    assert mask_mobile(value) == masked


@pytest.mark.parametrize("number", ID_NUMBERS)
def test_a_masked_id_number_hides_the_birth_date_and_sequence(number: str) -> None:
    masked = mask_id_number(number)
    assert masked != number and number[6:14] not in masked
    assert masked.count("*") == len(number) - 8


@pytest.mark.parametrize("mobile", MOBILES)
def test_a_masked_mobile_hides_the_middle_four(mobile: str) -> None:
    assert mask_mobile(mobile) == mobile[:3] + "****" + mobile[-4:]


@pytest.mark.parametrize("text", [
    "申请人 李明 身份证号 44030519900101123X 手机 13912345678 提交了变更",
    "id=44030519900101123x,mobile=13912345678",
    "phone:13912345678;id:44030519900101123X.",
    '{"mobile": "13912345678", "id_number": "44030519900101123X"}',
])
def test_scrub_masks_ids_and_mobiles_in_free_text(text: str) -> None:
    out = scrub(text)
    assert "44030519900101123" not in out.upper()
    assert "13912345678" not in out


def test_scrub_keeps_the_masked_forms_and_the_rest() -> None:
    out = scrub("身份证 44030519900101123X，手机 13912345678。")
    assert out == "身份证 4403**********123X，手机 139****5678。"


@pytest.mark.parametrize("text", [
    "+8613912345678",
    "tel:+86-13912345678",
    "短信已发送至 8613912345678",
])
def test_scrub_masks_mobiles_with_the_country_code(text: str) -> None:
    # SMS gateways and logs commonly write E.164 numbers; the national number must not leak.
    assert "13912345678" not in scrub(text)


@pytest.mark.parametrize("text", [
    "订单号 202611270000123456789",     # a 21-digit number is not an ID
    "trace 1391234567890123",           # a longer digit run is not a mobile
    "version 2026.11.27 build 12345",
])
def test_scrub_leaves_other_numbers_alone(text: str) -> None:
    assert scrub(text) == text


def test_scrub_is_idempotent() -> None:
    once = scrub("44030519900101123X 13912345678")
    assert scrub(once) == once
