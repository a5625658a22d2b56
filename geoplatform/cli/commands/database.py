"""`init`, `demo` and `summary`: the schema, the synthetic demo data, counts per street."""

from __future__ import annotations

from typing import Any

import click

from geoplatform.cli.group import UserError
from geoplatform.cli.helpers import emit, get_context, print_table, require_schema, table_progress


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database schema (idempotent)."""
    from geoplatform import schema

    c = get_context(ctx)
    schema.upgrade(c.engine)
    click.echo(f"schema up to date: {', '.join(sorted(schema.current_heads(c.engine)))}", err=True)


@click.command()
@click.option("--scale", default=1.0, show_default=True, type=float, help="Size relative to the district (1 ≈ 1,000 compounds).")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date the demo's deadlines are relative to.")
@click.option("--replace", is_flag=True,
              help="Also replace what is not demo data (imported rows, accounts other than the demo accounts).")
@click.option("--keep", "keep", type=click.Path(dir_okay=False), default=None,
              help="With --replace: where the copy of the replaced content goes (default: "
                   "$GEOPLATFORM_INSTANCE/before-demo-<UTC time>.json.gz, instance/ unless set).")
@click.option("--reset-passwords", "reset_passwords", is_flag=True,
              help="Give the existing demo accounts a new password too (GEOPLATFORM_DEMO_PASSWORD or a random one).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def demo(ctx: click.Context, scale: float, seed: int, today, replace: bool, keep: str | None,  # noqa: ANN001
         reset_passwords: bool, as_json: bool) -> None:
    """Load the synthetic Kundulun demo (labelled synthetic) in place of the demo data.

    Refuses a database holding anything but demo data unless --replace (and then says what it
    replaces, after writing a copy of the database to --keep); existing demo accounts keep their
    passwords unless --reset-passwords."""
    import os
    from pathlib import Path

    from geoplatform import auth as auth_mod
    from geoplatform import backup, schema
    from geoplatform import demo as demo_mod
    from geoplatform.cli.commands.accounts import demo_accounts_message
    from geoplatform.i18n import t

    if scale <= 0:
        raise UserError("--scale must be > 0")
    password = os.environ.get("GEOPLATFORM_DEMO_PASSWORD") or None
    try:
        if password is not None:
            auth_mod.check_password_strength(password)
    except auth_mod.AccountError as exc:
        raise UserError(f"GEOPLATFORM_DEMO_PASSWORD: {exc}") from exc
    c = get_context(ctx)
    schema.upgrade(c.engine)
    with c.session(readonly=True) as s:
        other = demo_mod.other_rows(s)
    if other and not replace:
        raise UserError(t("demo.refused", "en", what=demo_mod.describe(other)))
    if other:
        click.echo(t("demo.replacing", "en", what=demo_mod.describe(other)), err=True)
    click.echo(f"generating synthetic Kundulun (scale {scale}, seed {seed}) …", err=True)
    data = demo_mod.generate(scale=scale, seed=seed, today=today.date() if today else None)
    kept, heads = None, sorted(schema.current_heads(c.engine))
    if other:
        folder = Path(os.environ.get("GEOPLATFORM_INSTANCE", "instance"))
        kept = Path(keep) if keep else backup.new_copy_path(folder if folder.is_dir() else Path.cwd(), "before-demo")
    fresh = kept is not None and not kept.exists()  # keep_copy never writes over a file: only a new one is ours
    try:
        with c.session() as s:
            backup.hold_writers(s.connection())
            if demo_mod.other_rows(s) != other:  # work added while the demo was being generated
                raise UserError(t("demo.changed", "en"))
            if kept is not None:  # what is not demo data, kept before anything is deleted
                backup.keep_copy(s.connection(), kept, heads, table_progress(t("backup.copying", "en", path=str(kept))))
            writing = table_progress(t("demo.writing", "en") if kept is not None else None)  # apart from the copy's
            if replace:
                auth_mod.delete_users(s, auth_mod.other_accounts(s))
            detached = auth_mod.detach_street_users(s)
            counts = demo_mod.load(s, data, progress=writing)
            counts.update(demo_mod.extend(c, s, today.date() if today else None, seed))
            accounts = auth_mod.create_demo_users(s, password, detached, reset_passwords=reset_passwords)
    except backup.BackupError as exc:
        raise UserError(str(exc)) from exc
    except BaseException:
        if fresh:  # the transaction rolled back: nothing was replaced
            kept.unlink(missing_ok=True)
        raise
    if kept is not None:
        click.echo(t("demo.kept", "en", path=str(kept)), err=True)
    click.echo(demo_accounts_message(accounts), err=True)
    emit({"scale": scale, "seed": seed, "counts": counts, "source": demo_mod.SOURCE, "replaced": other,
          "kept": None if kept is None else str(kept),
          "accounts": {"created": accounts.created, "reset": accounts.reset, "kept": accounts.kept}}, as_json,
         lambda d: click.echo(f"demo loaded (synthetic data): {d['counts']}"))


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def summary(ctx: click.Context, as_json: bool) -> None:
    """Counts per street: compounds, buildings, households, management modes."""
    from geoplatform.summary import summarise

    c = get_context(ctx)
    require_schema(c)
    with c.session(readonly=True) as s:
        data = summarise(s)

    def human(d: dict[str, Any]) -> None:
        cols = [("code", "代码"), ("name", "街镇"), ("compounds", "小区"), ("buildings", "楼栋"),
                ("households", "户数"), ("professional", "专业化物业"), ("state_owned", "国企兜底"),
                ("self_managed", "自管"), ("community_managed", "社区代管"), ("none", "无物业")]
        print_table([*d["streets"], {"name": "合计", **d["district"]}], cols)
    emit(data, as_json, human)


COMMANDS = (init, demo, summary)
