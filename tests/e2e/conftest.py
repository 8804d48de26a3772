"""e2e fixtures: the console's live demo server and chromium (see browser_support.py)."""

from __future__ import annotations

from tests.e2e.browser_support import chromium, live_console, shots  # noqa: F401
