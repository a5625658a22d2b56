"""The `geoplatform` command line (click). Plugins add commands through the register_commands hook."""

from __future__ import annotations

import copy
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from geoplatform import __version__
from geoplatform.config import load_config
from geoplatform.context import Context
from geoplatform.principal import Principal


class UserError(click.ClickException):
    """A problem with the user's input: one clear line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001
        click.echo(f"错误 / error: {self.format_message()}", err=True)


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


@click.group()
@click.option("--db", "db", envvar="GEOPLATFORM_DATABASE_URL", help="Database URL (sqlite:///FILE or postgresql://…).")
@click.version_option(__version__, prog_name="geoplatform")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """geoplatform — 昆都仑区小区物业服务管理地图 (web GIS of Kundulun's residential compounds)."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database schema (idempotent)."""
    from geoplatform import schema

    c = get_context(ctx)
    schema.upgrade(c.engine)
    click.echo(f"schema up to date: {', '.join(sorted(schema.current_heads(c.engine)))}", err=True)


def require_schema(c: Context) -> None:
    """Fail clearly when the database was never initialised or is behind the code."""
    from geoplatform import schema

    if not schema.is_up_to_date(c.engine):
        raise UserError("the database schema is missing or out of date: run `geoplatform init` first")


@cli.command()
@click.option("--scale", default=1.0, show_default=True, type=float, help="Size relative to the district (1 ≈ 1,000 compounds).")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date the demo's deadlines are relative to.")
@click.option("--replace", is_flag=True,
              help="Also replace what is not demo data (imported rows, accounts other than the demo accounts).")
@click.option("--reset-passwords", "reset_passwords", is_flag=True,
              help="Give the existing demo accounts a new password too (GEOPLATFORM_DEMO_PASSWORD or a random one).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def demo(ctx: click.Context, scale: float, seed: int, today, replace: bool, reset_passwords: bool,  # noqa: ANN001
         as_json: bool) -> None:
    """Load the synthetic Kundulun demo (labelled synthetic) in place of the demo data.

    Refuses a database holding anything but demo data unless --replace (and then says what it
    replaces); existing demo accounts keep their passwords unless --reset-passwords."""
    import os

    from geoplatform import accounts_cli, schema
    from geoplatform import auth as auth_mod
    from geoplatform import demo as demo_mod
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
    with c.session() as s:
        if demo_mod.other_rows(s) != other:  # work added while the demo was being generated
            raise UserError(t("demo.changed", "en"))
        if replace:
            auth_mod.delete_users(s, auth_mod.other_accounts(s))
        detached = auth_mod.detach_street_users(s)
        counts = demo_mod.load(s, data, progress=lambda t, n: click.echo(f"  {t}: {n}", err=True))
        accounts = auth_mod.create_demo_users(s, password, detached, reset_passwords=reset_passwords)
    click.echo(accounts_cli.demo_accounts_message(accounts), err=True)
    emit({"scale": scale, "seed": seed, "counts": counts, "source": demo_mod.SOURCE, "replaced": other,
          "accounts": {"created": accounts.created, "reset": accounts.reset, "kept": accounts.kept}}, as_json,
         lambda d: click.echo(f"demo loaded (synthetic data): {d['counts']}"))


@cli.command()
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


@cli.command("export")
@click.argument("kind")
@click.option("--format", "fmt", default="geojson", show_default=True,
              type=click.Choice(["geojson", "gpkg", "shp", "csv", "xlsx"]))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--street", default=None, help="Only this street (NBS code or name).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def export_cmd(ctx: click.Context, kind: str, fmt: str, output: str, street: str | None, as_json: bool) -> None:
    """Export a table (compound, building, …), a layer or a plugin's named export to a file."""
    from geoplatform.io import export as ex

    c = get_context(ctx)
    require_schema(c)
    exporters = c.exporters()
    street_code = resolve_street(c, street) if street else None
    parent = Path(output).expanduser().parent
    if not parent.is_dir():
        raise UserError(f"{output}: folder {parent} does not exist")
    try:
        n = _export_to(c, ex, exporters, kind, fmt, output, street_code)
    except OSError as e:  # permission denied, disk full, …
        raise UserError(f"{output}: cannot write the file: {e.strerror or e}") from None
    emit({"kind": kind, "format": fmt, "output": output, "rows": n}, as_json,
         lambda d: click.echo(f"{d['rows']} rows → {d['output']}"))


def _export_to(c: Context, ex: Any, exporters: dict, kind: str, fmt: str, output: str,  # noqa: ANN401
               street_code: str | None) -> int:
    """Write one export (plugin exporter or table) and return its row count."""
    if kind in exporters:
        exp = exporters[kind]
        if fmt not in exp.formats:
            raise UserError(f"export {kind} supports {', '.join(exp.formats)}, not {fmt}")
        n = exp.function(c, fmt, output, street_code)
    elif kind.rstrip("s") in ex.EXPORTABLE_TABLES or kind in ex.EXPORTABLE_TABLES:
        table = kind if kind in ex.EXPORTABLE_TABLES else kind.rstrip("s")
        writer = getattr(ex, "write_file", None)
        with c.session(readonly=True) as s:
            frame = ex.table_frame(s, table, street_code)
        if writer is not None:
            n = writer(frame, output, fmt, table=table)
        elif fmt == "geojson":
            n = ex.write_geojson(frame, output)
        else:
            raise UserError(f"format {fmt} is not available yet")
    else:
        names = sorted({*ex.EXPORTABLE_TABLES, *exporters})
        raise UserError(f"unknown export {kind!r}; choose one of: {', '.join(names)}")
    return n


from geoplatform.io.cli import import_cmd  # noqa: E402 - `import` lives in geoplatform/io

cli.add_command(import_cmd)


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
    """An NBS code or any name variant → the street's code (UserError if unknown)."""
    from geoplatform.streets import match_street

    with c.session(readonly=True) as s:
        code = match_street(s, value)
    if code is None:
        raise UserError(f"unknown street {value!r} (give the NBS 9-digit code or the name)")
    return code


@cli.command("layers")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def layers_cmd(ctx: click.Context, as_json: bool) -> None:
    """List registered map layers with their plugin and version."""
    from geoplatform.pluginmanager import plugin_version

    c = get_context(ctx)
    rows = [{"id": s.id, "title_zh": s.title_zh, "title_en": s.title_en, "group": s.group, "source": s.source,
             "plugin": s.plugin, "version": plugin_version(c.pm, s.plugin), "min_zoom": s.min_zoom}
            for s in c.layers]
    data = {"layers": rows, "broken_plugins": getattr(c.pm, "broken", {})}
    def human(d: dict[str, Any]) -> None:
        print_table(d["layers"], [("id", "id"), ("title_zh", "图层"), ("group", "分组"), ("plugin", "插件"),
                                  ("version", "版本")])
        for name, err in d["broken_plugins"].items():
            click.echo(f"插件 {name} 加载失败，已跳过: {err}", err=True)
    emit(data, as_json, human)


cli.add_command(importlib.import_module("web.cli").serve)  # `geoplatform serve` (web issue)


def build_cli() -> click.Group:
    """The click group with every plugin's commands added."""
    from geoplatform import accounts_cli
    from geoplatform.pluginmanager import build_plugin_manager, call_safely

    accounts_cli.register(cli)
    cfg = load_config()
    pm = build_plugin_manager(cfg.disabled_plugins)
    # plugins add their commands to a per-invocation copy: a disabled plugin leaves no command behind
    group = copy.copy(cli)
    group.commands = dict(cli.commands)
    call_safely(pm, "register_commands", cli=group)
    return group


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    group = build_cli()
    try:
        group.main(args=argv, prog_name="geoplatform", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
