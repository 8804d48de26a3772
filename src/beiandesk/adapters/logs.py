"""Logging set-up: every formatted log line — message, traceback and stack — is masked.

The mask is applied by the formatter, on the finished text: a filter that rewrote the message
alone let ``exc_info`` tracebacks (whose exception messages often quote the offending value) go
out with ID numbers and mobiles in clear.
"""

from __future__ import annotations

import logging
from typing import IO

from beiandesk.domain.masking import scrub

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ScrubFormatter(logging.Formatter):
    """A formatter whose whole output (message, exception text, stack) is scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))

    def formatException(self, ei) -> str:  # noqa: ANN001, N802 - logging's own name
        return scrub(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's own name
        return scrub(super().formatStack(stack_info))


class ScrubFilter(logging.Filter):
    """Kept for handlers we do not own (uvicorn's): masks the message they format themselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string still gets logged
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _mask_handler(handler: logging.Handler) -> None:
    """Make a foreign handler's output masked too: wrap its formatter's output."""
    if not any(isinstance(f, ScrubFilter) for f in handler.filters):
        handler.addFilter(ScrubFilter())
    current = handler.formatter
    if isinstance(current, ScrubFormatter):
        return
    if current is None or type(current) is logging.Formatter:
        fmt = current._fmt if current is not None else None  # noqa: SLF001
        datefmt = current.datefmt if current is not None else None
        handler.setFormatter(ScrubFormatter(fmt, datefmt))
    else:  # a formatter with its own logic (uvicorn's colours): scrub what it produces
        inner = current

        class _Wrapped(ScrubFormatter):
            def format(self, record: logging.LogRecord) -> str:
                return scrub(inner.format(record))

        handler.setFormatter(_Wrapped())


def configure(level: str = "INFO", *, stream: IO[str] | None = None) -> None:
    root = logging.getLogger()
    if not any(isinstance(h.formatter, ScrubFormatter) for h in root.handlers):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(ScrubFormatter(FORMAT))
        handler.addFilter(ScrubFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "huey", "httpx"):
        for h in logging.getLogger(name).handlers:
            _mask_handler(h)
    if root.level > logging.DEBUG:
        # huey logs every task and the minute tick at INFO; our own lines say what matters.
        logging.getLogger("huey").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
