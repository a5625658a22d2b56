"""The demo's governance records: every finding of `governance check` fires somewhere, through the `load_demo` seam."""

from __future__ import annotations

import datetime as dt

from plugins.governance import hooks, rules, service
from plugins.governance.demo import pilot_year
from plugins.governance.settings import GovernanceSettings

TODAY = dt.date(2026, 3, 2)


def test_every_finding_fires_in_the_demo(ctx) -> None:  # noqa: ANN001
    from geoplatform import demo

    data = demo.generate(scale=0.2, seed=42, today=TODAY)
    with ctx.session() as s:
        demo.load(s, data)
        counts = demo.extend(ctx, s, TODAY, 42)
    assert counts["problem"] > 0 and counts["pilot"] == 14 and counts["mediation"] > 0
    settings = GovernanceSettings()
    with ctx.session(readonly=True) as s:
        found = service.check(s, TODAY, hooks.as_of(TODAY, settings, dt.datetime(2026, 3, 2, 12)), settings)
    assert {f["code"] for f in found["findings"]} == set(rules.CODES)
    with ctx.session() as s:  # loading the demo again replaces the plugin's records too
        demo.load(s, data)
        assert demo.extend(ctx, s, TODAY, 42) == counts


def test_the_pilot_year_has_ended() -> None:
    assert pilot_year(dt.date(2026, 1, 1)) == 2025
    assert pilot_year(dt.date(2025, 12, 31)) == 2024
