"""Concrete checkers and the gateway, chosen from settings (demo mode points them at the sandbox)."""

from __future__ import annotations

from beiandesk.config import Settings
from beiandesk.services.deps import Deps


def attach(deps: Deps, settings: Settings) -> None:
    try:
        from beiandesk.adapters.photo import OpenCVPhotoInspector
        deps.photo = OpenCVPhotoInspector()
    except ImportError:
        deps.photo = None
