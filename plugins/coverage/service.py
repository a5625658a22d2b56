"""Database side of the coverage plugin: read compounds and streets, call the pure rules."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from geoplatform.models import Compound, Street
from plugins.coverage.rules import coverage_kpis
from plugins.coverage.settings import settings_for


def kpi_report(context: Any, street: str | None = None) -> dict[str, Any]:
    """The KPI document of `geoplatform kpi` for the whole district (street rows limited to `street`)."""
    with context.session(readonly=True) as s:
        rows = s.execute(select(Compound.id, Compound.street_code, Compound.management_mode, Compound.owners_org,
                                Compound.households)).all()
        streets = [(code, name) for code, name in s.execute(select(Street.code, Street.name).order_by(Street.code))]
    frame = pd.DataFrame(rows, columns=["id", "street_code", "management_mode", "owners_org", "households"])
    return coverage_kpis(frame, streets, settings_for(context), only=[street] if street else None)


def street_kpi_frame(context: Any, bbox: Any = None, street: str | None = None) -> Any:
    """Streets (geometry) with their KPIs as columns, for the street choropleth layer."""
    from layers.features import read_source

    report = kpi_report(context)
    kpis = pd.DataFrame(report["streets"]).set_index("code").drop(columns=["name"])
    frame = read_source(context, "streets", bbox=bbox, street=street)
    return frame.join(kpis, how="left")
