"""`layers`: the registered map layers with their plugin and its version, and the broken plugins."""

from __future__ import annotations

from typing import Any

import click

from geoplatform.cli.helpers import emit, get_context, print_table


@click.command("layers")
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
