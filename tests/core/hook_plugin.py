"""A test plugin implementing every hook of geoplatform.hookspecs (used by tests/core/test_hooks.py)."""

from __future__ import annotations

import click
import pandas as pd

from geoplatform.hookspecs import hookimpl
from layers.spec import Basemap, Exporter, LayerSpec

CALLS: list[str] = []


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """One layer on the streets."""
    return [LayerSpec(id="hooktest_streets", title_zh="测试街镇", title_en="test streets", source="streets")]


@hookimpl
def compute_compound_attributes(context, compounds):  # noqa: ANN001, ANN201
    """hooktest_name_length."""
    return pd.DataFrame({"hooktest_name_length": compounds["name"].str.len()}, index=compounds.index)


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform hooktest-echo WORD`."""

    @cli.command("hooktest-echo")
    @click.argument("word")
    def echo(word: str) -> None:
        click.echo(f"echo {word}")


@hookimpl
def register_routes(context):  # noqa: ANN001, ANN201
    """GET /hooktest/ping."""
    from flask import Blueprint

    bp = Blueprint("hooktest", __name__, url_prefix="/hooktest")
    bp.add_url_rule("/ping", "ping", lambda: {"pong": True})
    return [bp]


def _export(context, fmt, path, street):  # noqa: ANN001, ANN202
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("ok\n")
    return 1


@hookimpl
def register_exporters(context):  # noqa: ANN001, ANN201
    """hooktest-export (csv)."""
    return [Exporter(name="hooktest-export", title_zh="测试导出", title_en="test export", formats=("csv",),
                     function=_export)]


@hookimpl
def register_basemaps(context):  # noqa: ANN001, ANN201
    """A blank basemap."""
    return [Basemap(id="hooktest_blank", title_zh="空白", title_en="blank", url="about:blank", attribution="")]


@hookimpl
def permission_allowed(context, user, action, resource):  # noqa: ANN001, ANN201
    """Allow hooktest_read, deny hooktest_forbidden, no opinion otherwise."""
    CALLS.append(action)
    return {"hooktest_read": True, "hooktest_forbidden": False}.get(action)
