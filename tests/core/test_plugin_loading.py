"""Built-ins load through their entry points; a same-name clash is logged; a bare source checkout still has them."""

from __future__ import annotations

import logging
import tomllib
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points
from pathlib import Path

import pytest

from geoplatform import pluginmanager
from geoplatform.pluginmanager import BUILTIN_ORDER, build_plugin_manager, declared_entry_points

ROOT = Path(__file__).resolve().parents[2]
DECLARED = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]


def _entry_points(monkeypatch, keep=lambda ep: True, extra=()) -> None:  # noqa: ANN001
    """The installed entry points that `keep` accepts, plus `extra` (EntryPoints without a distribution)."""
    monkeypatch.setattr(pluginmanager, "entry_points", lambda group: [
        *(ep for ep in entry_points(group=group) if keep(ep)), *(ep for ep in extra if ep.group == group)])


def _plugin_names(pm) -> list[str]:  # noqa: ANN001
    return [name for name, _ in pm.list_name_plugin()]


def test_builtins_load_in_their_order_through_the_entry_points(monkeypatch) -> None:  # noqa: ANN001
    pm = build_plugin_manager()
    names = _plugin_names(pm)
    assert [n for n in names if n in BUILTIN_ORDER] == list(BUILTIN_ORDER)  # registration order = layer order
    assert pm.get_plugin("coverage").__name__ == "plugins.coverage"
    # no list of module paths behind them: an entry point removed is a plugin gone
    _entry_points(monkeypatch, keep=lambda ep: ep.name != "coverage")
    assert build_plugin_manager().get_plugin("coverage") is None


def test_a_same_name_third_party_plugin_is_logged_and_the_builtin_kept(monkeypatch, caplog) -> None:  # noqa: ANN001
    intruder = EntryPoint(name="coverage", value="tests.core.plugin_cases.good", group="geoplatform")
    _entry_points(monkeypatch, extra=[intruder])
    with caplog.at_level(logging.WARNING, logger="geoplatform.pluginmanager"):
        pm = build_plugin_manager()
    assert pm.get_plugin("coverage").__name__ == "plugins.coverage"
    assert "tests.core.plugin_cases.good" not in {getattr(p, "__name__", "") for p in pm.get_plugins()}
    clash = [r.getMessage() for r in caplog.records if "declared twice" in r.getMessage()]
    assert len(clash) == 1 and "'coverage'" in clash[0]
    assert "plugins.coverage" in clash[0] and "tests.core.plugin_cases.good" in clash[0]  # both targets named


def test_two_third_party_plugins_of_one_name_keep_the_first(monkeypatch, caplog) -> None:  # noqa: ANN001
    first = EntryPoint(name="twin", value="tests.core.plugin_cases.good", group="geoplatform")
    second = EntryPoint(name="twin", value="tests.core.plugin_cases.unknown_hook", group="geoplatform")
    _entry_points(monkeypatch, extra=[first, second])
    with caplog.at_level(logging.WARNING, logger="geoplatform.pluginmanager"):
        pm = build_plugin_manager()
    assert pm.get_plugin("twin").__name__ == "tests.core.plugin_cases.good" and "twin" not in pm.broken
    assert "unknown_hook" in caplog.text and "declared twice" in caplog.text


def test_a_source_checkout_that_is_not_installed_still_has_the_builtins(monkeypatch) -> None:  # noqa: ANN001
    def not_installed(name: str):  # noqa: ANN202
        raise PackageNotFoundError(name)

    monkeypatch.setattr(pluginmanager, "distribution", not_installed)
    _entry_points(monkeypatch, keep=lambda ep: False)  # no metadata at all: nothing was pip-installed
    plugins = declared_entry_points(pluginmanager.ENTRY_POINT_GROUP)
    assert {(d.name, d.target) for d in plugins} == set(DECLARED["geoplatform"].items())
    assert all(d.builtin for d in plugins)
    pm = build_plugin_manager()
    assert [n for n in _plugin_names(pm) if n in BUILTIN_ORDER] == list(BUILTIN_ORDER) and not pm.broken
    from geoplatform.cli import build_cli

    assert build_cli().commands["serve"].name == "serve"  # the web shell's command too


def test_an_installed_geoplatform_never_reads_pyproject(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setattr(pluginmanager, "SOURCE_PYPROJECT", tmp_path / "absent.toml")
    assert [d.name for d in declared_entry_points("geoplatform") if d.builtin] == list(BUILTIN_ORDER)


def test_serve_comes_from_its_entry_point_and_a_broken_one_is_skipped(monkeypatch, caplog) -> None:  # noqa: ANN001
    from geoplatform.cli import build_cli
    from web.cli import serve

    assert DECLARED["geoplatform.commands"] == {"serve": "web.cli:serve"}
    assert build_cli().commands["serve"] is serve
    broken = EntryPoint(name="broken-cmd", value="no_such_module_xyz:cmd", group="geoplatform.commands")
    shadow = EntryPoint(name="init", value="web.cli:serve", group="geoplatform.commands")
    _entry_points(monkeypatch, extra=[broken, shadow])
    with caplog.at_level(logging.WARNING):
        group = build_cli()
    assert "broken-cmd" not in group.commands and "no_such_module_xyz" in caplog.text
    assert group.commands["init"] is not serve and "already a core command" in caplog.text


@pytest.mark.parametrize("group", ["geoplatform", "geoplatform.commands"])
def test_installed_metadata_matches_pyproject(group: str) -> None:
    """`pip install -e .` again after changing the entry points: the installed ones are what loads."""
    installed = {(d.name, d.target) for d in declared_entry_points(group) if d.builtin}
    assert installed == set(DECLARED[group].items())
