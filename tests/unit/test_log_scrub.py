"""Log lines are masked as a whole, traceback included (issue 12: the scrubber masked only the
message, so ``exc_info`` tracebacks went out with ID numbers and mobiles in clear)."""

from __future__ import annotations

import io
import logging

import pytest

from beiandesk.adapters import logs

ID_NUMBER = "44030519900101123X"
MOBILE = "13912345678"


@pytest.fixture
def configured():  # noqa: ANN201
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    root.handlers = []
    stream = io.StringIO()
    logs.configure("INFO", stream=stream)
    yield stream
    root.handlers, root.level = before, level


def test_traceback_with_personal_data_is_masked(configured) -> None:  # noqa: ANN001
    logger = logging.getLogger("beiandesk.test_scrub")
    try:
        raise ValueError(f"bad principal {ID_NUMBER} mobile {MOBILE}")
    except ValueError:
        logger.error("lookup failed for %s", MOBILE, exc_info=True)
    out = configured.getvalue()
    assert "Traceback (most recent call last)" in out
    assert "ValueError: bad principal" in out
    assert ID_NUMBER not in out and MOBILE not in out, out
    assert "4403**********123X" in out and "139****5678" in out


def test_stack_info_and_plain_messages_are_masked(configured) -> None:  # noqa: ANN001
    logger = logging.getLogger("beiandesk.test_scrub")
    logger.warning("call %s", MOBILE, stack_info=True)
    logger.info("plain %s", ID_NUMBER)
    out = configured.getvalue()
    assert "Stack (most recent call last)" in out
    assert MOBILE not in out and ID_NUMBER not in out


def test_formatter_masks_whatever_handler_uses_it() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "id %s", (ID_NUMBER,), None)
    try:
        raise RuntimeError(MOBILE)
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    text = logs.ScrubFormatter("%(message)s").format(record)
    assert ID_NUMBER not in text and MOBILE not in text and "RuntimeError" in text
