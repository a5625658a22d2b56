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
    frame = with_org_status(context, frame)
    return coverage_kpis(frame, streets, settings_for(context), only=[street] if street else None)


def org_statuses(context: Any, compound_ids: list[str]) -> dict[str, Any] | None:
    """{compound id: OrgStatus} from the plugin answering `owners_org_status` (RULES §6 records), or None."""
    from geoplatform.exchange import owners_org_statuses

    return owners_org_statuses(context, compound_ids)


def with_org_status(context: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (an `id` column or index of compound ids) with owners_org_counts / owners_org_known from the records;
    unchanged when no plugin answers (the rate then reads `compound.owners_org`)."""
    ids = frame["id"].tolist() if "id" in frame.columns else list(frame.index)
    statuses = org_statuses(context, ids) if ids else None
    if statuses is None:
        return frame
    out = frame.copy()
    out["owners_org_counts"] = [bool(statuses[i].counts) if i in statuses else False for i in ids]
    out["owners_org_known"] = [bool(statuses[i].known) if i in statuses else False for i in ids]
    return out


def street_kpi_frame(context: Any, bbox: Any = None, street: str | None = None) -> Any:
    """Streets (geometry) with their KPIs as columns, for the street choropleth layer."""
    from layers.features import read_source

    report = kpi_report(context)
    kpis = pd.DataFrame(report["streets"]).set_index("code").drop(columns=["name"])
    frame = read_source(context, "streets", bbox=bbox, street=street)
    return frame.join(kpis, how="left")
