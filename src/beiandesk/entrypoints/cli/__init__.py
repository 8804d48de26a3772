"""The ``beiandesk`` command line. Each group of commands lives in its own module."""

from __future__ import annotations

import typer

from beiandesk.entrypoints.cli import checks_draft, checks_photo, checks_site, core, zh

zh.install()  # usage errors, help panels and the help option in Chinese (issue 12)

app = typer.Typer(
    help="beiandesk — ICP 备案服务平台（网站变更）",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (core, checks_draft, checks_photo, checks_site):
    module.register(app)

from beiandesk.entrypoints.cli import records as _records  # noqa: E402  (issue 9: import/export/backup)

_records.register(app)

from beiandesk.entrypoints.cli import accounts as _accounts  # noqa: E402  (issue 9: accounts, check-config)

_accounts.register(app)


@app.callback()
def _settings_readable() -> None:
    """Every command reads the settings: one that cannot be read (``BEIANDESK_TOKEN_TTL_S=abc``)
    is said as one Chinese line naming the variable, exit 2 — not a pydantic traceback."""
    import sys

    from pydantic import ValidationError

    from beiandesk.config import Settings
    from beiandesk.startup import setting_problems

    try:
        Settings()
    except ValidationError as exc:
        for line in setting_problems(exc.errors(include_url=False)):
            print(f"beiandesk: {line}", file=sys.stderr)
        raise typer.Exit(2) from None


def main() -> None:
    import sys

    try:
        app()
    except ValueError as exc:  # startup.StartupError / bootstrap.ConfigError: settings unusable
        lines = getattr(exc, "problems", None)
        if not lines:
            raise
        print(f"beiandesk: {lines[0]}", file=sys.stderr)
        sys.exit(2)
