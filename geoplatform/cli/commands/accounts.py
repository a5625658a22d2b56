"""Accounts (`users …`) and `backup` / `restore`."""

from __future__ import annotations

import sys
from typing import Any

import click

from geoplatform.cli.group import UserError
from geoplatform.cli.helpers import (
    acting_principal,
    emit,
    get_context,
    print_table,
    require_schema,
    resolve_street,
    table_progress,
)

USER_OPTION = "Act as this stored account (its role applies: only an admin manages admin accounts); default: the " \
              "operator at the terminal, as admin."


@click.group("users")
def users() -> None:
    """Manage accounts: add, passwd, token, revoke, disable, enable, list."""


def _manager(c: Any, user: str | None, name: str | None, role: str | None = None) -> Any:
    """Who manages accounts here: SYSTEM (the operator) or the `--user` account if `manage_users` allows it on this
    account (`role`: the one asked for, else the stored one) — the web's rule; a refusal is audited, exit 2."""
    from geoplatform import audit
    from geoplatform import auth as a
    from geoplatform.principal import SYSTEM

    if user is None:
        return SYSTEM
    actor = acting_principal(c, user)
    if role is None and name is not None:
        with c.session(readonly=True) as s:
            found = a.get_user(s, name)
            role = found.role if found is not None else None
    if not c.allowed(actor, "manage_users", {"kind": "user", "id": name, "role": role}):
        audit.record_denied(c, actor, "manage_users", "user", name, detail=f"CLI --user {user} (role {role})")
        raise UserError(_say("account.not_allowed", actor=actor.name, name=name or "?"))
    return actor


def _read_password() -> str:
    data = sys.stdin.readline()
    return data.rstrip("\r\n")


def _say(key: str, **params: Any) -> str:
    """A CLI message from the catalogues (the CLI speaks English, like its errors)."""
    from geoplatform.i18n import t

    return t(key, "en", **params)


@users.command("add")
@click.argument("name")
@click.option("--role", required=True,
              help="admin, bureau, street_officer, community_officer, state_company, utility, telecom, fire, viewer")
@click.option("--street", default=None, help="Street officers: the street (NBS code or name).")
@click.option("--community", default=None, help="Community officers: the community (12-digit NBS code or name).")
@click.option("--utility", default=None, help="Utilities: water, power, heating or gas.")
@click.option("--password-stdin", "password_stdin", is_flag=True, help="Read the password from the first stdin line.")
@click.option("--user", "acting", default=None, help=USER_OPTION)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, street: str | None, community: str | None,
              utility: str | None, password_stdin: bool, acting: str | None, as_json: bool) -> None:
    """Create an account (password read from stdin, never from the command line)."""
    from geoplatform import audit
    from geoplatform import auth as a

    c = get_context(ctx)
    require_schema(c)
    actor = _manager(c, acting, name, role)  # authorisation before the input is checked
    if not password_stdin:
        raise UserError(_say("account.cli.password_stdin"))
    street_code = resolve_street(c, street) if street else None
    community_code = _resolve_community(c, community) if community else None
    password = _read_password()
    try:
        with c.session() as s:
            user = a.add_user(s, name, role, password, street_code, utility, community=community_code)
            info = {"name": user.name, "role": user.role, "street_code": user.street_code, "utility": user.utility,
                    "community_code": user.community_code}
            audit.record(s, actor, "create", "user", user.name, after=info)
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


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", "password_stdin", is_flag=True, help="Read the new password from the first stdin line.")
@click.option("--user", "acting", default=None, help=USER_OPTION)
@click.pass_context
def users_passwd(ctx: click.Context, name: str, password_stdin: bool, acting: str | None) -> None:
    """Set NAME's password (read from stdin, never from the command line); ends all of NAME's sessions."""
    from geoplatform import audit
    from geoplatform import auth as a

    c = get_context(ctx)
    require_schema(c)
    actor = _manager(c, acting, name)
    if not password_stdin:
        raise UserError(_say("account.cli.password_stdin"))
    password = _read_password()
    try:
        a.check_password_strength(password)
        hashed = a.hash_password(password)  # argon2 outside the write transaction
        with c.session() as s:
            ended = a.set_password(s, name, password, password_hash=hashed)
            audit.record(s, actor, "reset_password", "user", name, after={"sessions_ended": ended})
    except a.AccountError as exc:
        raise UserError(str(exc)) from exc
    click.echo(_say("account.cli.passwd", name=name, n=ended), err=True)


@users.command("token")
@click.argument("name")
@click.option("--user", "acting", default=None, help=USER_OPTION)
@click.pass_context
def users_token(ctx: click.Context, name: str, acting: str | None) -> None:
    """Print a new API token for NAME (shown once; only its hash is stored); it expires after the configured
    lifetime (`[rules.auth] token_lifetime_days`, default 180)."""
    from geoplatform import audit
    from geoplatform import auth as a

    c = get_context(ctx)
    require_schema(c)
    actor = _manager(c, acting, name)  # an admin's token only by an admin
    settings = _auth_settings(c)
    try:
        with c.session() as s:
            issued = a.issue_token(s, name, settings.token_lifetime)
            audit.record(s, actor, "create", "api_token", name,
                         after={"token_id": issued.id, "expires_at": issued.expires_at})
    except a.AccountError as exc:
        raise UserError(str(exc)) from exc
    click.echo(issued.token)
    click.echo(_say("account.cli.token", id=issued.id, at=issued.expires_at.isoformat(sep=" ", timespec="minutes")),
               err=True)


@users.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
@click.option("--user", "acting", default=None, help=USER_OPTION)
@click.pass_context
def users_revoke(ctx: click.Context, token_id: int, acting: str | None) -> None:
    """Revoke one API token by its id (see `users list`); the user's other tokens keep working."""
    from sqlalchemy import select

    from geoplatform import audit
    from geoplatform import auth as a
    from geoplatform import models as m

    c = get_context(ctx)
    require_schema(c)
    owner = None
    if token_id < 2**63:  # a larger id is no token (revoke_token says so); no column holds it
        with c.session(readonly=True) as s:
            owner = s.scalar(select(m.User.name).join(m.ApiToken, m.ApiToken.user_id == m.User.id)
                             .where(m.ApiToken.id == token_id))
    actor = _manager(c, acting, owner)
    try:
        with c.session() as s:
            tok = a.revoke_token(s, token_id)
            audit.record(s, actor, "revoke", "api_token", tok["user"],
                         before={"token_id": token_id, "revoked": False}, after={"token_id": token_id, "revoked": True})
    except a.AccountError as exc:
        raise UserError(str(exc)) from exc
    click.echo(_say("account.cli.revoked", id=token_id, name=tok["user"]), err=True)


def _auth_settings(c: Any) -> Any:
    from geoplatform import auth as a

    try:
        return a.AuthSettings.from_rules(c.rules("auth"))
    except (TypeError, ValueError) as exc:
        raise UserError(f"config: {exc}") from exc


def _set_disabled(ctx: click.Context, name: str, disabled: bool, acting: str | None = None) -> None:
    from geoplatform import audit
    from geoplatform import auth as a

    c = get_context(ctx)
    require_schema(c)
    actor = _manager(c, acting, name)
    try:
        with c.session() as s:
            a.set_disabled(s, name, disabled)
            audit.record(s, actor, "disable" if disabled else "enable", "user", name,
                         before={"disabled": not disabled}, after={"disabled": disabled})
    except a.AccountError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"user {name} {'disabled (sessions and tokens revoked)' if disabled else 'enabled'}", err=True)


@users.command("disable")
@click.argument("name")
@click.option("--user", "acting", default=None, help=USER_OPTION)
@click.pass_context
def users_disable(ctx: click.Context, name: str, acting: str | None) -> None:
    """Disable NAME: ends every session and revokes every token."""
    _set_disabled(ctx, name, True, acting)


@users.command("enable")
@click.argument("name")
@click.option("--user", "acting", default=None, help=USER_OPTION)
@click.pass_context
def users_enable(ctx: click.Context, name: str, acting: str | None) -> None:
    """Enable NAME again (old sessions and tokens stay revoked)."""
    _set_disabled(ctx, name, False, acting)


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
        table = [{**u, "token_text": "; ".join(_token_text(tok) for tok in u["token_list"])} for u in d["users"]]
        print_table(table, [("name", "用户"), ("role", "角色"), ("street_code", "街镇"), ("utility", "专业单位"),
                            ("disabled", "停用"), ("token_text", "API令牌(UTC)"),
                            ("token_last_used", "令牌最近使用(UTC)")])
    emit({"users": rows}, as_json, human)


def _token_text(tok: dict[str, Any]) -> str:
    """`#id active until …` / `#id expired …` for the users table."""
    at = (tok["expires_at"] or "").replace("T", " ")
    return _say(f"account.cli.token_{tok['state']}", id=tok["id"], at=at)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists (by default an existing file is kept).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def backup_cmd(ctx: click.Context, file: str, overwrite: bool, as_json: bool) -> None:
    """Write a consistent copy of the whole database to FILE (JSON; gzip when FILE ends in .gz; an existing FILE only
    with --overwrite)."""
    from pathlib import Path

    from geoplatform import backup as b

    c = get_context(ctx)
    require_schema(c)
    if Path(file).exists() and not overwrite:  # it may be the last good copy
        raise UserError(f"{file} exists: choose another name, or add --overwrite to replace it")
    try:
        counts = b.backup(c.engine, file, progress=table_progress())
    except OSError as exc:
        raise UserError(f"{file}: cannot write ({exc})") from exc
    emit({"file": file, "rows": counts}, as_json,
         lambda d: click.echo(f"backup written to {d['file']}: {sum(d['rows'].values())} rows"))


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True, help="Replace a database that holds rows (their copy is written first).")
@click.option("--keep", "keep", type=click.Path(dir_okay=False), default=None,
              help="Where the copy of the replaced content goes (default: before-restore-<UTC time>.json.gz "
                   "beside FILE).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def restore_cmd(ctx: click.Context, file: str, replace: bool, keep: str | None, as_json: bool) -> None:
    """Replace the whole database content by FILE's (one transaction: all or nothing). A database that holds rows is
    replaced only with --replace, after a copy of its content is written (--keep)."""
    from pathlib import Path

    from geoplatform import backup as b
    from geoplatform import schema

    c = get_context(ctx)
    schema.upgrade(c.engine)
    if keep is None:  # a new file beside FILE
        keep = str(b.new_copy_path(Path(file).resolve().parent, "before-restore"))
    try:
        done = b.restore(c.engine, file, replace=replace, keep=keep, actor=acting_principal(c).name,
                         progress=table_progress(_say("backup.restoring", file=file)),
                         copy_progress=table_progress(_say("backup.copying", path=keep)))
    except b.BackupError as exc:
        raise UserError(str(exc)) from exc
    emit({"file": file, "rows": done.rows, "replaced": done.replaced, "kept": None if done.kept is None
          else str(done.kept)}, as_json, _say_restored)


def _say_restored(d: dict[str, Any]) -> None:
    """The plain-text report of `restore`."""
    click.echo(f"restored {sum(d['rows'].values())} rows from {d['file']}")
    if d["kept"]:
        click.echo(f"the {sum(d['replaced'].values())} rows it replaced are in {d['kept']} "
                   f"(`geoplatform restore {d['kept']} --replace` puts them back)")


def _account_names(names: list[str]) -> str:
    """Names of demo accounts, the street officers folded into one entry."""
    officers = [n for n in names if n.startswith("officer_")]
    rest = [n for n in names if not n.startswith("officer_")]
    if len(officers) > 2:
        rest.append(f"officer_<street code> ×{len(officers)} (e.g. {officers[0]})")
    else:
        rest += officers
    return ", ".join(rest)


def demo_accounts_message(accounts: Any) -> str:
    """What `geoplatform demo` prints on stderr about the demo accounts (geoplatform.auth.DemoAccounts)."""
    from geoplatform.i18n import t

    lines = []
    if accounts.created:
        lines.append(t("demo.accounts_created", "en", password=accounts.password,
                       names=_account_names(accounts.created)))
    if accounts.reset:
        lines.append(t("demo.accounts_reset", "en", password=accounts.password, names=_account_names(accounts.reset)))
    if accounts.kept:
        lines.append(t("demo.accounts_kept", "en", n=len(accounts.kept)))
    lines.append(t("demo.login_hint", "en"))
    return "\n".join(lines)


COMMANDS = (users, backup_cmd, restore_cmd)
