"""Compose the process that ``serve`` runs: API, console, demo sandbox, in-process worker."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from beiandesk.bootstrap import App
from beiandesk.entrypoints.api.app import create_app
from beiandesk.entrypoints.web import console

log = logging.getLogger("beiandesk")


def freeze_startup_objects() -> None:
    """Move everything built at start-up (modules, the app, its routes and models: ~150,000
    objects) out of the garbage collector's reach. A full collection walked them all — 91 ms
    measured here, a stall of every request in flight whenever it ran — though none of them is
    ever garbage. Objects made later are collected as before."""
    import gc

    gc.collect()
    gc.freeze()


def build_server_app(app: App, *, with_worker: bool = True, freeze_gc: bool = False) -> FastAPI:
    starts: list[Any] = []
    stops: list[Any] = []
    sandbox = None
    from beiandesk.entrypoints.serving import mounts_own_sandbox

    if mounts_own_sandbox(app.settings):
        from beiandesk.sandbox.app import create_sandbox_app

        sandbox = create_sandbox_app(app.settings)
        starts.append(sandbox.state.sandbox.start)
        stops.append(sandbox.state.sandbox.stop)
    if with_worker and app.jobs is not None and app.settings.worker_in_process:
        starts.append(app.jobs.start)
        stops.append(app.jobs.stop)
    api = create_app(app, on_startup=starts, on_shutdown=stops)
    console.install(api, app)
    if sandbox is not None:
        api.mount("/sandbox", sandbox)
    if freeze_gc:  # ``serve``: a process that serves until it ends (not the tests' many apps)
        # Last of the start-up hooks: the routes, the OpenAPI document and the worker exist.
        starts.append(lambda: (api.openapi(), freeze_startup_objects()))
    return api
