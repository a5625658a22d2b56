"""The plugin framework: every hook documented and tested, entry points, broken/disabled plugins, the docs' example."""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
import textwrap
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pluggy
import pytest
from click.testing import CliRunner

from geoplatform import hookspecs, pluginmanager
from geoplatform.context import Context
from geoplatform.pluginmanager import build_plugin_manager, call_safely
from tests.core import hook_plugin
from tests.core import layer_fixtures as lf

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
HOOKS = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
               if hasattr(fn, "geoplatform_spec"))


def test_the_hook_catalogue_is_what_the_issue_asks_for() -> None:
    assert set(HOOKS) >= {"register_layers", "compute_compound_attributes", "register_commands", "register_routes",
                          "register_exporters", "register_basemaps", "permission_allowed",
                          # issue 16: the shared screens are filled by plugins
                          "menu_links", "compound_sections", "dashboard_panels", "register_messages",
                          "register_import_kinds"}


# ---- datasette's approach: fail when a hook is undocumented or untested -------------------------------

@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook: str) -> None:
    doc = getattr(hookspecs, hook).__doc__
    assert doc and doc.strip() and len(doc.strip().splitlines()) == 1, f"hookspec {hook} needs a one-line docstring"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_in_docs(hook: str) -> None:
    spec_args = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### `{hook}({spec_args})`" in DOCS.read_text(encoding="utf-8"), f"docs/plugins.md lacks {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    tests = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert f"test_hook_{hook}" in tests, f"write test_hook_{hook} in tests/core/test_hooks.py"
    assert hasattr(hook_plugin, hook), f"tests/core/hook_plugin.py should implement {hook}"


# ---- one test per hook ----------------------------------------------------------------------------

@pytest.fixture
def hctx(ctx):  # noqa: ANN001, ANN201
    """The per-backend Context with the hook test plugin registered and the small fixture loaded."""
    ctx.pm.register(hook_plugin, name="hooktest")
    lf.load(ctx)
    return ctx


def test_hook_register_layers(hctx) -> None:  # noqa: ANN001
    from layers.features import layer_features

    spec = hctx.layer("hooktest_streets")
    assert spec.plugin == "hooktest"
    assert sorted(layer_features(hctx, spec).index) == ["150203001", "150203002"]
    with pytest.raises(KeyError):
        hctx.layer("no_such_layer")


def test_hook_compute_compound_attributes(hctx) -> None:  # noqa: ANN001
    attrs = hctx.compound_attributes()
    assert attrs.loc["c2", "hooktest_name_length"] == len("小区c2")
    assert "coverage_served" in attrs.columns  # joined with the built-ins' columns


def test_hook_compound_attribute_inputs(hctx) -> None:  # noqa: ANN001
    """A write recomputes a per-compound plugin for the compounds it touched only; other writes leave it alone."""
    from geoplatform import models as m

    before = hctx.compound_attributes()
    hctx.revision_ttl = 0  # see the other process's write at once
    hook_plugin.ATTRIBUTE_CALLS.clear()
    with hctx.session() as s:  # compound c1 renamed: c1 alone is recomputed, c2's row is the cached one
        s.get(m.Compound, "c1").name = "小区c1（改名）"
    after = hctx.compound_attributes()
    assert hook_plugin.ATTRIBUTE_CALLS == [["c1"]]
    assert after.loc["c1", "hooktest_name_length"] == len("小区c1（改名）")
    assert after.drop(index="c1")["hooktest_name_length"].tolist() == \
        before.drop(index="c1")["hooktest_name_length"].tolist()
    with hctx.session() as s:  # a table the plugin does not read: not called at all
        s.add(m.Garage(id="g-hook", compound_id="c2", garage_type="underground"))
    assert hctx.compound_attributes().loc["c2", "charging_garages"] == 1
    assert hook_plugin.ATTRIBUTE_CALLS == [["c1"]]
    other = Context.create(hctx.config.database_url)  # another process: what it touched is not known → all
    with other.session() as s:
        s.get(m.Compound, "c2").name = "小区c2（改名）"
    assert hctx.compound_attributes().loc["c2", "hooktest_name_length"] == len("小区c2（改名）")
    assert hook_plugin.ATTRIBUTE_CALLS == [["c1"], ["c1", "c2", "c3", "c4", "c5"]]


def test_hook_register_commands() -> None:
    import click

    pm = build_plugin_manager()
    pm.register(hook_plugin, name="hooktest")
    group = click.Group("g")
    call_safely(pm, "register_commands", cli=group)
    result = CliRunner().invoke(group, ["hooktest-echo", "hi"])
    assert result.exit_code == 0 and result.output == "echo hi\n"


def test_hook_register_routes(hctx) -> None:  # noqa: ANN001
    from flask import Flask

    blueprints = [bp for _, lst in call_safely(hctx.pm, "register_routes", context=hctx) for bp in lst]
    app = Flask("t")
    mine = [bp for bp in blueprints if bp.name == "hooktest"]
    app.register_blueprint(mine[0])
    assert app.test_client().get("/hooktest/ping").get_json() == {"pong": True}


def test_hook_register_exporters(hctx, tmp_path) -> None:  # noqa: ANN001
    exp = hctx.exporters()["hooktest-export"]
    assert exp.function(hctx, "csv", tmp_path / "x.csv", None) == 1
    assert (tmp_path / "x.csv").read_text() == "ok\n"


def test_hook_register_basemaps(hctx) -> None:  # noqa: ANN001
    assert "hooktest_blank" in [b.id for b in hctx.basemaps()]


def test_hook_permission_allowed(hctx) -> None:  # noqa: ANN001
    class User:
        role = "viewer"
        street_code = None
        utility = None
        name = "u"

    if hctx.pm.get_plugin("access") is not None:  # the base role policy would deny unknown actions itself
        hctx.pm.unregister(name="access")
    assert hctx.allowed(User(), "hooktest_read") is True
    assert hctx.allowed(User(), "hooktest_forbidden") is False
    assert hctx.allowed(User(), "hooktest_unknown_action") is False  # nobody said yes: denied
    from tests.core.plugin_cases import hook_raises

    hctx.pm.register(hook_raises, name="raiser")
    assert hctx.allowed(User(), "hooktest_read") is False  # a failing check denies


def _web(hctx):  # noqa: ANN001, ANN202
    """(test client, admin headers, officer headers) of an app on the hook test context."""
    from geoplatform import auth as accounts
    from web.app import create_app

    with hctx.session() as s:
        accounts.add_user(s, "hk_admin", "admin", "correct-horse-battery")
        accounts.add_user(s, "hk_officer", "street_officer", "correct-horse-battery", "150203001")
        tokens = {n: {"Authorization": f"Bearer {accounts.new_token(s, n)}"} for n in ("hk_admin", "hk_officer")}
    app = create_app(hctx, settings={"TESTING": True})
    return app.test_client(), tokens["hk_admin"], tokens["hk_officer"]


def test_hook_register_messages(monkeypatch) -> None:  # noqa: ANN001
    from geoplatform.i18n import t

    _fake_entry_points(monkeypatch, hooktest="tests.core.hook_plugin")
    build_plugin_manager()  # building a manager (CLI, Context, app) merges the catalogues
    assert (t("hooktest.menu", "zh"), t("hooktest.menu", "en")) == ("测试菜单", "Test menu")
    pm = build_plugin_manager(disabled=["hooktest"])
    assert pm.get_plugin("hooktest") is None


def test_hook_menu_links(hctx) -> None:  # noqa: ANN001
    client, admin, officer = _web(hctx)
    html = client.get("/", headers=admin).get_data(as_text=True)
    assert '<a class="text-light small" id="gp-nav-hooktest" href="/hooktest/ping">测试菜单</a>' in html
    links = re.findall(r'<a class="text-light small" id="(gp-nav-[a-z-]+)"', html)
    assert links.index("gp-nav-hooktest") < links.index("gp-nav-ws-street")  # by order (5 < 10)
    assert 'id="gp-nav-hooktest"' not in client.get("/", headers=officer).get_data(as_text=True)  # per user


def test_hook_compound_sections(hctx) -> None:  # noqa: ANN001
    from geoplatform import audit
    from geoplatform.principal import Principal

    with hctx.session() as s:
        audit.record(s, Principal("hk", "admin"), "update", "hooktest_thing", "c2:x", before={"name": "a"},
                     after={"name": "b"})
    client, admin, _ = _web(hctx)
    html = client.get("/compounds/c2?lang=en", headers=admin).get_data(as_text=True)
    section = html[html.index('id="wc-hooktest"'):]
    assert section.index("Test section") < section.index("&lt;hooktest&gt; c2 for hk_admin")  # escaped by the plugin
    assert html.index('id="wc-hooktest"') < html.index('id="wc-coverage_flags"')  # order 1 before coverage's 10
    history = html[html.index('id="wc-history"'):]
    assert "HOOKTEST-THING" in history and "a" in history  # the section's audit entity joins the history


def test_hook_dashboard_panels(hctx) -> None:  # noqa: ANN001
    client, admin, officer = _web(hctx)
    bureau = client.get("/ws/bureau", headers=admin).get_data(as_text=True)
    assert 'id="wb-panel-hooktest"' in bureau and "hooktest panel bureau -" in bureau
    assert bureau.index('id="wb-panel-hooktest"') < bureau.index('id="wb-panel-coverage"')
    street = client.get("/ws/street", headers=officer).get_data(as_text=True)
    assert 'id="ws-tab-hooktest"' in street and "测试面板" in street and 'id="ws-badge-hooktest">7<' in street
    assert "hooktest panel street 150203001" in street
    tabs = re.findall(r'id="ws-tab-([a-z]+)"', street)
    assert tabs[0] == "hooktest" and "compounds" in tabs  # the shell's own tab among the panels, by order


# ---- plugin manager ---------------------------------------------------------------------------------

def _fake_entry_points(monkeypatch, **targets: str) -> None:  # noqa: ANN001
    """Add third-party entry points (no distribution) to the installed ones, as `pip install` of a plugin would."""
    from importlib.metadata import entry_points

    eps = [EntryPoint(name=n, value=v, group="geoplatform") for n, v in targets.items()]
    monkeypatch.setattr(pluginmanager, "entry_points",
                        lambda group: [*entry_points(group=group), *(eps if group == "geoplatform" else [])])


def test_manager_is_built_per_invocation() -> None:
    a, b = build_plugin_manager(), build_plugin_manager()
    assert a is not b
    a.register(hook_plugin, name="hooktest")
    assert b.get_plugin("hooktest") is None


def test_builtins_are_entry_points_in_pyproject() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = data["project"]["entry-points"]["geoplatform"]
    packages = {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(declared), f"plugins not declared as entry points: {packages - set(declared)}"
    assert all(declared[name] == f"plugins.{name}" for name in packages)
    assert set(pluginmanager.BUILTIN_ORDER) == set(declared)  # the registration order names every built-in


def test_broken_plugins_are_logged_and_skipped(monkeypatch, caplog) -> None:  # noqa: ANN001
    _fake_entry_points(monkeypatch, crash="tests.core.plugin_cases.raises_on_import",
                       typo="tests.core.plugin_cases.unknown_hook", sig="tests.core.plugin_cases.bad_signature",
                       good="tests.core.plugin_cases.good", missing="no_such_module_xyz")
    with caplog.at_level("WARNING"):
        pm = build_plugin_manager()
    assert set(pm.broken) == {"crash", "typo", "sig", "missing"}
    assert "broken on purpose" in pm.broken["crash"] and "register_layer" in pm.broken["typo"]
    assert all(pm.get_plugin(n) is None for n in pm.broken)
    assert pm.get_plugin("good") is not None and pm.get_plugin("coverage") is not None
    pm.check_pending()  # nothing unknown left behind
    assert "crash" in caplog.text and "skipped" in caplog.text


def test_broken_plugins_shown_by_layers_command(monkeypatch, demo_url, cli_run) -> None:  # noqa: ANN001
    _fake_entry_points(monkeypatch, crash="tests.core.plugin_cases.raises_on_import",
                       good="tests.core.plugin_cases.good")
    r = cli_run(demo_url, "layers", "--json")
    data = json.loads(r.stdout)
    assert "crash" in data["broken_plugins"]
    assert {"id": "good_layer", "plugin": "good"}.items() <= next(x for x in data["layers"]
                                                                  if x["id"] == "good_layer").items()
    human = cli_run(demo_url, "layers")
    assert human.exit_code == 0 and "crash" in human.stderr and "good_layer" in human.stdout


def test_a_hook_that_raises_is_skipped(ctx, caplog) -> None:  # noqa: ANN001
    from tests.core.plugin_cases import hook_raises

    lf.load(ctx)
    ctx.pm.register(hook_raises, name="raiser")
    with caplog.at_level("ERROR"):
        ids = [s.id for s in ctx.layers]
        attrs = ctx.compound_attributes()
    assert "coverage" in ids and "coverage_served" in attrs.columns
    assert "register_layers failed on purpose" in caplog.text


def test_disable_by_env(monkeypatch, demo_url) -> None:  # noqa: ANN001
    from geoplatform.cli import build_cli

    monkeypatch.setenv("GEOPLATFORM_DISABLE_PLUGINS", "coverage, charging")
    group = build_cli()
    assert "kpi" not in group.commands and "charging" not in group.commands
    r = CliRunner().invoke(group, ["--db", demo_url, "layers", "--json"])
    plugins = {x["plugin"] for x in json.loads(r.stdout)["layers"]}
    assert "coverage" not in plugins and "charging" not in plugins and "handover" in plugins
    monkeypatch.delenv("GEOPLATFORM_DISABLE_PLUGINS")
    assert "kpi" in build_cli().commands  # the next invocation has it again


def test_disable_by_config_file(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    cfg = tmp_path / "geoplatform.toml"
    cfg.write_text('disabled_plugins = ["coverage"]\n', encoding="utf-8")
    monkeypatch.setenv("GEOPLATFORM_CONFIG", str(cfg))
    monkeypatch.delenv("GEOPLATFORM_DISABLE_PLUGINS", raising=False)
    c = Context.create("sqlite:///" + str(tmp_path / "x.sqlite"))
    assert c.pm.get_plugin("coverage") is None and c.pm.get_plugin("handover") is not None


def test_check_pending_is_enforced_by_pluggy_for_unknown_hooks() -> None:
    pm = pluggy.PluginManager("geoplatform")
    pm.add_hookspecs(hookspecs)
    from tests.core.plugin_cases import unknown_hook

    pm.register(unknown_hook)
    with pytest.raises(pluggy.PluginValidationError):
        pm.check_pending()


# ---- the example third-party plugin (its own distribution, tests/example_plugin) ----------------------

def test_example_plugin_is_installed_through_its_entry_point() -> None:
    pytest.importorskip("geoplatform_example", reason="pip install -e tests/example_plugin (done by .ci/install)")
    from importlib.metadata import entry_points

    eps = {ep.name: ep for ep in entry_points(group="geoplatform")}
    assert eps["example"].value == "geoplatform_example" and eps["example"].dist.version == "0.2.0"
    pm = build_plugin_manager()
    assert pm.get_plugin("example") is not None and pm.versions["example"] == "0.2.0"


def test_example_plugin_layer_and_command(ctx, db_url, cli_run) -> None:  # noqa: ANN001
    pytest.importorskip("geoplatform_example", reason="pip install -e tests/example_plugin (done by .ci/install)")
    from layers.features import layer_features

    lf.load(ctx)
    r = cli_run(db_url, "layers", "--json")
    row = next(x for x in json.loads(r.stdout)["layers"] if x["id"] == "example_large_compounds")
    assert (row["plugin"], row["version"]) == ("example", "0.2.0")
    spec = ctx.layer("example_large_compounds")
    assert sorted(layer_features(ctx, spec).index) == ["c3"]  # the only compound with ≥ 500 households
    out = json.loads(cli_run(db_url, "example-large", "--min-households", "150", "--json").stdout)
    assert [c["id"] for c in out["compounds"]] == ["c2", "c3", "c5"]
    assert cli_run(db_url, "example-large", "--min-households", "-1").exit_code == 2


def test_core_does_not_mention_the_example_plugin() -> None:
    for folder in ("geoplatform", "layers", "plugins", "web"):
        for path in (ROOT / folder).rglob("*.py"):
            assert "geoplatform_example" not in path.read_text(encoding="utf-8"), path


# ---- docs/plugins.md: the quick-start plugin works as written -------------------------------------------

def _doc_files() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    files = {}
    for _lang, body in re.findall(r"```(\w+)\n(.*?)```", text, flags=re.S):
        first = body.splitlines()[0]
        if first.startswith("# file: "):
            files[first.removeprefix("# file: ").strip()] = body
    return files


def test_docs_quick_start_plugin_works(monkeypatch, tmp_path, ctx, db_url) -> None:  # noqa: ANN001
    files = _doc_files()
    assert set(files) == {"pyproject.toml", "geoplatform_hello/__init__.py"}
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body, encoding="utf-8")
    project = tomllib.loads(files["pyproject.toml"])
    target = project["project"]["entry-points"]["geoplatform"]["hello"]
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("geoplatform_hello", None)
    _fake_entry_points(monkeypatch, hello=target)  # what `pip install -e` would declare
    from geoplatform.cli import build_cli

    group = build_cli()
    lf.load(ctx)
    runner = CliRunner()
    layers = json.loads(runner.invoke(group, ["--db", db_url, "layers", "--json"]).stdout)
    row = next(x for x in layers["layers"] if x["id"] == "hello_age")
    assert row["plugin"] == "hello" and not layers["broken_plugins"]
    out = runner.invoke(group, ["--db", db_url, "hello", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"compounds": 5, "old": 0}  # the fixture has no build years
    c = Context.create(db_url)
    from layers.geojson import layer_geojson

    data = json.loads(layer_geojson(c, c.layer("hello_age"), zoom=15))
    assert {f["properties"]["_label"] for f in data["features"]} == {"2001年以后"}
    c.engine.dispose()


def test_docs_hook_examples_work(ctx, tmp_path) -> None:  # noqa: ANN001
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## The hooks", 1)[1].split("\n## ", 1)[0]
    section += text.split("## Hooks between plugins", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == len(HOOKS)
    header = textwrap.dedent("""
        import click
        import pandas as pd
        from geoplatform.hookspecs import hookimpl
        from layers.spec import Basemap, Exporter, LayerSpec
    """)
    module = type(sys)("docs_hooks")
    exec(compile(header + "\n".join(blocks), "docs/plugins.md", "exec"), module.__dict__)  # noqa: S102
    lf.load(ctx)
    ctx.pm.register(module, name="hello")
    ctx.pm.check_pending()
    assert ctx.layer("hello_streets").plugin == "hello"
    assert ctx.compound_attributes().loc["c3", "hello_big"]
    assert ctx.exporters()["hello-old"].function(ctx, "csv", tmp_path / "o.csv", None) == 0
    assert "hello_osm_de" in [b.id for b in ctx.basemaps()]

    class Admin:
        role = "admin"

    assert ctx.pm.hook.permission_allowed(context=ctx, user=Admin(), action="hello_view", resource=None)
    import click

    group = click.Group("g")
    call_safely(ctx.pm, "register_commands", cli=group)
    assert CliRunner().invoke(group, ["hello-ping"]).output == "pong\n"
    routes = [bp for name, lst in call_safely(ctx.pm, "register_routes", context=ctx) if name == "hello" for bp in lst]
    assert routes[0].url_prefix == "/api/v1/hello"
    import datetime as dt

    from geoplatform.io.importer import import_kinds

    visits = import_kinds(ctx)["hello_visits"]
    future = {"visited_on": ctx.today + dt.timedelta(days=1)}
    assert [(p.index, p.field) for p in visits.check(None, [{"visited_on": ctx.today}, future], ctx)] == [(1, "visited_on")]
    from geoplatform.exchange import collect_credit_events, firm_eligibilities, owners_org_statuses

    assert owners_org_statuses(ctx, ["c1", "c2"])["c1"].can_sign  # "hello" registered last: its answer comes first
    assert firm_eligibilities(ctx, ["甲物业", "黑名单物业"])["黑名单物业"].reasons == ("blacklisted",)
    assert [(e.company, e.source) for e in collect_credit_events(ctx, ctx.today) if e.source == "hello"] == [
        ("示例物业", "hello")]
    from geoplatform.exchange import collect_plan_actions, collect_projection_changes, served_evidences

    assert served_evidences(ctx, ["c1", "c2"])["c1"].contract_id == "HT-1"
    with ctx.session(readonly=True) as s:
        assert [c.unit for c in collect_projection_changes(ctx, s) if c.source == "hello"] == ["compound:c3"]
        assert [a.cost for a in collect_plan_actions(ctx, s) if a.source == "hello"] == [3.0]
    from geoplatform.i18n import t

    ctx.load_messages()
    assert t("hello.big", "en") == "Large compounds (≥ 500 households)"
    assert [link.href for link in module.menu_links(ctx, Admin())] == ["/api/v1/hello/count"]
    assert module.compound_sections(ctx, "c3", Admin())[0].html == "是"
    assert module.compound_sections(ctx, "c1", Admin())[0].html == "否"
    assert module.dashboard_panels(ctx, Admin(), "bureau", None)[0].html == "1 个"
    assert module.dashboard_panels(ctx, Admin(), "street", "150203001") == []


def test_hook_register_import_kinds(hctx, tmp_path) -> None:  # noqa: ANN001
    from sqlalchemy import func, select

    from geoplatform.errors import UserInputError
    from geoplatform.io.importer import import_file
    from geoplatform.io.report import ImportFailed
    from geoplatform.models import PropertyCompany

    def firms() -> int:
        with hctx.session(readonly=True) as s:
            return s.execute(select(func.count()).select_from(PropertyCompany)).scalar_one()

    bad = tmp_path / "firms_bad.csv"
    bad.write_text("名称,信用等级\n甲物业,A\n乙X物业,B\n", encoding="utf-8")
    before = firms()
    with pytest.raises(ImportFailed) as failed:
        import_file(hctx, "hooktest_firms", bad)
    (problem,) = failed.value.report.errors
    assert "firms_bad.csv" in problem.where and "3" in problem.where and "名称" in problem.where
    assert firms() == before  # the plugin's rule refused the whole file

    good = tmp_path / "firms.csv"
    good.write_text("名称,信用等级\n甲物业,A\n丙物业,\n", encoding="utf-8")
    hook_plugin.CALLS.clear()
    dry = import_file(hctx, "hooktest_firms", good, dry_run=True)
    assert (dry.inserted, firms(), hook_plugin.CALLS) == (2, before, [])
    done = import_file(hctx, "hooktest_firms", good)
    assert (done.inserted, firms()) == (2, before + 2)
    assert hook_plugin.CALLS == ["after_write ['丙物业', '甲物业']", "after_import hooktest_firms ['丙物业', '甲物业']"]
    with hctx.session(readonly=True) as s:
        assert s.execute(select(PropertyCompany.credit_grade).where(PropertyCompany.name == "甲物业")).scalar() == "A"
    with pytest.raises(ImportFailed):  # same keys again without upsert: refused as existing
        import_file(hctx, "hooktest_firms", good)
    assert import_file(hctx, "hooktest_firms", good, upsert=True).updated == 2

    with pytest.raises(UserInputError, match="hooktest_firms"):  # an unknown kind lists the plugins' kinds too
        import_file(hctx, "no_such_kind", good)


def test_hook_after_import(hctx, tmp_path) -> None:  # noqa: ANN001
    from geoplatform.io.importer import import_file

    path = tmp_path / "companies.csv"
    path.write_text("企业名称,信用等级\n甲物业,A\n乙物业,B\n", encoding="utf-8")
    hook_plugin.CALLS.clear()
    import_file(hctx, "companies", path, dry_run=True)
    assert hook_plugin.CALLS == []  # nothing written, nothing to keep in step
    report = import_file(hctx, "companies", path)
    assert hook_plugin.CALLS == ["after_import companies ['乙物业', '甲物业']"]
    assert "hooktest.imported" in report.warnings  # a warning the plugin returned joins the report
    hook_plugin.CALLS.clear()
    import_file(hctx, "hooktest_firms", path, upsert=True)  # plugin kinds too, after their own after_write
    assert hook_plugin.CALLS[-1] == "after_import hooktest_firms ['乙物业', '甲物业']"


def test_hook_load_demo(monkeypatch, db_url, cli_run) -> None:  # noqa: ANN001
    _fake_entry_points(monkeypatch, hooktest="tests.core.hook_plugin")
    hook_plugin.CALLS.clear()
    r = cli_run(db_url, "demo", "--scale", "0.05", "--seed", "3", "--today", "2026-01-05", "--json")
    assert r.exit_code == 0, r.stderr
    assert hook_plugin.CALLS == ["load_demo 3 2026-01-05 compounds=True"]


def test_load_demo_failing_plugin_leaves_nothing(hctx) -> None:  # noqa: ANN001
    import datetime as dt

    from sqlalchemy import select

    from geoplatform import demo
    from geoplatform.hookspecs import hookimpl
    from geoplatform.models import PropertyCompany

    class Broken:
        @hookimpl
        def load_demo(self, session):  # noqa: ANN001, ANN201
            session.add(PropertyCompany(name="半途而废物业"))
            session.flush()
            raise RuntimeError("boom")

    hctx.pm.register(Broken(), name="broken_demo")
    with hctx.session() as s:
        counts = demo.extend(hctx, s, dt.date(2026, 1, 1), 7)
    with hctx.session(readonly=True) as s:
        names = set(s.scalars(select(PropertyCompany.name)))
    assert counts["property_company"] == 1 and "演示物业7" in names
    assert "半途而废物业" not in names  # the failing plugin's savepoint was rolled back


# ---- hooks between plugins (geoplatform/exchange.py) ---------------------------------------------------

def test_hook_owners_org_status(hctx, monkeypatch) -> None:  # noqa: ANN001
    from geoplatform.exchange import owners_org_statuses

    got = owners_org_statuses(hctx, ["c1", "c2", "c3"])
    assert {cid: (o.kind, o.state, o.counts, o.can_sign) for cid, o in got.items()} == {
        "c1": ("owners_committee", "active", True, True), "c2": ("management_committee", "preparing", False, False)}
    # an answer that raises is logged and skipped: the next plugin's answer (the built-in owners_org records) is used
    monkeypatch.setattr(hook_plugin, "ORG_STATUS_RAISES", True)
    fallback = owners_org_statuses(hctx, ["c1", "c2"])
    assert fallback is not None and set(fallback) <= {"c1", "c2"} and fallback != got
    hctx.pm.unregister(name="owners_org")
    hctx.pm.unregister(name="hooktest")
    assert owners_org_statuses(hctx, ["c1"]) is None  # nobody answers: readers use compound.owners_org


def test_hook_firm_eligibility(hctx) -> None:  # noqa: ANN001
    from geoplatform.exchange import firm_eligibilities

    got = firm_eligibilities(hctx, ["甲物业", "乙物业"])
    assert (got["甲物业"].eligible, got["乙物业"].eligible, got["乙物业"].reasons) == (True, False, ("grade_forbidden",))
    hctx.pm.unregister(name="hooktest")
    remaining = firm_eligibilities(hctx, ["甲物业"])  # another plugin's gate, or None when no plugin keeps one
    assert remaining is None or set(remaining) == {"甲物业"}


def test_hook_credit_events(hctx) -> None:  # noqa: ANN001
    import datetime as dt

    from geoplatform.exchange import collect_credit_events

    mine = [e for e in collect_credit_events(hctx, dt.date(2026, 3, 31)) if e.source == "hooktest"]
    assert [(e.company, e.on, e.kind, e.ref) for e in mine] == [
        ("乙物业", dt.date(2026, 3, 1), "rectification_overdue", "P-2"),
        ("甲物业", dt.date(2026, 3, 31), "rectification_refused", "P-1")]  # oldest first


def test_hook_served_evidence(hctx) -> None:  # noqa: ANN001
    from geoplatform.exchange import served_evidences

    got = served_evidences(hctx, ["c1", "c2"])
    assert {cid: (e.contract_id, e.company) for cid, e in got.items()} == {"c1": ("HT-1", "甲物业")}
    hctx.pm.unregister(name="hooktest")
    remaining = served_evidences(hctx, ["c1"])  # the firms plugin's contracts (none stored here), or None
    assert remaining is None or remaining == {}
    for name in [n for n, _ in hctx.pm.list_name_plugin() if n != "coverage"]:
        hctx.pm.unregister(name=name)
    assert served_evidences(hctx, ["c1"]) is None  # nobody keeps contracts: evidence unknown, not "unverified"


def test_hook_projection_changes(hctx) -> None:  # noqa: ANN001
    import datetime as dt

    from geoplatform.exchange import collect_projection_changes
    from plugins.coverage.service import projection_report

    with hctx.session(readonly=True) as s:
        mine = [c for c in collect_projection_changes(hctx, s) if c.source == "hooktest"]
    assert [(c.unit, c.effect, c.on) for c in mine] == [("compound:c3", "+served", None),
                                                         ("compound:c1", "-served", dt.date(2026, 7, 1))]
    doc = projection_report(hctx)  # 甲街道: c1, c2 served of 3; c3 taken over; c1's contract ends mid-2026
    a = next(r for r in doc["streets"] if r["street_code"] == "150203001")
    assert [m["served"] for m in a["milestones"]] == [3, 2, 2]
    hctx.pm.unregister(name="hooktest")
    b = next(r for r in projection_report(hctx)["streets"] if r["street_code"] == "150203001")
    assert [m["served"] for m in b["milestones"]] == [2, 2, 2]


def test_hook_plan_actions(hctx) -> None:  # noqa: ANN001
    from geoplatform.exchange import collect_plan_actions
    from plugins.coverage.service import plan_report

    with hctx.session(readonly=True) as s:
        mine = {a.id: a.cost for a in collect_plan_actions(hctx, s) if a.source == "hooktest"}
    assert mine == {"hooktest:c4": 2.5, "hooktest:c5": None}
    doc = plan_report(hctx)  # 乙街道: 0 of 2 served — c4 alone cannot close an 80 % gap, c5 is unpriced
    b = next(r for r in doc["streets"] if r["street_code"] == "150203002")
    assert not b["feasible"] and b["missing"]["served_short"] == 1
    assert "hooktest:c5" in doc["unpriced"] and b["missing"]["unpriced_actions"] == ["hooktest:c5"]


def test_hook_record_service_contract(hctx) -> None:  # noqa: ANN001
    import datetime as dt

    from geoplatform import models as m
    from geoplatform.models.firms import ServiceContract
    from geoplatform.principal import Principal

    who = Principal(name="company", role="state_company")
    terms = {"compound_id": "c3", "company": "甲物业", "start": dt.date(2026, 1, 1), "end": dt.date(2028, 12, 31)}
    with hctx.session() as s:
        s.add(m.PropertyCompany(name="甲物业", filed=True))
        s.flush()
        got = hctx.pm.hook.record_service_contract(context=hctx, session=s, principal=who, contract_id="TK-1",
                                                   source="takeover 2026", **terms)
        assert got["contract_id"] == "TK-1" and hook_plugin.RECORDED_CONTRACTS[-1]["by"] == "company"
        assert s.get(ServiceContract, "TK-1") is None  # the first answer kept it in its own registry
        hctx.pm.unregister(name="hooktest")
        got = hctx.pm.hook.record_service_contract(context=hctx, session=s, principal=who, contract_id="TK-2",
                                                   source="takeover 2026", **terms)
        row = s.get(ServiceContract, "TK-2")  # the firms plugin records it in the caller's transaction
        assert got["contract_id"] == "TK-2" and (row.company, row.start, row.end) == ("甲物业", terms["start"], terms["end"])
        assert s.get(m.Compound, "c3").company is None  # the compound's firm is the caller's to set (at serving)
        hctx.pm.unregister(name="firms")
        assert hctx.pm.hook.record_service_contract(context=hctx, session=s, principal=who, contract_id="TK-3",
                                                    source="x", **terms) is None


def test_hook_safety_problems(hctx, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    import datetime as dt

    from geoplatform.exchange import safety_problem_counts
    from geoplatform.models.governance import Problem

    with hctx.session() as s:
        assert safety_problem_counts(hctx, s, ["c1", "c3"]) == {"c1": 0, "c3": 2}
        hctx.pm.unregister(name="hooktest")
        assert safety_problem_counts(hctx, s, ["c1", "c3"]) == {"c1": 0, "c3": 0}  # the governance ledger: empty
        day = dt.date(2026, 3, 1)
        for pid, category, state in (("P1", "fire_lane", "open"), ("P2", "ebike_charging", "rectifying"),
                                     ("P3", "fire_lane", "rectified"), ("P4", "noise", "open")):
            s.add(Problem(id=pid, compound_id="c3", category=category, source="patrol", found_on=day, state=state))
        s.flush()
        assert safety_problem_counts(hctx, s, ["c1", "c3"]) == {"c1": 0, "c3": 2}  # open safety ones only
        from plugins.governance import service as governance

        s.add(Problem(id="P5", compound_id="c1", category="fire_lane", source="patrol", found_on=day, state="open"))
        s.flush()
        for limit in (0, 1, 500):  # a long list (one grouped query over the ledger) answers as the IN list does
            monkeypatch.setattr(governance, "SAFETY_IDS_MAX_IN", limit)
            assert safety_problem_counts(hctx, s, ["c3", "c2", "c3"]) == {"c3": 2, "c2": 0}  # c1's not asked for
            assert safety_problem_counts(hctx, s, ["c1"]) == {"c1": 1}
        hctx.pm.unregister(name="governance")
        assert safety_problem_counts(hctx, s, ["c3"]) is None  # no ledger: unknown


def test_hook_takeover_bundles(hctx) -> None:  # noqa: ANN001
    from plugins.takeover import service
    from plugins.takeover.settings import TakeoverSettings

    with hctx.session(readonly=True) as s:
        scored = service.rank(s, TakeoverSettings())
        assert "c3" not in scored.index  # its bundle stands for it
        b = scored.loc["bundle:B1"]
        assert (b["kind"], b["members"], b["member_units"]) == ("bundle", ["c3"],
                                                               ["compound:c3", "building:b1", "building:b2"])
        assert (b["floor_area_m2"], b["households_n"], b["build_year"], b["takeover_cost"]) == (31000, 640, 1995, 3)
        hctx.pm.unregister(name="hooktest")
        scored = service.rank(s, TakeoverSettings())  # the bundling plugin's plan: no new bundle in this fixture
        assert "c3" in scored.index and not scored.index.str.startswith("bundle:").any()
