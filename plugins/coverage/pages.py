"""The coverage plugin's HTTP surface: /api/v1/kpi (RULES §1 KPIs), and the templates of its panel and section."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from geoplatform import webshell
from geoplatform.errors import NotFound


def blueprint(context: Any) -> Blueprint:
    """GET /api/v1/kpi[?street=] (the `geoplatform kpi --json` document), /api/v1/kpi/projection and
    /api/v1/kpi/plan; templates under coverage/."""
    from geoplatform.streets import resolve_street
    from plugins.coverage.service import kpi_report

    bp = Blueprint("coverage", __name__, url_prefix="/api/v1", template_folder="templates")

    @bp.get("/kpi")
    def kpi() -> Response:
        """Coverage and owners' organisation KPIs (district and streets; one street's row with `?street=`)."""
        webshell.require("view")
        street = None
        if request.args.get("street"):
            with context.session(readonly=True) as s:
                street = resolve_street(s, request.args["street"][:100])
        data = context.memo(f"kpi|{street}", lambda: _plain(kpi_report(context, street=street)))
        return webshell.json_response(data)

    @bp.get("/kpi.xlsx")
    def kpi_xlsx() -> Response:
        """The bureau's KPI table (district + streets) as an Excel file, headers in the user's language."""
        webshell.require("export", {"kind": "export", "id": "kpi", "street_code": None, "format": "xlsx"})
        report = kpi_report(context)
        body = kpi_workbook(report, webshell.lang())
        return Response(body, mimetype=XLSX, headers={"Content-Disposition": "attachment; filename=kpi.xlsx"})

    @bp.get("/kpi/chart/<name>.svg")
    def kpi_chart(name: str) -> Response:
        """One chart of the bureau's KPI panel as an SVG file (coverage, owners, trend[?street=])."""
        from plugins.coverage.screens import bureau_panel

        webshell.require("view")
        if name not in CHARTS:
            raise NotFound("coverage.unknown_chart", chart=name[:40])
        street = None
        if request.args.get("street"):
            with context.session(readonly=True) as s:
                street = resolve_street(s, request.args["street"][:100])
        svg = str(bureau_panel(context, street).data[CHARTS[name]])
        svg = svg.replace('width="100%"', 'width="1120" style="background:#fff"', 1)
        return Response('<?xml version="1.0" encoding="utf-8"?>\n' + svg, mimetype="image/svg+xml",
                        headers={"Content-Disposition": f"attachment; filename=kpi-{name}.svg"})

    def _street_arg() -> str | None:
        if not request.args.get("street"):
            return None
        with context.session(readonly=True) as s:
            return resolve_street(s, request.args["street"][:100])

    @bp.get("/kpi/projection")
    def projection() -> Response:
        """RULES §1 path to target (the `geoplatform kpi projection --json` document, as of the server's day);
        `?street=` limits the street rows."""
        from plugins.coverage.service import projection_report

        webshell.require("view")
        street = _street_arg()
        data = context.memo("kpi_projection", lambda: _plain(projection_report(context)))
        if street is not None:
            data = {**data, "streets": [r for r in data["streets"] if r["street_code"] == street]}
        return webshell.json_response(data)

    @bp.get("/kpi/plan")
    def plan() -> Response:
        """The least-cost plan (`geoplatform kpi plan --json`); a street officer sees their own street's rows only."""
        from plugins.coverage.service import plan_report

        user = webshell.require("view")
        street = _street_arg()
        if getattr(user, "role", None) == "street_officer":
            street = street or user.street_code
            webshell.require("work_street", {"kind": "street", "street_code": street})
        budget = request.args.get("budget")
        if budget not in (None, ""):
            from geoplatform.errors import UserInputError

            try:
                value = float(budget)
            except ValueError as exc:
                raise UserInputError("coverage.error.budget", budget=budget[:20]) from exc
            return webshell.json_response(_plain(plan_report(context, street=street, budget=value)))
        data = context.memo("kpi_plan", lambda: _plain(plan_report(context)))
        if street is not None:
            data = {**data, "streets": [r for r in data["streets"] if r["street_code"] == street]}
        return webshell.json_response(data)

    return bp


def workspace(context: Any) -> Blueprint:
    """GET /ws/coverage/path: the path to target and the plan — every street, or a street officer's own (403
    for another street, checked here); the state company sees which streets its shortlist and picks close."""
    from flask import render_template

    from geoplatform.streets import resolve_street

    bp = Blueprint("ws_coverage", __name__, template_folder="templates")

    @bp.get("/ws/coverage/path")
    def path_page() -> str:
        """The path-to-target page (the bureau panel's content, one street for a street officer)."""
        from plugins.coverage.screens import path_panel

        user = webshell.require("view")
        street = None
        if request.args.get("street"):
            with context.session(readonly=True) as s:
                street = resolve_street(s, request.args["street"][:100])
        if getattr(user, "role", None) == "street_officer":
            street = street or user.street_code
            webshell.require("work_street", {"kind": "street", "street_code": street})
        panel = path_panel(context, street)
        name = next((r["name"] for r in panel.data["rows"] if r["street_code"] == street), None) if street else None
        return render_template("coverage/path_page.html", data=panel.data, street_name=name)

    return bp


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHARTS = {"coverage": "chart_coverage", "owners": "chart_owners", "trend": "chart_trend"}
KPI_COLUMNS = ("name", "compounds", "served", "coverage_rate", "compounds_needed_for_target", "owners_org_rate",
               "owners_org_needed_for_target", "households", "coverage_rate_households")


def kpi_workbook(report: dict[str, Any], lang: str) -> bytes:
    """The KPI table as XLSX bytes: one row for the district, one per street; rates as percentages."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    from geoplatform.i18n import t

    wb = Workbook()
    ws = wb.active
    ws.title = t("coverage.xlsx.sheet", lang)
    ws.append([t(f"coverage.xlsx.col.{c}", lang) for c in KPI_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    district = {**report["district"], "name": t("coverage.xlsx.district", lang)}
    for row in [district, *report["streets"]]:
        ws.append([_plain(row.get(c)) for c in KPI_COLUMNS])
        for cell, c in zip(ws[ws.max_row], KPI_COLUMNS, strict=True):
            if c.endswith("rate") or c.endswith("rate_households"):
                cell.number_format = "0.0%"
    for col, width in zip("ABCDEFGHI", (16, 8, 8, 12, 14, 12, 14, 10, 14), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _plain(value: Any) -> Any:
    """The KPI document as JSON values: numpy scalars plain, NaN as null, dates ISO."""
    import math

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
