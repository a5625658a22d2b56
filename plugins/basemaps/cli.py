"""`geoplatform basemap add|list|remove`: the bureau's offline tile packages (MBTiles, PMTiles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from geoplatform.cli import acting_principal, emit, get_context, print_table, require_schema
from geoplatform.i18n import t
from plugins.basemaps import service


def _lang(c: Any) -> str:
    return c.config.language if c.config.language in ("zh", "en") else "zh"


def register(cli: click.Group) -> None:
    """Add the `basemap` group to the root command."""

    @cli.group("basemap")
    def basemap() -> None:
        """Offline tile packages for the map's basemap (MBTiles / PMTiles, raster or vector)."""

    @basemap.command("add")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--name", help="Package name (a-z, 0-9, '_', '-'); default: from the file name.")
    @click.option("--title", help="Title shown in the map's basemap switcher; default: the package's own name.")
    @click.option("--user", "user", help="Act as this stored account (default: the operator, as admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def add(ctx: click.Context, file: Path, name: str | None, title: str | None, user: str | None,
            as_json: bool) -> None:
        """Validate FILE (MBTiles or PMTiles v3) and store it in the instance folder; it becomes the default basemap."""
        c = get_context(ctx)
        require_schema(c)
        manifest = service.add_package(c, acting_principal(c, user), file, name=name, title=title,
                                       display=str(file))
        emit(manifest, as_json, lambda m: click.echo(t("basemaps.cli.added", _lang(c), **m)))

    @basemap.command("list")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def list_(ctx: click.Context, as_json: bool) -> None:
        """The stored tile packages, most recent (the default basemap) first."""
        c = get_context(ctx)
        packages = service.list_packages(c)

        def human(rows: list[dict[str, Any]]) -> None:
            if not rows:
                click.echo(t("basemaps.cli.none", _lang(c)))
                return
            lang = _lang(c)
            print_table([{**r, "zoom": f"{r['min_zoom']}–{r['max_zoom']}", "format": f"{r['container']} {r['tile_format']}"}
                         for r in rows],
                        [("name", t("basemaps.col.name", lang)), ("title", t("basemaps.col.title", lang)),
                         ("format", t("basemaps.col.format", lang)), ("zoom", t("basemaps.col.zoom", lang)),
                         ("added_at", t("basemaps.col.added", lang)), ("added_by", t("basemaps.col.by", lang))])

        emit({"basemaps": packages} if as_json else packages, as_json, human)

    @basemap.command("remove")
    @click.argument("name")
    @click.option("--user", "user", help="Act as this stored account (default: the operator, as admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def remove(ctx: click.Context, name: str, user: str | None, as_json: bool) -> None:
        """Delete stored tile package NAME."""
        c = get_context(ctx)
        require_schema(c)
        manifest = service.remove_package(c, acting_principal(c, user), name)
        emit(manifest, as_json, lambda m: click.echo(t("basemaps.cli.removed", _lang(c), name=m["name"])))
