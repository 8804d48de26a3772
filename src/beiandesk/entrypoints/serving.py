"""How ``serve`` runs beside other nodes: a shared demo sandbox, ``--no-worker``, ``--workers N``.

Several API nodes and workers share one PostgreSQL, one object store and (in demo mode) one
``beiandesk sandbox``; nothing a node needs lives only in another node's memory or disk
(api.md §Several nodes).
"""

from __future__ import annotations

import logging
import os

from beiandesk.config import Settings

log = logging.getLogger("beiandesk")

#: Environment handed to ``--workers`` processes (each builds its app from the environment).
_ENV_FIELDS = (
    "demo",
    "public_url",
    "gateway_url",
    "rdap_url",
    "probe_allow_private",
    "secret_key",
    "data_key",
)


def shared_demo_settings(settings: Settings, base: str) -> Settings | None:
    """``serve --demo`` with ``GATEWAY_URL`` naming a separately run sandbox (its ``/sandbox``
    URL): use it — gateway, registry and demo home pages — instead of mounting our own."""
    url = (settings.gateway_url or "").rstrip("/")
    if not url or url == "desk" or url == f"{base}/sandbox":
        return None
    update: dict[str, object] = {
        "demo": True,
        "gateway_url": url,
        "rdap_url": settings.rdap_url or f"{url}/rdap",
        "probe_allow_private": True,
    }
    if "public_url" not in settings.model_fields_set:  # behind haproxy, PUBLIC_URL is haproxy's
        update["public_url"] = base
    return settings.model_copy(update=update)


def mounts_own_sandbox(settings: Settings) -> bool:
    """Demo mode mounts its sandbox at ``/sandbox`` unless the gateway is a shared one elsewhere."""
    if not settings.demo:
        return False
    url = (settings.gateway_url or "").rstrip("/")
    return not url or url == "desk" or url == settings.public_url.rstrip("/") + "/sandbox"


def run_nodes(settings: Settings, host: str, port: int, *, workers: int, with_worker: bool) -> None:
    """``serve --workers N``: N uvicorn processes on one port, each building its app afresh
    (the parent already migrated and seeded)."""
    import uvicorn

    if workers > 1 and mounts_own_sandbox(settings):
        raise SystemExit(
            "多进程演示模式需要共享的管局沙箱：先运行 `beiandesk sandbox --port 8100`，"
            "再设置 BEIANDESK_GATEWAY_URL=http://127.0.0.1:8100/sandbox"
        )
    for name in _ENV_FIELDS:
        value = getattr(settings, name)
        if value is not None:
            os.environ[f"BEIANDESK_{name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
    os.environ["BEIANDESK_WORKER_IN_PROCESS"] = "true" if with_worker else "false"
    uvicorn.run(
        "beiandesk.entrypoints.serving:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


def app_from_env():  # noqa: ANN201 - uvicorn's factory
    from beiandesk import bootstrap
    from beiandesk.entrypoints.cli.core import _logging
    from beiandesk.entrypoints.server import build_server_app

    settings = Settings()
    _logging(settings)
    built = bootstrap.build(settings, migrate=False, with_jobs=True)
    return build_server_app(built, with_worker=settings.worker_in_process, freeze_gc=True)
