"""huey glue: the queue (a SQLite file by default, PostgreSQL when the database is) and a
consumer that leaves signals to its host. The worker itself — what runs the use cases — is an
entry point: ``beiandesk.entrypoints.worker``.
"""

from __future__ import annotations

from typing import Any

from huey import PostgresHuey, SqliteHuey
from huey.consumer import Consumer
from sqlalchemy.engine import make_url

from beiandesk.config import Settings


class QuietConsumer(Consumer):
    """A consumer that leaves signal handling to its host process (uvicorn, the CLI)."""

    def _set_signal_handlers(self) -> None:
        return None


def build_huey(settings: Settings) -> Any:
    if settings.is_postgres:
        dsn = make_url(settings.resolved_database_url()).set(drivername="postgresql")
        return PostgresHuey("beiandesk", dsn=dsn.render_as_string(hide_password=False), utc=True)
    path = settings.resolved_var_dir() / "huey.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("beiandesk", filename=str(path), utc=True)


_QuietConsumer = QuietConsumer  # the name it had
