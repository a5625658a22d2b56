"""What a command needs (core and plugins alike): the Context, `--json` output, tables, schema and user checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from geoplatform.cli.group import UserError
from geoplatform.context import Context
from geoplatform.principal import Principal


def get_context(ctx: click.Context) -> Context:
    """The invocation's Context (built lazily from --db / GEOPLATFORM_DATABASE_URL)."""
    root = ctx.find_root()
    if root.obj is None or "context" not in root.obj:
        root.obj = root.obj or {}
        root.obj["context"] = Context.create(root.obj.get("db"))
    return root.obj["context"]


pass_context = click.make_pass_decorator(click.Context)


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Print `data` as one JSON document (with --json) or through the human formatter."""
    if as_json or human is None:
        click.echo(json.dumps(data, ensure_ascii=False, default=str, indent=None if as_json else 2))
    else:
        human(data)


def table_progress(heading: str | None = None) -> Callable[[str, int], None]:
    """A progress callback of a long copy (backup, restore, demo): `  table: rows` on stderr as each table is done,
    under `heading` (printed once, before the first table)."""
    said = heading is None

    def say(table: str, rows: int) -> None:
        nonlocal said
        if not said:
            click.echo(heading, err=True)
            said = True
        click.echo(f"  {table}: {rows:,}", err=True)

    return say


def print_table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """A plain aligned text table; columns are (key, header)."""
    from unicodedata import east_asian_width

    def width(s: str) -> int:
        return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in s)

    cells = [[h for _, h in columns]] + [["" if r.get(k) is None else str(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(width(row[i]) for row in cells) for i in range(len(columns))]
    for n, row in enumerate(cells):
        click.echo("  ".join(c + " " * (w - width(c)) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


def require_schema(c: Context) -> None:
    """Fail clearly when the database was never initialised or is behind the code."""
    from geoplatform import schema

    if not schema.is_up_to_date(c.engine):
        raise UserError("the database schema is missing or out of date: run `geoplatform init` first")


def acting_principal(c: Context, user: str | None = None) -> Principal:
    """Who a command acts as: a stored, enabled account (`--user`; its role and jurisdiction apply) or,
    without one, the operator at the terminal with admin rights on the database they were given."""
    import getpass

    from sqlalchemy import select

    from geoplatform.auth import principal_of
    from geoplatform.models import User

    if user is None:
        try:
            login = getpass.getuser()
        except Exception:  # no login name in some containers
            login = "unknown"
        return Principal(name=f"cli:{login}", role="admin")
    with c.session(readonly=True) as s:
        row = s.execute(select(User).where(User.name == user)).scalar_one_or_none()
        if row is None or row.disabled:
            raise UserError(f"--user {user!r}: unknown or disabled user account")
        return principal_of(row)


def resolve_street(c: Context, value: str) -> str:
    """An NBS code or any name variant → the street's code (`geoplatform.streets.resolve_street`: NotFound,
    exit 2 with the same message as HTTP's 404, when unknown)."""
    from geoplatform.streets import resolve_street as resolve

    with c.session(readonly=True) as s:
        return resolve(s, value)
