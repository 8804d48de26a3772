"""``FastJSONResponse`` (entrypoints/api/responses.py) renders the bytes Starlette's
``JSONResponse`` renders for the plain JSON our views build, and ``DataCipher``'s JSON
round-trips what it did (orjson in both)."""

from __future__ import annotations

import json

import pytest
from fastapi.responses import JSONResponse

from beiandesk.adapters.crypto import DataCipher
from beiandesk.entrypoints.api.responses import FastJSONResponse

VALUES = [
    {},
    [],
    {"id": 7, "name": "明远技术笔记", "ok": True, "no": False, "none": None},
    {"domains": ["mingyuan-notes.cn", "例子.中国"], "nested": {"a": [1, 2, {"b": "c"}]}},
    {"text": 'quote " backslash \\ slash / tab \t newline \n cr \r bell \x07 del \x7f'},
    {"separators": "\u2028\u2029", "emoji": "🙂", "nul": "\x00", "bom": "\ufeff"},
    {"big": 2**53 + 1, "neg": -(2**31), "zero": 0},
    {"mobile": "138****1111", "id_number": "3101**********1239", "url": "https://例子.中国/a?b=1&c=2"},
]


@pytest.mark.parametrize("value", VALUES)
def test_the_same_bytes_as_starlettes_json_response(value) -> None:  # noqa: ANN001
    assert FastJSONResponse(value).body == JSONResponse(value).body
    assert json.loads(FastJSONResponse(value).body) == value


def test_status_and_headers_as_json_response() -> None:
    fast, plain = FastJSONResponse({"a": 1}, status_code=201, headers={"ETag": '"3"'}), JSONResponse(
        {"a": 1}, status_code=201, headers={"ETag": '"3"'}
    )
    assert fast.status_code == plain.status_code == 201
    assert fast.raw_headers == plain.raw_headers


@pytest.mark.parametrize("value", VALUES)
def test_encrypted_json_round_trips(value) -> None:  # noqa: ANN001
    c = DataCipher("k")
    assert c.decrypt_json(c.encrypt_json(value)) == value


def test_encrypted_json_keys_that_are_not_text_become_text_as_json_did() -> None:
    c = DataCipher("k")
    assert c.decrypt_json(c.encrypt_json({1: "a", "b": 2})) == json.loads(json.dumps({1: "a", "b": 2}))
