"""A disabled plugin leaves nothing behind (issue 16): no route, command, layer, panel, section, menu entry,
basemap or exporter — checked for every built-in plugin on the web fixtures (scale-0.1 demo) of both databases.

What a plugin contributes is asked of the plugin itself (its hook implementations, with everything
enabled); the same things must then be absent from an app and a CLI built with
GEOPLATFORM_DISABLE_PLUGINS=<plugin>, while the rest of the app keeps working. `access` is the base role
policy: disabling it leaves nobody allowed to do anything the other plugins do not allow themselves.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

import click
import pytest
from flask import g

from geoplatform.context import Context
from geoplatform.principal import Principal
from tests.conftest import BACKENDS
from tests.support.templates import Template, copy, demo_template
from tests.support.webdemo import WebDemo, add_web_fixtures

# The web test fixtures on the scale-0.1 demo (the security tests' base): what a plugin contributes does not
# depend on how many compounds there are, and every app with a plugin disabled computes the demo's figures
# from scratch (≈ 1 s per app on the scale-1 demo).
SMALL_WEB_DEMO = Template("webdemo-0.1-7", lambda url: asdict(add_web_fixtures(url)), demo_template(0.1, 7))


@pytest.fixture(scope="module", params=BACKENDS)
def web_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> WebDemo:
    """The web fixtures (tokens, sample street) on a copy of the scale-0.1 demo, per backend."""
    url, facts = copy(SMALL_WEB_DEMO, request.param, tmp_path_factory.mktemp("db"))
    return WebDemo(**{**facts, "url": url})

BUILTINS = ("coverage", "handover", "charging", "takeover", "bundling", "basemaps")
ADMIN = Principal(name="web_admin", role="admin")


def _impl(ctx: Context, plugin: str, hook: str, **kwargs: Any) -> list[Any]:
    """What `plugin`'s implementation of `hook` returns (empty when it has none)."""
    for impl in getattr(ctx.pm.hook, hook).get_hookimpls():
        if impl.plugin_name == plugin:
            return list(impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames}) or [])
    return []


def _sample_compound(ctx: Context) -> str:
    """A compound every plugin has something to say about (a surveyed handover row, garages, a candidate…)."""
    from sqlalchemy import select

    from geoplatform import models as m

    with ctx.session(readonly=True) as s:
        return s.scalar(select(m.Handover.compound_id).join(m.Compound, m.Compound.id == m.Handover.compound_id)
                        .where(m.Compound.management_mode == "none").order_by(m.Handover.compound_id).limit(1))


def contributions(ctx: Context, app: Any, plugin: str, compound: str, street: str) -> dict[str, set[str]]:
    """Everything `plugin` adds to the app, the CLI and the shared screens (asked of its own hooks)."""
    group = click.Group("g")
    _impl(ctx, plugin, "register_commands", cli=group)
    blueprints = {bp.name for bp in _impl(ctx, plugin, "register_routes", context=ctx)}
    with app.test_request_context("/"):
        g.user = ADMIN
        menu = {link.id for link in _impl(ctx, plugin, "menu_links", context=ctx, user=ADMIN)}
        panels = {f"wb-panel-{p.id}" for p in _impl(ctx, plugin, "dashboard_panels", context=ctx, user=ADMIN,
                                                   where="bureau", street_code=None)}
        panels |= {f"ws-tab-{p.id}" for p in _impl(ctx, plugin, "dashboard_panels", context=ctx, user=ADMIN,
                                                  where="street", street_code=street)}
        sections = {f"wc-{s.id}" for s in _impl(ctx, plugin, "compound_sections", context=ctx, compound_id=compound,
                                               user=ADMIN)}
    return {
        "routes": {r.rule for r in app.url_map.iter_rules()
                   if r.endpoint.split(".")[0] in blueprints and not r.endpoint.endswith(".static")},
        "commands": set(group.commands), "layers": {s.id for s in ctx.layers if s.plugin == plugin},
        "menu": menu, "panels": panels, "sections": sections,
        "basemaps": {b.id for b in _impl(ctx, plugin, "register_basemaps", context=ctx)},
        "exporters": {e.name for e in _impl(ctx, plugin, "register_exporters", context=ctx)},
    }


def _sample_url(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "1" if "id" in m.group(1) else "x", rule)


@pytest.fixture(scope="module")
def full(web_demo):  # noqa: ANN001, ANN201, F811
    """The app with every plugin, its context and the sample compound/street."""
    from web.app import create_app

    ctx = Context.create(web_demo.url)
    app = create_app(ctx, settings={"TESTING": True})
    yield ctx, app, _sample_compound(ctx)
    ctx.engine.dispose()


@pytest.mark.parametrize("plugin", BUILTINS)
def test_a_disabled_plugin_leaves_nothing_behind(plugin, full, web_demo, monkeypatch) -> None:  # noqa: ANN001, F811
    from geoplatform.cli import build_cli
    from web.app import create_app

    ctx, app, compound = full
    street = web_demo.street_code
    gone = contributions(ctx, app, plugin, compound, street)
    assert any(gone.values()), f"{plugin} contributes nothing: the test could not fail"
    monkeypatch.setenv("GEOPLATFORM_DISABLE_PLUGINS", plugin)
    off = Context.create(web_demo.url)
    assert off.pm.get_plugin(plugin) is None
    client = create_app(off, settings={"TESTING": True}).test_client()
    admin = {"Authorization": f"Bearer {web_demo.admin_token}"}

    rules = {r.rule for r in client.application.url_map.iter_rules()}
    assert not gone["routes"] & rules
    for rule in gone["routes"]:
        for method in ("get", "post", "patch"):
            assert getattr(client, method)(_sample_url(rule), headers=admin).status_code in (404, 405), (method, rule)
    assert not gone["commands"] & set(build_cli().commands)
    layers = {x["id"] for x in client.get("/api/v1/layers", headers=admin).get_json()["layers"]}
    assert not gone["layers"] & layers and not gone["layers"] & {s.id for s in off.layers}
    pages = {path: client.get(path, headers=admin) for path in
             ("/", "/ws/bureau", f"/ws/street?street={street}", f"/compounds/{compound}")}
    assert all(r.status_code == 200 for r in pages.values()), {p: r.status_code for p, r in pages.items()}
    html = "".join(r.get_data(as_text=True) for r in pages.values())
    for kind in ("menu", "panels", "sections"):
        assert not [x for x in gone[kind] if f'id="{x}"' in html], (kind, gone[kind])
    basemaps = {b["id"] for b in client.get("/api/v1/basemaps", headers=admin).get_json()["basemaps"]}
    assert not gone["basemaps"] & basemaps
    for name in gone["exporters"]:
        assert client.get(f"/api/v1/export/{name}", headers=admin).status_code == 404
    off.engine.dispose()


def test_the_full_app_shows_what_the_disabled_ones_lose(full, web_demo) -> None:  # noqa: ANN001, F811
    """The other side of the test above: with every plugin on, their contributions are there to be lost."""
    ctx, app, compound = full
    client = app.test_client()
    admin = {"Authorization": f"Bearer {web_demo.admin_token}"}
    html = "".join(client.get(p, headers=admin).get_data(as_text=True) for p in
                   ("/", "/ws/bureau", f"/ws/street?street={web_demo.street_code}", f"/compounds/{compound}"))
    for plugin in BUILTINS:
        gone = contributions(ctx, app, plugin, compound, web_demo.street_code)
        for kind in ("menu", "panels", "sections"):
            assert all(f'id="{x}"' in html for x in gone[kind]), (plugin, kind, gone[kind])


def test_without_the_base_policy_nothing_is_allowed(web_demo, monkeypatch) -> None:  # noqa: F811
    """`access` is the base role policy (deny by default): without it even an admin is refused, every route 403."""
    from web.app import create_app

    monkeypatch.setenv("GEOPLATFORM_DISABLE_PLUGINS", "access")
    off = Context.create(web_demo.url)
    client = create_app(off, settings={"TESTING": True}).test_client()
    admin = {"Authorization": f"Bearer {web_demo.admin_token}", "Accept": "application/json"}
    for path in ("/", "/api/v1/layers", "/ws/bureau", "/ws/street", "/api/v1/kpi", "/ws/utility"):
        assert client.get(path, headers=admin).status_code == 403, path
    off.engine.dispose()
