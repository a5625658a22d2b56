"""The coverage plugin's HTTP surface: /api/v1/kpi (RULES §1 KPIs), and the templates of its panel and section."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from geoplatform import webshell


def blueprint(context: Any) -> Blueprint:
    """GET /api/v1/kpi[?street=] (the `geoplatform kpi --json` document); templates under coverage/."""
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
