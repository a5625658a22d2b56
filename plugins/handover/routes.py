"""Read routes of the handover plugin: /api/v1/handover/backlog and /history (login-protected by the app)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, Response, abort, g, request

from geoplatform.audit import jsonable


def make_blueprint(context: Any) -> Blueprint:
    """A blueprint bound to `context` (plugins never import web; the user comes from flask.g.user)."""
    from plugins.handover import rules, service
    from plugins.handover.settings import settings_for

    bp = Blueprint("handover_api", __name__, url_prefix="/api/v1/handover")

    def _json(data: Any) -> Response:
        return Response(json.dumps(data, ensure_ascii=False, default=jsonable), mimetype="application/json")

    def _user() -> Any:
        user = getattr(g, "user", None)
        if user is None:
            abort(401)
        return user

    @bp.get("/backlog")
    def backlog() -> Response:
        """The backlog (as `geoplatform handover backlog --json`); utility users default to their own facility."""
        user = _user()
        facility = request.args.get("utility") or (user.utility if user.role == "utility" else None)
        if facility is not None and facility not in rules.FACILITIES:
            abort(400, f"unknown utility {facility!r}; choose one of: {', '.join(rules.FACILITIES)}")
        street = request.args.get("street") or None
        try:
            today = dt.date.fromisoformat(request.args["today"]) if request.args.get("today") else context.today
        except ValueError:
            abort(400, "today must be YYYY-MM-DD")
        if not context.allowed(user, "view", {"kind": "handover", "facility": facility, "street_code": street}):
            abort(403)
        with context.session(readonly=True) as s:
            if street is not None:
                from geoplatform.streets import match_street

                code = match_street(s, street)
                if code is None:
                    abort(400, f"unknown street {street!r}")
                street = code
            data = service.backlog(s, today, settings_for(context), facility, street)
        for item in data["items"]:
            item.pop("street_code", None)
        return _json(data)

    @bp.get("/history/<compound_id>")
    def history(compound_id: str) -> Response:
        """Every recorded change of a compound's handover rows (optionally ?facility=)."""
        user = _user()
        facility = request.args.get("facility") or None
        with context.session(readonly=True) as s:
            try:
                resource = service.handover_resource(s, compound_id, facility or "water")
                if not context.allowed(user, "view", {**resource, "facility": facility}):
                    abort(403)
                events = service.history(s, compound_id, facility)
            except service.UnknownCompound:
                abort(404, "unknown compound")
            except service.HandoverError as exc:
                abort(400, str(exc))
        return _json({"compound_id": compound_id, "events": events})

    return bp
