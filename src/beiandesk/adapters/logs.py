"""Logging set-up: every log line passes through a filter that masks ID numbers and mobiles."""

from __future__ import annotations

import logging

from beiandesk.domain.masking import scrub


class ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string still gets logged
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, ScrubFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(ScrubFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "huey", "httpx"):
        for h in logging.getLogger(name).handlers:
            h.addFilter(ScrubFilter())
    if root.level > logging.DEBUG:
        # huey logs every task and the minute tick at INFO; our own lines say what matters.
        logging.getLogger("huey").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
