"""The test suite's own machinery (tests/support/): template databases, the run's xdist groups."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from geoplatform import models as m
from geoplatform.context import Context
from tests.conftest import BACKENDS
from tests.support import shared
from tests.support.templates import MIGRATED, Template, copy, refill
from tests.support.xdist_groups import RECORD, GroupSchedulerPlugin, record_groups


def _add_street(url: str, code: str = "150203001") -> dict:
    c = Context.create(url)
    with c.session() as s:
        s.add(m.Street(code=code, name=f"街道 {code}"))
    c.engine.dispose()
    return {"code": "150203001"}


ONE_STREET = Template("suite-support-one-street", _add_street, MIGRATED)


def _streets(url: str) -> list[str]:
    c = Context.create(url)
    with c.session(readonly=True) as s:
        codes = list(s.scalars(text("SELECT code FROM street ORDER BY code")))
    c.engine.dispose()
    return codes


@pytest.mark.parametrize("backend", BACKENDS)
def test_template_copies_hold_what_the_build_made_and_are_independent(backend: str, tmp_path_factory) -> None:  # noqa: ANN001
    a, facts_a = copy(ONE_STREET, backend, tmp_path_factory.mktemp("db"))
    b, facts_b = copy(ONE_STREET, backend, tmp_path_factory.mktemp("db"))
    assert a != b and facts_a == facts_b == {"code": "150203001"}
    assert _streets(a) == _streets(b) == ["150203001"]
    _add_street(a, "150203002")
    assert _streets(a) == ["150203001", "150203002"] and _streets(b) == ["150203001"]  # a copy, not a share
    assert refill(a, ONE_STREET) == facts_a and _streets(a) == ["150203001"]  # back to the template


def test_browser_tests_share_one_xdist_group(request: pytest.FixtureRequest) -> None:
    browser_items = [i for i in request.session.items if "browser" in getattr(i, "fixturenames", ())]
    if not browser_items:
        pytest.skip("no browser test collected in this run")
    for item in browser_items:
        mark = item.get_closest_marker("xdist_group")
        assert mark is not None and mark.args[0] == "browser", item.nodeid


def test_the_scheduler_groups_by_the_workers_record(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(shared.RUN_DIR_ENV, str(tmp_path))
    (tmp_path / "run_id").write_text("test")

    def item(nodeid: str, group: str | None):  # noqa: ANN202
        mark = SimpleNamespace(args=(group,), kwargs={}) if group else None
        return SimpleNamespace(nodeid=nodeid, get_closest_marker=lambda name: mark if name == "xdist_group" else None)

    record_groups([item("t.py::a", "browser"), item("t.py::b[x]", "browser"), item("t.py::c", None)])
    assert json.loads((tmp_path / RECORD).read_text()) == {"t.py::a": "browser", "t.py::b[x]": "browser"}
    config = SimpleNamespace(getvalue=lambda key: ["2*popen"] if key == "tx" else None)
    sched = GroupSchedulerPlugin().pytest_xdist_make_scheduler(config=config, log=None)
    assert sched._split_scope("t.py::a") == sched._split_scope("t.py::b[x]") == "browser"
    assert sched._split_scope("t.py::c") == "t.py::c"  # ungrouped: a unit of its own
    assert sched._split_scope("t.py::d@other") == "other"  # xdist's own node-id suffix still counts


def test_browser_tests_run_on_postgis_only_when_marked(request: pytest.FixtureRequest) -> None:
    """tests/conftest.py's pytest_generate_tests: a browser test gets SpatiaLite only unless marked `both_backends`."""
    browser_items = [i for i in request.session.items if "browser" in getattr(i, "fixturenames", ())]
    if not browser_items:
        pytest.skip("no browser test collected in this run")
    for item in browser_items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgis" in params.values():
            assert item.get_closest_marker("both_backends") is not None, item.nodeid
    marked = {i.nodeid.split("[")[0] for i in browser_items if i.get_closest_marker("both_backends") is not None}
    for name in marked:  # a marked test keeps both of its fixture's backends
        ids = {i.nodeid for i in browser_items if i.nodeid.split("[")[0] == name}
        assert any("postgis" in n for n in ids) and any("sqlite" in n for n in ids), ids


def test_cached_route_builders_build_what_werkzeug_compiles(tmp_path) -> None:  # noqa: ANN001
    """tests/support/route_builders.py: a second app reuses the first one's builders, and every rule of the app
    builds the same URLs (with and without unknown arguments) as a builder werkzeug compiles afresh."""
    from tests.support import route_builders
    from web.app import create_app

    ctx = Context.create(f"sqlite:///{tmp_path / 'none.sqlite'}")
    first, second = create_app(ctx), create_app(ctx)
    rules = list(second.url_map.iter_rules())
    assert len(rules) > 100
    firsts = {(r.rule, r.endpoint, tuple(sorted(r.methods or ()))): r for r in first.url_map.iter_rules()}
    reused = 0
    for rule in rules:
        values = {arg: f"v{k}" if rule._converters[arg].__class__.__name__ in ("UnicodeConverter", "PathConverter")
                  else k + 1 for k, arg in enumerate(sorted(rule.arguments))}
        fresh = route_builders._ORIGINAL(rule, False).__get__(rule, None)
        fresh_unknown = route_builders._ORIGINAL(rule, True).__get__(rule, None)
        assert rule.build(values, append_unknown=False) == fresh(**values), rule.rule
        assert rule.build({**values, "q": "a b"}) == fresh_unknown(**values, q="a b"), rule.rule
        twin = firsts[(rule.rule, rule.endpoint, tuple(sorted(rule.methods or ())))]
        reused += not rule.defaults and rule._build.__func__ is twin._build.__func__
    assert reused > 100  # the cache is installed (tests/conftest.py) and hit


def test_entry_points_read_once_per_process_are_what_importlib_reads(monkeypatch) -> None:  # noqa: ANN001
    """tests/support/entry_points.py: the plugin manager's declarations (names, targets, distributions, versions)
    are the same with the per-process cache as read afresh from the installed metadata."""
    import importlib.metadata

    from geoplatform import pluginmanager
    from tests.support import entry_points as cached

    assert pluginmanager.entry_points is cached.entry_points  # installed by tests/conftest.py
    for group in (pluginmanager.ENTRY_POINT_GROUP, pluginmanager.COMMANDS_GROUP):
        with_cache = pluginmanager.declared_entry_points(group)
        assert with_cache == pluginmanager.declared_entry_points(group)  # second answer: from the cache
        monkeypatch.setattr(pluginmanager, "entry_points", importlib.metadata.entry_points)
        monkeypatch.setattr(pluginmanager, "_dist_of", cached._REAL_DIST_OF)
        assert pluginmanager.declared_entry_points(group) == with_cache, group
        monkeypatch.undo()
        assert with_cache and all(d.dist for d in with_cache), group


def test_templates_compiled_once_per_process_are_what_jinja_compiles(tmp_path) -> None:  # noqa: ANN001
    """tests/support/jinja_templates.py: a second app loads every template from the shared bytecode cache, and
    the code it gets is the code Jinja compiles afresh from the template's source."""
    from tests.support import jinja_templates
    from web.app import create_app

    ctx = Context.create(f"sqlite:///{tmp_path / 'none.sqlite'}")
    first, second = create_app(ctx), create_app(ctx)
    names = [n for n in first.jinja_env.list_templates() if n.endswith(".html")]
    assert len(names) > 20
    for name in names:
        first.jinja_env.get_template(name)
    hits = jinja_templates.CACHE.hits
    for name in names:
        env = second.jinja_env
        assert env.bytecode_cache is jinja_templates.CACHE  # installed by tests/conftest.py
        source, filename, _ = env.loader.get_source(env, name)
        cached = env.get_template(name)
        fresh: dict = {"environment": env, "__file__": filename}
        exec(env.compile(source, name, filename), fresh)  # noqa: S102 - Jinja's own compiled template module
        assert cached.root_render_func.__code__ == fresh["root"].__code__, name
        assert {b: f.__code__ for b, f in cached.blocks.items()} == {b: f.__code__ for b, f in fresh["blocks"].items()}
    assert jinja_templates.CACHE.hits - hits >= len(names)  # every template of the second app came from the cache


def test_hookimpls_found_once_per_process_register_what_pluggy_finds(monkeypatch) -> None:  # noqa: ANN001
    """tests/support/hookimpls.py: a plugin manager built with the per-process answers has the same hook
    implementations (plugin, function, options, order) as one built by pluggy alone, and a hook function swapped
    on a module is seen."""
    from geoplatform import pluginmanager
    from geoplatform.hookspecs import hookimpl
    from tests.support import hookimpls

    def impls(pm) -> dict:  # noqa: ANN001
        return {name: [(i.plugin_name, i.function, sorted(i.opts.items())) for i in caller.get_hookimpls()]
                for name, caller in vars(pm.hook).items() if hasattr(caller, "get_hookimpls")}

    cached = impls(pluginmanager.build_plugin_manager())
    assert impls(pluginmanager.build_plugin_manager()) == cached  # second build: from the remembered answers
    hookimpls.uninstall()
    try:
        assert impls(pluginmanager.build_plugin_manager()) == cached
    finally:
        hookimpls.install()
    assert sum(len(v) for v in cached.values()) > 50
    import plugins.coverage as module

    original = module.compute_compound_attributes
    swapped = hookimpl(lambda context, compounds: None)
    monkeypatch.setattr(module, "compute_compound_attributes", swapped)
    found = impls(pluginmanager.build_plugin_manager())["compute_compound_attributes"]
    assert any(f is swapped for _, f, _ in found) and not any(f is original for _, f, _ in found)
