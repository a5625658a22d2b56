"""`geoplatform export charging --format xlsx|csv|geojson [--street S]`: every stored garage with its decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplatform.labels import label
from geoplatform.models import Garage
from geoplatform.sqlin import in_values
from geoplatform.store import read_frame
from layers.spec import Exporter
from plugins.charging.rules import flag_note
from plugins.charging.settings import settings_for
from plugins.charging.stored import evaluate_records, load_garages

# English column → Chinese header (xlsx/csv)
HEADERS = {
    "id": "车库编号", "name": "车库", "compound_id": "小区编号", "compound_name": "小区", "street_code": "街镇代码",
    "garage_type": "车库类型", "decision": "结论", "rule": "规则", "reasons": "理由", "flags": "提示",
    "problems": "数据问题",
}


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV/formula injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def evaluation_frame(context: Any, street: str | None = None, lang: str = "zh") -> gpd.GeoDataFrame:
    """One row per stored garage: decision label, rule, reasons and flag notes as text, garage location."""
    settings = settings_for(context)
    with context.session(readonly=True) as s:
        records = load_garages(s, street)
        where = [in_values(Garage.id, [r["id"] for r in records])] if street else []
        locations = read_frame(s, "garage", where=where, columns=["id"]).geometry
    rows = []
    by_id = {r["id"]: r for r in records}
    for row in evaluate_records(records, settings):
        rec = by_id[row["id"]]
        rows.append({
            "id": row["id"], "name": row["name"], "compound_id": row["compound_id"],
            "compound_name": row["compound_name"], "street_code": row["street_code"],
            "garage_type": label("garage_type", row["garage_type"], lang),
            "decision": label("charging_decision", row["decision"], lang) if row["decision"] else None,
            "rule": row["rule"],
            "reasons": " ".join(r[lang] for r in row["reasons"]) or None,
            "flags": " ".join(getattr(flag_note(f, rec), lang) for f in row["flags"]) or None,
            "problems": "; ".join(row.get("problems", [])) or None,
        })
    frame = pd.DataFrame(rows, columns=list(HEADERS))
    geometry = gpd.GeoSeries([locations.get(i) for i in frame["id"]], crs=4326)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)


def export_evaluations(context: Any, fmt: str, path: str | Path, street: str | None) -> int:
    """Write the garages' evaluations (Chinese headers for xlsx/csv); returns the row count."""
    frame = evaluation_frame(context, street)
    if fmt == "geojson":
        frame.to_file(path, driver="GeoJSON", engine="pyogrio")
        return len(frame)
    table = pd.DataFrame(frame.drop(columns="geometry")).rename(columns=HEADERS).astype(object)
    table = table.map(_neutralise)
    table.insert(len(table.columns), "经度", frame.geometry.x.where(~frame.geometry.isna()))
    table.insert(len(table.columns), "纬度", frame.geometry.y.where(~frame.geometry.isna()))
    if fmt == "csv":
        table.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":
        table.to_excel(path, index=False, sheet_name="充电桩安装条件")
    else:  # pragma: no cover - the CLI checks formats first
        raise ValueError(f"unsupported format {fmt}")
    return len(table)


def exporters() -> list[Exporter]:
    """The per-garage evaluation export."""
    return [Exporter(name="charging", title_zh="车库充电桩安装条件（逐个车库及理由）",
                     title_en="Garage EV charging eligibility (with reasons)",
                     formats=("xlsx", "csv", "geojson"), function=export_evaluations)]
