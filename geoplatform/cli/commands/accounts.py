"""Accounts (`users …`) and `backup` / `restore`."""

from __future__ import annotations

import sys
from typing import Any

import click

from geoplatform.cli.group import UserError
from geoplatform.cli.helpers import emit, get_context, print_table, require_schema, resolve_street


@click.group("users")
def users() -> None:
    """Manage accounts: add, token, disable, enable, list."""


def _read_password() -> str:
    data = sys.stdin.readline()
    return data.rstrip("\r\n")


@users.command("add")
@click.argument("name")
@click.option("--role", required=True,
              help="admin, bureau, street_officer, community_officer, state_company, utility, viewer")
@click.option("--street", default=None, help="Street officers: the street (NBS code or name).")
@click.option("--community", default=None, help="Community officers: the community (12-digit NBS code or name).")
@click.option("--utility", default=None, help="Utilities: water, power, heating or gas.")
@click.option("--community", default=None, help="Community officers: the community (12-digit code).")
@click.option("--password-stdin", "password_stdin", is_flag=True, help="Read the password from the first stdin line.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, street: str | None, community: str | None,
              utility: str | None, password_stdin: bool, as_json: bool) -> None:
    """Create an account (password read from stdin, never from the command line)."""
    from geoplatform import audit
    from geoplatform import auth as a
    from geoplatform.principal import SYSTEM

    if not password_stdin:
        raise UserError("give the password on stdin with --password-stdin")
    c = get_context(ctx)
    require_schema(c)
    street_code = resolve_street(c, street) if street else None
    community_code = _resolve_community(c, community) if community else None
    password = _read_password()
    try:
        with c.session() as s:
            user = a.add_user(s, name, role, password, street_code, utility, community=community_code)
            info = {"name": user.name, "role": user.role, "street_code": user.street_code, "utility": user.utility,
                    "community_code": user.community_code}
            audit.record(s, SYSTEM, "create", "user", user.name, after=info)
    except a.AccountError as exc:
        raise UserError(str(exc)) from exc
    emit(info, as_json, lambda d: click.echo(f"user {d['name']} ({d['role']}) created"))


def _resolve_community(c: Any, value: str) -> str:
    """A community's 12-digit code or its unique name → the code (UserError otherwise)."""
    from sqlalchemy import select

    from geoplatform.models import Community

    with c.session(readonly=True) as s:
        if s.get(Community, value) is not None:
            return value
        codes = s.scalars(select(Community.code).where(Community.name == value)).all()
    if len(codes) != 1:
        raise UserError(f"unknown community {value!r} (give the 12-digit NBS code or its unique name)")
    return codes[0]


@users.command("token")
@click.argument("name")
@click.pass_context
def users_token(ctx: click.Context, name: str) -> None:
    """Print a new API token for NAME (shown once; only its hash is stored)."""
    from geoplatform import audit
    from geoplatform import auth as a
    from geoplatform.principal import SYSTEM

    c = get_context(ctx)
    require_schema(c)
    try:
        with c.session() as s:
            token = a.new_token(s, name)
            audit.record(s, SYSTEM, "create", "api_token", name)
    except a.AccountError as exc:
        raise UserError(str(exc)) from exc
    click.echo(token)
    click.echo("use it as: Authorization: Bearer <token> (it is not shown again)", err=True)


def _set_disabled(ctx: click.Context, name: str, disabled: bool) -> None:
    from geoplatform import audit
    from geoplatform import auth as a
    from geoplatform.principal import SYSTEM

    c = get_context(ctx)
    require_schema(c)
    try:
        with c.session() as s:
            a.set_disabled(s, name, disabled)
            audit.record(s, SYSTEM, "disable" if disabled else "enable", "user", name,
                         before={"disabled": not disabled}, after={"disabled": disabled})
    except a.AccountError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"user {name} {'disabled (sessions and tokens revoked)' if disabled else 'enabled'}", err=True)


@users.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx: click.Context, name: str) -> None:
    """Disable NAME: ends every session and revokes every token."""
    _set_disabled(ctx, name, True)


@users.command("enable")
@click.argument("name")
@click.pass_context
def users_enable(ctx: click.Context, name: str) -> None:
    """Enable NAME again (old sessions and tokens stay revoked)."""
    _set_disabled(ctx, name, False)


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """List accounts (no secrets)."""
    from geoplatform import auth as a

    c = get_context(ctx)
    require_schema(c)
    with c.session(readonly=True) as s:
        rows = a.list_users(s)

    def human(d: dict[str, Any]) -> None:
        print_table(d["users"], [("name", "用户"), ("role", "角色"), ("street_code", "街镇"), ("utility", "专业单位"),
                                 ("disabled", "停用"), ("tokens", "令牌"),
                                 ("token_last_used", "令牌最近使用(UTC)")])
    emit({"users": rows}, as_json, human)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def backup_cmd(ctx: click.Context, file: str, as_json: bool) -> None:
    """Write a consistent copy of the whole database to FILE (JSON; gzip when FILE ends in .gz)."""
    from geoplatform import backup as b

    c = get_context(ctx)
    require_schema(c)
    try:
        counts = b.backup(c.engine, file)
    except OSError as exc:
        raise UserError(f"{file}: cannot write ({exc})") from exc
    emit({"file": file, "rows": counts}, as_json,
         lambda d: click.echo(f"backup written to {d['file']}: {sum(d['rows'].values())} rows"))


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def restore_cmd(ctx: click.Context, file: str, as_json: bool) -> None:
    """Replace the whole database content by FILE's (one transaction: all or nothing)."""
    from geoplatform import backup as b
    from geoplatform import schema

    c = get_context(ctx)
    schema.upgrade(c.engine)
    try:
        counts = b.restore(c.engine, file)
    except b.BackupError as exc:
        raise UserError(str(exc)) from exc
    emit({"file": file, "rows": counts}, as_json,
         lambda d: click.echo(f"restored {sum(d['rows'].values())} rows from {d['file']}"))


def demo_accounts_message(password: str) -> str:
    """What `geoplatform demo` prints on stderr about the demo accounts."""
    return (f"demo accounts (password: {password}): admin, bureau, officer_<street code> e.g. officer_150203001, "
            "state_company, utility_water/power/heating/gas, viewer\n"
            "log in: `geoplatform serve` then open http://127.0.0.1:5000/login ; API: `geoplatform users token NAME` "
            "and send `Authorization: Bearer <token>`")


COMMANDS = (users, backup_cmd, restore_cmd)
