"""Example third-party plugin: a layer of large compounds and an `example-large` command."""

from __future__ import annotations

import click

from geoplatform.hookspecs import hookimpl
from layers.spec import LayerSpec, Legend, PopupField, StyleRule

MIN_HOUSEHOLDS = 500  # [D] what this example calls a large compound


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """One layer: compounds with at least MIN_HOUSEHOLDS households, coloured by renovation state."""
    return [LayerSpec(
        id="example_large_compounds", title_zh="大型小区（示例插件）", title_en="Large compounds (example plugin)",
        source="compounds", group="示例",
        where=lambda frame: frame["households"].fillna(0) >= MIN_HOUSEHOLDS,
        legend=Legend("renovation", rules=(StyleRule("#6a1b9a", "已改造", "renovated", value="completed"),),
                      default_color="#b0bec5"),
        popup=(PopupField("name", "小区", "compound"), PopupField("households", "户数", "households")),
        tooltip=(PopupField("name", "小区", "compound"),),
    )]


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform example-large [--min-households N] [--json]`."""

    @cli.command("example-large")
    @click.option("--min-households", default=MIN_HOUSEHOLDS, show_default=True, type=int)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def example_large(ctx: click.Context, min_households: int, as_json: bool) -> None:
        """List compounds with at least N households (example plugin)."""
        from sqlalchemy import select

        from geoplatform.cli import UserError, emit, get_context, print_table, require_schema
        from geoplatform.models import Compound

        if min_households < 0:
            raise UserError("--min-households must be ≥ 0")
        c = get_context(ctx)
        require_schema(c)
        with c.session(readonly=True) as s:
            rows = [{"id": i, "name": n, "households": h} for i, n, h in s.execute(
                select(Compound.id, Compound.name, Compound.households)
                .where(Compound.households >= min_households).order_by(Compound.id))]
        emit({"min_households": min_households, "compounds": rows}, as_json,
             lambda d: print_table(d["compounds"], [("id", "编号"), ("name", "小区"), ("households", "户数")]))
