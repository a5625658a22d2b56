"""The set-wise fee disclosure of the firms attributes (issue 26 items 4–5) equals `disclosure_results`."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from plugins.firms import rules, service
from plugins.firms.rules import CompoundRef, Contract
from plugins.firms.settings import FirmsSettings

TODAY = dt.date(2026, 8, 15)
MODES = ("professional", "state_owned", "self_managed", "community_managed", "none", "unknown")


def _day(rnd: random.Random) -> dt.date:
    return dt.date(2024, 6, 1) + dt.timedelta(days=rnd.randint(0, 900))


def _case(seed: int) -> tuple[list[CompoundRef], list[Contract], list[tuple[str, dt.date, dt.date]]]:
    rnd = random.Random(seed)
    compounds = [CompoundRef(f"c{i:03d}", rnd.choice(MODES), rnd.choice((None, "甲", "乙")))
                 for i in range(rnd.randint(0, 60))]
    contracts, disclosures = [], []
    for c in compounds + [CompoundRef("elsewhere", "professional")]:  # rows of a compound not asked: left out
        for k in range(rnd.choice((0, 0, 1, 2, 3))):
            start = rnd.choice((None, _day(rnd)))
            end = rnd.choice((None, _day(rnd), (start or _day(rnd)) + dt.timedelta(days=rnd.randint(0, 400))))
            contracts.append(Contract(f"{c.id}-{k}", c.id, rnd.choice(("甲", "乙")), start, end))
        for _ in range(rnd.choice((0, 1, 2, 4))):
            start = _day(rnd)
            disclosures.append((c.id, start, start + dt.timedelta(days=rnd.choice((0, 13, 14, 15, 30)))))
    return compounds, contracts, disclosures


@pytest.mark.parametrize("seed", range(10))
def test_disclosure_columns_equal_disclosure_results(seed: int) -> None:
    compounds, contracts, disclosures = _case(seed)
    settings = FirmsSettings() if seed % 2 else FirmsSettings(disclosure_start="2024H2", disclosure_min_days=14)
    for today in (TODAY, dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2024, 1, 1)):
        want = rules.disclosure_results(compounds, contracts, disclosures, today, settings)
        periods, overall, by_period = rules.disclosure_columns(compounds, contracts, disclosures, today, settings)
        assert list(overall) == [r.status for r in want]
        assert [{p: v for p, v in zip(periods, row, strict=True) if v is not None} for row in by_period] \
            == [r.periods for r in want]


def test_stored_attributes_carry_the_disclosure_of_the_records(demo_ctx) -> None:  # noqa: ANN001
    """On both databases: the attributes' disclosure (set-wise) is `disclosure_results` of the stored records."""
    settings = FirmsSettings()
    with demo_ctx.session(readonly=True) as s:
        compounds = service.load_compounds(s)
        want = rules.disclosure_results(compounds, service.load_contracts(s), service.load_disclosures(s),
                                        demo_ctx.today, settings)
        got = service.compound_attributes(demo_ctx, s, demo_ctx.today, settings)
    assert [(got[r.compound_id]["disclosure"], got[r.compound_id]["disclosure_missing"]) for r in want] \
        == [(r.status, [p for p, v in r.periods.items() if v == "missing"]) for r in want]
    assert {r.status for r in want} >= {"missing", "not_served"}
