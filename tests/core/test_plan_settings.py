"""Plan-level definitions live once in the core config (RULES §1): overriding them changes every plugin at once."""

from __future__ import annotations

import pytest

from geoplatform.config import PlanSettings, plan_settings
from tests.core import layer_fixtures as lf


def _users(ctx):  # noqa: ANN001, ANN202
    """Every reader of "professionally served": coverage, charging, bundling, takeover (and the demo's default)."""
    from geoplatform import demo
    from plugins.bundling.service import settings_for as bundling
    from plugins.charging.settings import settings_for as charging
    from plugins.coverage.settings import settings_for as coverage
    from plugins.takeover import service as takeover

    with ctx.session(readonly=True) as s:
        served = takeover.coverage(s, plan_settings(ctx.config).served_modes)["served"]
    attrs = ctx.compound_attributes()
    return {"coverage": coverage(ctx).served_modes, "charging": charging(ctx).professional_modes,
            "bundling": bundling(ctx).host_modes, "takeover_served": served,
            "coverage_attribute_c2": bool(attrs.loc["c2", "coverage_served"]), "demo": demo.SERVED_MODES}


def test_one_override_changes_every_plugin(ctx) -> None:  # noqa: ANN001
    lf.load(ctx)  # c1 professional, c2 state_owned
    before = _users(ctx)
    assert before["coverage"] == before["charging"] == before["bundling"] == ("professional", "state_owned")
    assert before["takeover_served"] == 2 and before["coverage_attribute_c2"] is True
    ctx.config.rules = {"plan": {"served_modes": ["professional"]}}
    ctx.invalidate()
    after = _users(ctx)
    assert after["coverage"] == after["charging"] == after["bundling"] == ("professional",)
    assert after["takeover_served"] == 1 and after["coverage_attribute_c2"] is False
    assert after["demo"] == PlanSettings().served_modes  # the demo generates with the definition's defaults


@pytest.mark.parametrize(("plugin", "key"), [("coverage", "served_modes"), ("charging", "professional_modes"),
                                             ("bundling", "host_modes")])
def test_no_plugin_redefines_the_plan(ctx, plugin, key) -> None:  # noqa: ANN001
    from plugins.bundling.service import settings_for as bundling
    from plugins.charging.settings import settings_for as charging
    from plugins.coverage.settings import settings_for as coverage

    ctx.config.rules = {plugin: {key: ["professional"]}}
    with pytest.raises(ValueError, match=r"\[rules.plan\]"):
        {"coverage": coverage, "charging": charging, "bundling": bundling}[plugin](ctx)


@pytest.mark.parametrize("bad", [{"served_modes": "professional"}, {"served_modes": ["flying"]}, {"nope": []}])
def test_bad_plan_settings_are_refused(bad) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        PlanSettings.from_overrides(bad)


def test_managed_modes_exclude_none_and_unknown() -> None:
    modes = PlanSettings().managed_modes
    assert "none" not in modes and "unknown" not in modes and set(PlanSettings().served_modes) <= set(modes)
