"""`import`: a file into the database in one transaction, with the importer's full report (`geoplatform.io.importer`)."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import click

from geoplatform.cli.group import UserError
from geoplatform.cli.helpers import emit, get_context, require_schema

# the KINDs of geoplatform.io.fields.KINDS (kept literal so `geoplatform --help` stays fast; a test checks they agree)
KINDS = ("district", "streets", "communities", "compounds", "buildings", "garages", "handovers", "barriers")


@click.command("import")
@click.argument("kind", metavar=f"[{'|'.join(KINDS)}|a plugin's kind]")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--crs", default=None, help="Coordinate system of the file: EPSG:4547, 4326, gcj02 (AMap), bd09 (Baidu).")
@click.option("--sheet", default=None, help="XLSX sheet name or number.")
@click.option("--layer", default=None, help="GeoPackage layer / shapefile name inside a zip.")
@click.option("--encoding", default=None, help="Text encoding of a CSV or shapefile DBF (utf-8, gbk, gb18030).")
@click.option("--repair", is_flag=True, help="Repair invalid geometries with make_valid (every repair is listed).")
@click.option("--upsert", is_flag=True, help="Update rows whose id already exists instead of refusing them.")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def import_cmd(ctx: click.Context, kind: str, file: str, crs: str | None, sheet: str | None, layer: str | None,
               encoding: str | None, repair: bool, upsert: bool, dry_run: bool, as_json: bool) -> None:
    """Import FILE (GeoJSON, GeoPackage, zipped Shapefile, CSV, XLSX) as KIND, in one transaction."""
    from geoplatform.io.importer import import_file
    from geoplatform.io.report import ImportFailed

    c = get_context(ctx)
    require_schema(c)
    bar: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bar:
            for b in bar.values():
                b.render_finish()
            bar.clear()
            bar[stage] = click.progressbar(length=total, label=stage, file=sys.stderr)
            bar[stage].render_progress()
        b = bar[stage]
        b.update(done - b.pos)

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "cli"
    try:  # an unknown KIND is a UserInputError: the group shows it like any other (exit 2)
        report = import_file(c, kind, file, crs=crs, sheet=sheet, layer=layer, encoding=encoding, repair=repair,
                             upsert=upsert, dry_run=dry_run, user=f"cli:{user}", progress=progress)
    except ImportFailed as exc:
        for b in bar.values():
            b.render_finish()
        if as_json:
            emit(exc.report.as_dict(), True)
        else:  # every problem on stdout; stderr keeps the one-line contract
            for e in exc.report.errors:
                click.echo(f"{e.where}: {e.message}")
            for w in exc.report.warnings:
                click.echo(f"警告 / warning: {w}")
        raise UserError(exc.report.summary_line()) from exc
    for b in bar.values():
        b.render_finish()

    def human(d: dict[str, Any]) -> None:
        for w in d["warnings"]:
            click.echo(f"警告 / warning: {w}", err=True)
        verb = "checked, nothing written (--dry-run):" if d["dry_run"] else "imported"
        click.echo(f"{d['kind']}: {verb} {d['imported']} ({d['inserted']} new, {d['updated']} updated) "
                   f"from {d['file']}")

    emit(report.as_dict(), as_json, human)
