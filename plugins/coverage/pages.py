"""The coverage plugin's HTTP surface: /api/v1/kpi (RULES §1 KPIs), and the templates of its panel and section."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from geoplatform import webshell


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
