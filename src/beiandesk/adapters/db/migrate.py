"""Apply migrations programmatically (``beiandesk db upgrade``; ``serve`` runs it first)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "beiandesk:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def applied_revisions(url: str) -> set[str]:
    """Every revision recorded as applied in the database at ``url`` (its heads and their
    ancestors); empty for a database never migrated."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(url))
    done: set[str] = set()
    for head in heads:
        for rev in script.iterate_revisions(head, "base"):
            done.add(rev.revision)
    return done


def describe_upgrade(before: set[str], after: set[str]) -> str:
    """What ``db upgrade`` tells the operator: the revisions it applied, or that none was due."""
    applied = sorted(after - before)
    if not applied:
        return "数据库已是最新版本，无需迁移。"
    return f"已应用 {len(applied)} 个数据库迁移：{'、'.join(applied)}。数据库现为最新版本。"
