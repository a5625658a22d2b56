"""`export`: a table, a layer or a plugin's named export to a file (`geoplatform.io.export.export_to_file`)."""

from __future__ import annotations

import click

from geoplatform.cli.helpers import emit, get_context, require_schema

FORMATS = ("geojson", "gpkg", "shp", "csv", "xlsx")  # geoplatform.io.export.FORMATS (literal: a fast --help)


@click.command("export")
@click.argument("kind")
@click.option("--format", "fmt", default="geojson", show_default=True, type=click.Choice(FORMATS))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--street", default=None, help="Only this street (NBS code or name).")
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists (the whole file: every layer in it).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def export_cmd(ctx: click.Context, kind: str, fmt: str, output: str, street: str | None, overwrite: bool,
               as_json: bool) -> None:
    """Export a table (compound, building, …), a layer or a plugin's named export to a file (an existing file only
    with --overwrite)."""
    from geoplatform.io.export import export_to_file

    c = get_context(ctx)
    require_schema(c)
    n = export_to_file(c, kind, fmt, output, street, overwrite=overwrite)
    _audit(c, kind, fmt, output, street, n)
    emit({"kind": kind, "format": fmt, "output": output, "rows": n}, as_json,
         lambda d: click.echo(f"{d['rows']} rows → {d['output']}"))


def _audit(c, kind: str, fmt: str, output: str, street: str | None, rows: int) -> None:  # noqa: ANN001
    """Every export is audited (docs/security.md): from the CLI as `system` (the operator `cli:LOGIN`, who holds the database)."""
    from geoplatform import audit
    from geoplatform.cli.helpers import acting_principal

    with c.session() as s:
        audit.record(s, acting_principal(c), "export", "export", kind, after={
            "format": fmt, "rows": rows, "street": street, "output": str(output)[:200]}, detail="CLI")
