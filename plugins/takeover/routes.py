"""Takeover API (/api/v1/takeover): rank, select, save the shortlist, advance the pipeline (login-protected by the app)."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Blueprint, Response, abort, g, request

from geoplatform.audit import jsonable, record_denied

MAX_PARAMETER = 1e9  # no count, budget (万元), weight or year comes near this; beyond it numpy/solvers overflow


def make_blueprint(context: Any) -> Blueprint:
    """A blueprint bound to `context` (plugins never import web; the user comes from flask.g.user)."""
    from plugins.takeover import service
    from plugins.takeover.mapping import settings_for
    from plugins.takeover.selection import InfeasibleSelection

    bp = Blueprint("takeover_api", __name__, url_prefix="/api/v1/takeover")

    def _json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, ensure_ascii=False, default=jsonable), status=status,
                        mimetype="application/json")

    def _user() -> Any:
        user = getattr(g, "user", None)
        if user is None:
            abort(401)
        return user

    def _args() -> dict[str, Any]:
        src = request.get_json(silent=True) if request.method == "POST" else None
        src = src if isinstance(src, dict) else request.args.to_dict()
        allowed = {"min", "max", "budget", "per_street_max", "contiguity_weight", "include_community_managed",
                   "year", "save"}
        unknown = sorted(set(src) - allowed)
        if unknown:
            abort(400, f"unknown field(s): {', '.join(unknown)}")
        return src

    def _num(src: dict[str, Any], key: str, kind: type, default: Any) -> Any:
        value = src.get(key)
        if value in (None, ""):
            return default
        try:
            number = kind(value)
        except (TypeError, ValueError, OverflowError):
            abort(400, f"{key} must be a {kind.__name__}")
        if not math.isfinite(number) or abs(number) > MAX_PARAMETER:  # beyond any plausible count, cost or year
            abort(400, f"{key} must be a finite number of at most {MAX_PARAMETER:g}")
        return number

    def _flag(src: dict[str, Any], key: str) -> bool:
        return str(src.get(key, "")).lower() in ("1", "true", "yes", "on")

    @bp.get("/rank")
    def rank() -> Response:
        """Candidates best first with components (as `geoplatform takeover rank --json`)."""
        user = _user()
        if not context.allowed(user, "view", {"kind": "takeover"}):
            abort(403)
        with context.session(readonly=True) as s:
            return _json(service.rank_payload(s, settings_for(context), _flag(request.args, "include_community_managed")))

    def _selection(save: bool) -> Response:
        user = _user()
        src = _args()
        settings = settings_for(context)
        year = _num(src, "year", int, context.today.year)
        if save and not context.allowed(user, "edit_takeover", {"kind": "takeover", "year": year}):
            record_denied(context, user, "update", "takeover_selection", str(year), detail="save shortlist")
            abort(403)
        if not save and not context.allowed(user, "view", {"kind": "takeover"}):
            abort(403)
        try:
            with context.session(readonly=not save) as s:
                data = service.selection_payload(
                    s, settings, _num(src, "min", int, settings.select_min), _num(src, "max", int, settings.select_max),
                    _num(src, "budget", float, None), _num(src, "per_street_max", int, None),
                    _num(src, "contiguity_weight", float, 0.0), _flag(src, "include_community_managed"),
                    save_as=(user, year) if save else None, allowed=context.allowed)
        except InfeasibleSelection as exc:
            return _json({"error": str(exc), "constraint": exc.constraint}, 422)
        return _json(data)

    @bp.get("/select")
    def select_view() -> Response:
        """The optimal set for the query's parameters (nothing saved)."""
        return _selection(save=False)

    @bp.post("/shortlist")
    def save_view() -> Response:
        """Solve and save the year's shortlist (edit_takeover)."""
        return _selection(save=True)

    @bp.post("/advance")
    def advance_view() -> Response:
        """Move {compound_id, state, year} one pipeline step (edit_takeover); serving makes it state-owned."""
        user = _user()
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) - {"compound_id", "state", "year"} or "compound_id" not in body:
            abort(400, "expected JSON {compound_id, state, year?}")
        year = _num(body, "year", int, context.today.year)
        try:
            with context.session() as s:
                result = service.advance(s, user, str(body["compound_id"]), str(body.get("state")), year,
                                         settings_for(context), allowed=context.allowed)
                result["coverage"] = service.coverage(s)
        except service.TakeoverDenied:
            record_denied(context, user, "update", "takeover_selection", f"{year}/{body['compound_id']}",
                          detail=f"advance to {body.get('state')}")
            abort(403)
        except service.TakeoverError as exc:
            abort(400, str(exc))
        return _json(result)

    return bp
