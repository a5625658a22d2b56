"""Spreadsheets with Chinese headers: the published 好评榜 / 差评榜 and the firms registry."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from geoplatform.i18n import t
from geoplatform.labels import label
from layers.spec import Exporter
from plugins.firms import service
from plugins.firms.settings import settings_for

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LIST_HEADERS = {"zh": {"quarter": "季度", "rank": "名次", "company": "物业企业", "score": "全区得分",
                       "published_on": "发布日期"},
                "en": {"quarter": "quarter", "rank": "no.", "company": "firm", "score": "district score",
                       "published_on": "published"}}
STREET_HEADERS = {"zh": {"quarter": "季度", "street_code": "街镇代码", "street": "街镇", "first": "街镇第一",
                         "last": "街镇最后"},
                  "en": {"quarter": "quarter", "street_code": "street code", "street": "street", "first": "first",
                         "last": "last"}}
REGISTRY_HEADERS = {"company": "物业企业", "filed": "市平台备案", "state_owned": "国有企业", "grade": "信用等级",
                    "graded_on": "评级日期", "blacklisted": "黑名单", "listed": "最近上榜", "eligible": "可选聘",
                    "reasons": "不可选聘原因", "warnings": "提示", "compounds": "服务小区数"}


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV/formula injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def list_frames(rankings: list[dict[str, Any]], street_names: dict[str, str], lang: str = "zh") -> dict[str, pd.DataFrame]:
    """Sheet name → table: the good list, the bad list and each street's first/last, for published quarters."""
    good, bad, streets = [], [], []
    for r in rankings:
        for rows, firms in ((good, r["good"]), (bad, r["bad"])):
            rows.extend({"quarter": r["quarter"], "rank": i, "company": f, "score": r["scores"].get(f),
                         "published_on": r.get("published_on")} for i, f in enumerate(firms, 1))
        streets.extend({"quarter": r["quarter"], "street_code": s["street_code"],
                        "street": street_names.get(s["street_code"], s["street_code"]),
                        "first": "、".join(s["first"]), "last": "、".join(s["last"])} for s in r["streets"])
    h, sh = LIST_HEADERS[lang], STREET_HEADERS[lang]
    return {t("firms.xlsx.sheet_good", lang): pd.DataFrame(good, columns=list(h)).rename(columns=h),
            t("firms.xlsx.sheet_bad", lang): pd.DataFrame(bad, columns=list(h)).rename(columns=h),
            t("firms.xlsx.sheet_streets", lang): pd.DataFrame(streets, columns=list(sh)).rename(columns=sh)}


def write_xlsx(frames: dict[str, pd.DataFrame], target: Any) -> None:
    """Write sheets to a path or a binary buffer (cells neutralised)."""
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.astype(object).map(neutralise).to_excel(writer, index=False, sheet_name=name[:31])


def lists_xlsx_bytes(rankings: list[dict[str, Any]], street_names: dict[str, str], lang: str = "zh") -> bytes:
    """The published lists as an .xlsx file's bytes (for the web download)."""
    buf = io.BytesIO()
    write_xlsx(list_frames(rankings, street_names, lang), buf)
    return buf.getvalue()


def export_lists(context: Any, fmt: str, path: str | Path, street: str | None) -> int:
    """`geoplatform export firms-lists --format xlsx`: every published quarter's lists; returns the listed firms."""
    with context.session(readonly=True) as s:
        rankings = [service.ranking_dict(r) for r in service.published(s)]
        names = _street_names(s)
    frames = list_frames(rankings, names)
    write_xlsx(frames, path)
    return sum(len(f) for f in list(frames.values())[:2])


def export_registry(context: Any, fmt: str, path: str | Path, street: str | None) -> int:
    """`geoplatform export firms-registry --format xlsx|csv`: every firm, its credit as of today and the gate."""
    with context.session(readonly=True) as s:
        rows = service.registry(context, s, context.today, settings_for(context))
    yes, no, unknown = t("firms.ws.yes"), t("firms.ws.no"), t("firms.ws.unknown")
    for r in rows:
        for k in ("filed", "state_owned", "blacklisted", "eligible"):
            r[k] = unknown if r[k] is None else yes if r[k] else no
        r["listed"] = label("credit_event", r["listed"]) + f"（{r['listed_ref']}）" if r["listed"] else None
        r["reasons"] = "、".join(label("firm_gate", c) for c in r["reasons"]) or None
        r["warnings"] = "、".join(label("firm_gate", c) for c in r["warnings"]) or None
    frame = pd.DataFrame(rows, columns=list(REGISTRY_HEADERS)).rename(columns=REGISTRY_HEADERS)
    if fmt == "csv":
        frame.astype(object).map(neutralise).to_csv(path, index=False, encoding="utf-8-sig")
    else:
        write_xlsx({"物业服务企业": frame}, path)
    return len(frame)


def _street_names(session: Any) -> dict[str, str]:
    from sqlalchemy import select

    from geoplatform.models import Street

    return dict(session.execute(select(Street.code, Street.name)).all())


def exporters() -> list[Exporter]:
    """The published lists and the registry."""
    return [Exporter(name="firms-lists", title_zh="物业服务企业好评榜/差评榜（已发布）",
                     title_en="Property firms: published good and bad lists", formats=("xlsx",), function=export_lists),
            Exporter(name="firms-registry", title_zh="物业服务企业登记册（信用与准入）",
                     title_en="Property firms registry (credit and eligibility)", formats=("xlsx", "csv"),
                     function=export_registry)]
