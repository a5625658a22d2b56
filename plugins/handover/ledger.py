"""The 整改台账 (rectification ledger) and 验收记录 (acceptance events) exports: Chinese headers, xlsx or csv."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from geoplatform.labels import label
from plugins.handover import rules
from plugins.handover.labels import facility_label, state_label

HEADERS = ("小区", "街道", "设施类型", "状态", "整改内容", "责任单位", "整改期限", "是否逾期", "完成日期", "小区编号")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def ledger_rows(compounds: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]],
                items_by_row: Mapping[Any, Sequence[Mapping[str, Any]]], today: dt.date) -> list[tuple]:
    """Ledger lines (HEADERS order): every item of every row, plus rectifying rows that have no item yet."""
    comp = {c["id"]: c for c in compounds}
    out = []
    for r in sorted(rows, key=lambda r: (comp.get(r["compound_id"], {}).get("street_code") or "", r["compound_id"],
                                         rules.FACILITIES.index(r["facility"]))):
        c = comp.get(r["compound_id"])
        if c is None:
            continue
        items = list(items_by_row.get(r["id"], ()))
        if not items and r["state"] not in rules.RECTIFYING_STATES:
            continue
        final = r["state"] in rules.FINAL_STATES
        base = (c["name"], c["street"], facility_label(r["facility"]), state_label(r["state"]))
        if not items:
            late = not final and r.get("deadline") is not None and today > r["deadline"]
            out.append((*base, "", r.get("responsible_unit") or "", r.get("deadline"), "是" if late else "否", None,
                        c["id"]))
        for i in items:
            late = not final and rules.item_overdue(i.get("deadline"), i.get("done_date"), today)
            out.append((*base, i["content"], i.get("responsible_unit") or r.get("responsible_unit") or "",
                        i.get("deadline"), "是" if late else "否", i.get("done_date"), c["id"]))
    return out


ACCEPTANCE_HEADERS = ("小区", "街道", "设施类型", "验收日期", "组织单位", "参加单位", "验收结果", "发现问题（整改项）", "备注",
                      "小区编号")


def acceptance_rows(events: Sequence[Mapping[str, Any]]) -> list[tuple]:
    """One line per acceptance event (ACCEPTANCE_HEADERS order); a pending one reads 待验收, defects joined by "；"."""
    out = []
    for e in events:
        defects = "；".join(d["content"] + (f"（{d['responsible_unit']}）" if d.get("responsible_unit") else "")
                           + (f" 期限 {d['deadline'].isoformat()}" if d.get("deadline") else "")
                           for d in e.get("defects") or ())
        out.append((e["compound_name"], e.get("street") or "", facility_label(e["facility"]), e.get("held_on"),
                    label("acceptance_organiser", e["organised_by"]), e.get("participants") or "",
                    label("acceptance_result", e["result"]) if e.get("result") else "待验收", defects,
                    e.get("note") or "", e["compound_id"]))
    return out


def write_ledger(lines: Sequence[tuple], path: str | Path, fmt: str, headers: Sequence[str] = HEADERS,
                 title: str = "整改台账") -> int:
    """Write ledger lines as xlsx (dates as dates) or csv (UTF-8 with BOM for Excel); returns the line count."""
    safe = [tuple(neutralise(v) for v in line) for line in lines]
    if fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            for line in safe:
                w.writerow(["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in line])
        return len(safe)
    if fmt != "xlsx":
        raise ValueError(f"handover-ledger is written as xlsx or csv, not {fmt}")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in safe:
        ws.append(list(line))
    for col, width in zip("ABCDEFGHIJ", (24, 14, 16, 14, 30, 20, 12, 10, 12, 16), strict=False):
        ws.column_dimensions[col].width = width
    dates = [n for n, h in enumerate(headers) if "期限" in h or "日期" in h]
    for row in ws.iter_rows(min_row=2):
        for idx in dates:
            row[idx].number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    wb.save(path)
    return len(safe)


def export_ledger(context: Any, fmt: str, path: str, street: str | None) -> int:
    """The `handover-ledger` exporter: the 整改台账 of the district or one street."""
    from plugins.handover.service import load_rows

    with context.session(readonly=True) as s:
        compounds, rows, items = load_rows(s, street_code=street)
    return write_ledger(ledger_rows(compounds, rows, items, context.today), path, fmt)


def export_acceptances(context: Any, fmt: str, path: str, street: str | None) -> int:
    """The `handover-acceptances` exporter: every acceptance event (验收记录) of the district or one street."""
    from plugins.handover.service import acceptances

    with context.session(readonly=True) as s:
        events = acceptances(s, street_code=street)
    return write_ledger(acceptance_rows(events), path, fmt, ACCEPTANCE_HEADERS, "验收记录")
