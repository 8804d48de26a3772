"""The 核验单 speaks Chinese: a cloud region id such as ``ap-guangzhou`` is printed with its
place name (from ``data/regions.csv``), as the MIIT form asks for the server's location."""

from __future__ import annotations

from beiandesk.domain.verification_form import region_label


def test_known_region_ids_get_their_place_name() -> None:
    assert region_label("ap-guangzhou") == "广州（ap-guangzhou）"
    assert region_label("ap-shanghai") == "上海（ap-shanghai）"


def test_a_zone_is_named_after_its_region() -> None:
    assert region_label("ap-guangzhou-3") == "广州（ap-guangzhou-3）"


def test_chinese_or_unknown_regions_are_left_as_typed() -> None:
    assert region_label("华南地区（广州）") == "华南地区（广州）"
    assert region_label("xx-nowhere-1") == "xx-nowhere-1"
    assert region_label("") == "—"
