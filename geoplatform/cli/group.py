"""The `geoplatform` click group, and the one place a caller's mistake becomes exit status 2.

Services raise `geoplatform.errors.UserInputError` (or `NotFound`, `Forbidden`, `Conflict`);
commands raise `UserError` for what only the command line knows. `Group.invoke` turns the first
into the second for every command below it — core, web and plugins alike — so each prints one line
`错误 / error: …` on stderr and exits 2, never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from geoplatform import __version__
from geoplatform.errors import UserInputError


class UserError(click.ClickException):
    """A problem with the user's input: one clear line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001
        click.echo(f"错误 / error: {self.format_message()}", err=True)


class Group(click.Group):
    """The root group: a `UserInputError` from any command under it is shown as a `UserError` (exit 2)."""

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401
        try:
            return super().invoke(ctx)
        except UserInputError as exc:
            raise UserError(str(exc)) from exc


@click.group(cls=Group)
@click.option("--db", "db", envvar="GEOPLATFORM_DATABASE_URL", help="Database URL (sqlite:///FILE or postgresql://…).")
@click.version_option(__version__, prog_name="geoplatform")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """geoplatform — 昆都仑区小区物业服务管理地图 (web GIS of Kundulun's residential compounds)."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
