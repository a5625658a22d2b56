"""The handover plugin's HTTP surface: the utility workspace (/ws/utility) and the API (/api/v1/handover…).

Routes parse the request and call `plugins.handover.service` (the one service layer the CLI calls
too); its errors (NotFound, Conflict, HandoverDenied, …) are answered by the web shell in one place.
Jurisdiction: a utility account works on its own facility only (`?utility=` of another → 403,
audited); admin/bureau pick any of the four; every write re-checks `edit_handover` on the row.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, after_this_request, render_template, request, send_file, url_for

from geoplatform import models as m
from geoplatform import webshell
from geoplatform.errors import NotFound, UserInputError
from geoplatform.i18n import catalogue
from geoplatform.labels import LABELS, label
from geoplatform.streets import resolve_street

HERE = Path(__file__).parent
MAX_ROWS = 600  # rows of one page of the table (pages beyond; the count says how many matched)
BULK_MAX = 1000  # rows one bulk update may change
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HANDOVER_FIELDS = frozenset({"state", "note", "deadline", "items", "responsible_unit", "organised_by", "held_on",
                             "participants"})


# Accounts whose workspace this is: the utilities, telecom and fire (their own facility), admin/bureau (any).
WORKSPACE_ROLES = ("utility", "telecom", "fire", "admin", "bureau")
OWN_ROLES = ("utility", "telecom", "fire")


def blueprints(context: Any) -> list[Blueprint]:
    """The workspace and the API, bound to `context`."""
    return [workspace_blueprint(context), api_blueprint(context)]


def _street(session: Any, value: str | None) -> str | None:
    """A street code from `?street=` (NBS code or name); NotFound (the one street error) when unknown."""
    return resolve_street(session, value[:100]) if value else None


# ---------------------------------------------------------------------------------------------
# The utility workspace


def workspace_blueprint(context: Any) -> Blueprint:
    """/ws/utility: one facility's backlog as a table and a map, state changes, ledger items, XLSX export."""
    from plugins.handover import default_facility, rules, service
    from plugins.handover.settings import settings_for

    bp = Blueprint("ws_utility", __name__, url_prefix="/ws/utility", template_folder="templates",
                   static_folder="static", static_url_path="/static")

    def facility_of_request(asked: str | None) -> str:
        """The facility of this request: the account's own (a utility's, telecom's telecom_access, fire's
        fire_acceptance; another → 403, audited) or `?utility=` (any facility) for admin/bureau."""
        user = webshell.current_user()
        if asked is not None and asked not in m.FACILITIES:
            raise NotFound("handover.unknown_utility", utility=asked[:40])
        own = default_facility(user, settings_for(context))
        facility = asked or own or m.UTILITY_FACILITIES[0]
        user = webshell.require("edit_handover", {"kind": "handover", "id": f"*:{facility}", "facility": facility,
                                                  "street_code": None})
        if user.role not in WORKSPACE_ROLES:  # street officers use their street workspace
            webshell.require("use_utility_workspace", {"kind": "handover", "facility": facility})
        return facility

    def backlog_rows(session: Any, facility: str, street: str | None, state: str | None, overdue_only: bool,
                     lang: str, page_no: int = 1) -> dict[str, Any]:
        """The facility's open rows (the service's backlog) filtered, labelled, overdue first."""
        data = service.backlog(session, context.today, settings_for(context), facility, street)
        items = [i for i in data["items"] if (state is None or i["state"] == state) and (not overdue_only or i["overdue"])]
        items.sort(key=lambda i: (not i["overdue"], i["street_code"] or "", i["compound_name"] or "", i["compound_id"]))
        pages = max(1, -(-len(items) // MAX_ROWS))
        page_no = min(max(1, page_no), pages)
        shown = items[(page_no - 1) * MAX_ROWS:page_no * MAX_ROWS]
        for i in shown:
            i["state_label"] = label("handover_state", i["state"], lang)
            i["late_text"] = late_text(i.get("late"), lang)
        filtered = state is not None or overdue_only  # the map then shows these compounds only (every page)
        return {"items": shown, "matched": len(items), "counts": data["counts"], "page": page_no, "pages": pages,
                "ids": [i["compound_id"] for i in items] if filtered else None}

    @bp.get("")
    def page() -> str:
        """The backlog of one facility with filters (street, state, overdue only), the map and the export link."""
        facility = facility_of_request(request.args.get("utility") or None)
        lang = webshell.lang()
        shell = webshell.shell()
        state = request.args.get("state") or None
        if state is not None and state not in rules.machine(facility):
            raise UserInputError("handover.unknown_state_filter", state=state[:40])
        overdue_only = request.args.get("overdue") in ("1", "on", "true")
        page_no = int(request.args["page"]) if request.args.get("page", "").isdigit() else 1
        with context.session(readonly=True) as s:
            street = _street(s, request.args.get("street"))
            data = backlog_rows(s, facility, street, state, overdue_only, lang, page_no)
        streets = shell.streets()
        info = next((x for x in streets if x["code"] == street), None)
        fm = shell.map(location=(40.64, 109.83), zoom_start=12, tiles=None, control_scale=True, prefer_canvas=True,
                       max_zoom=20, min_zoom=9, bounds=info.get("bbox") if info else None)
        user = webshell.current_user()
        states = [(s_, label("handover_state", s_, lang)) for s_ in rules.states(facility) if s_ not in rules.FINAL_STATES]
        config = {
            "facility": facility, "street": street, "lang": lang, "layers": shell.layer_meta([f"handover_{facility}"], lang),
            "labels": {e: {v: (zh if lang == "zh" else en) for v, (zh, en) in vals.items()} for e, vals in LABELS.items()},
            "features": shell.url("layer_features"),
            "handover_api": url_for("handover_api.get_handover", compound_id="__ID__", facility=facility),
            "done_url": url_for("ws_utility.item_done", item_id=0).replace("/0/", "/__ID__/"),
            "bulk_url": url_for("ws_utility.bulk", utility=facility if user.role not in OWN_ROLES else None),
            "compound_page": shell.url("compound_page"),
            "messages": {k: v for k, v in catalogue(lang).items() if k.startswith(("ws_utility.", "map."))},
            "rectifying": "rectifying", "map": fm["name"], "csrf": shell.csrf_token(), "only": data["ids"],
            "item_states": [s_ for s_ in rules.states(facility) if rules.items_allowed(facility, s_)],
            "acceptance_state": rules.ACCEPTANCE_STATE,
            "organisers": [(o, label("acceptance_organiser", o, lang)) for o in rules.ORGANISERS],
        }
        args = {k: v for k, v in request.args.items() if k != "page"}
        pager = {n: url_for("ws_utility.page", **args, page=n) for n in (data["page"] - 1, data["page"] + 1)
                 if 1 <= n <= data["pages"]}
        return render_template(
            "handover/utility.html", folium=fm, pager=pager, bulk_states=bulk_states(facility, lang), facility=facility, facility_label=label("facility", facility, lang),
            data=data, streets=streets, street=street, state=state, overdue_only=overdue_only, states=states,
            can_pick=user.role in ("admin", "bureau"), max_rows=MAX_ROWS, config=config,
            facilities=[(f, label("facility", f, lang)) for f in m.FACILITIES],
            compound_page=shell.url("compound_page"), map_url=shell.url("map"),
            export_url=url_for("ws_utility.export", utility=facility if user.role not in OWN_ROLES else None, street=street))

    @bp.post("/bulk")
    @webshell.answers_json
    def bulk() -> Response:
        """Advance and/or assign the ticked rows of this facility at once (all or nothing; each row audited)."""
        facility = facility_of_request(request.args.get("utility") or None)
        body = webshell.json_body()
        rows = body.get("rows")
        if not isinstance(rows, list) or not 0 < len(rows) <= BULK_MAX or not all(
                isinstance(r, dict) and isinstance(r.get("compound_id"), str)
                and isinstance(r.get("version"), int) and not isinstance(r.get("version"), bool) for r in rows):
            raise UserInputError("handover.bulk_bad_rows" if rows else "handover.bulk_none_selected", field="rows")
        state = _text(body.get("state") or None, "state", 32)
        unit = _text(body.get("responsible_unit") or None, "responsible_unit", 200)
        user = webshell.current_user()
        with context.session() as s:
            result = service.bulk_set_state(s, user, facility, rows, state=state, responsible_unit=unit,
                                            today=context.today, allowed=context.allowed)
        return webshell.json_response({"facility": facility, "changed": result["changed"]})

    @bp.post("/items/<int:item_id>/done")
    @webshell.answers_json
    def item_done(item_id: int) -> Response:
        """Mark a ledger item done (today or `done_date`); own facility only (403 + audit), twice → 409."""
        user = webshell.require("write", {"kind": "handover"})  # the row's own check is the service's (edit_handover)
        body = request.get_json(silent=True) or {}
        raw = body.get("done_date") if isinstance(body, dict) else None
        try:
            done = dt.date.fromisoformat(raw) if isinstance(raw, str) and raw else context.today
        except ValueError:
            raise UserInputError("handover.bad_date", field="done_date", value=raw[:40]) from None
        with context.session() as s:
            result = service.complete_item(s, user, item_id, done, allowed=context.allowed)
        return webshell.json_response(result)

    @bp.get("/ledger.xlsx")
    def export() -> Response:
        """This facility's 整改台账 as XLSX (the handover-ledger exporter's rows, limited to one facility)."""
        from plugins.handover.ledger import ledger_rows, write_ledger

        facility = facility_of_request(request.args.get("utility") or None)
        with context.session(readonly=True) as s:
            street = _street(s, request.args.get("street"))
        webshell.require("export", {"kind": "export", "id": "handover-ledger", "data": "handover", "facility": facility,
                                    "street_code": street, "format": "xlsx"})
        with context.session(readonly=True) as s:
            compounds, rows, items = service.load_rows(s, street_code=street, facilities=(facility,))
        tmpdir = tempfile.TemporaryDirectory(prefix="gp-ledger-")
        path = Path(tmpdir.name) / f"handover-ledger-{facility}.xlsx"
        n = write_ledger(ledger_rows(compounds, rows, items, context.today), path, "xlsx")
        webshell.export_made("handover-ledger", "xlsx", street, n, facility=facility)

        @after_this_request
        def _cleanup(response: Response) -> Response:
            response.call_on_close(tmpdir.cleanup)
            return response

        return send_file(path, mimetype=XLSX, as_attachment=True, download_name=path.name)

    return bp


def late_text(late: dict[str, Any] | None, lang: str) -> str:
    """Why a row is overdue, in words: which item (or the row's deadline) and by how many days."""
    from geoplatform.i18n import t

    if not late:
        return ""
    if late["kind"] == "item":
        text = t("ws_utility.late.item", lang, content=late["content"], days=late["days"])
        return text + (t("ws_utility.late.more", lang, count=late["count"]) if late["count"] > 1 else "")
    return t("ws_utility.late.deadline", lang, date=late["date"].isoformat(), days=late["days"])


def bulk_states(facility: str, lang: str) -> list[tuple[str, str]]:
    """The states a bulk update may move rows to (every non-initial state of the facility's machine)."""
    from plugins.handover import rules

    return [(s_, label("handover_state", s_, lang)) for s_ in rules.states(facility) if s_ != rules.UNKNOWN]


# ---------------------------------------------------------------------------------------------
# The API


def _text(value: Any, name: str, max_len: int, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not (0 if nullable else 1) <= len(value.strip()) <= max_len:
        raise UserInputError("handover.bad_field", field=name, max=max_len)
    return value.strip()


def _date(value: Any, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else _raise()
    except ValueError:
        raise UserInputError("handover.bad_date", field=name, value=str(value)[:40]) from None


def _raise() -> Any:
    raise ValueError


def _items(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 100:
        raise UserInputError("handover.bad_items", field="items")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"content", "responsible_unit", "deadline", "done_date"}:
            raise UserInputError("handover.bad_items", field="items")
        out.append({"content": _text(item.get("content"), "items", 2000, nullable=False),
                    "responsible_unit": _text(item.get("responsible_unit"), "items", 200),
                    "deadline": _date(item.get("deadline"), "items"), "done_date": _date(item.get("done_date"), "items")})
    return out


def parse_patch(body: dict[str, Any]) -> dict[str, Any]:
    """The PATCH body of a handover row: {state, note?, deadline?, items?, responsible_unit?, organised_by?, held_on?,
    participants?, version} checked."""
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise UserInputError("handover.need_version", field="version")
    unknown = sorted(k for k in body if k != "version" and k not in HANDOVER_FIELDS)
    if unknown:
        raise UserInputError("handover.unknown_fields", fields=unknown, names=", ".join(unknown))
    return {"state": _text(body.get("state"), "state", 32, nullable=False), "note": _text(body.get("note"), "note", 2000),
            "deadline": _date(body.get("deadline") or None, "deadline"),
            "clear_deadline": "deadline" in body and body["deadline"] in (None, ""), "items": _items(body.get("items")),
            "responsible_unit": _text(body.get("responsible_unit"), "responsible_unit", 200),
            "organised_by": _text(body.get("organised_by") or None, "organised_by", 32),
            "held_on": _date(body.get("held_on") or None, "held_on"),
            "participants": _text(body.get("participants") or None, "participants", 2000),
            "expected_version": version}


def api_blueprint(context: Any) -> Blueprint:
    """/api/v1/handover/backlog, /api/v1/handover/history/<compound>, GET/PATCH /api/v1/handovers/<compound>/<facility>."""
    from plugins.handover import default_facility, rules, service
    from plugins.handover.settings import settings_for

    bp = Blueprint("handover_api", __name__, url_prefix="/api/v1")

    @bp.get("/handover/backlog")
    def backlog() -> Response:
        """The backlog (as `geoplatform handover backlog --json`); utility users default to their own facility."""
        user = webshell.current_user()
        facility = request.args.get("utility") or default_facility(user, settings_for(context))
        webshell.require("view", {"kind": "handover", "facility": facility})  # before the parameters are checked
        if facility is not None and facility not in rules.FACILITIES:
            raise UserInputError("handover.unknown_facility", facility=facility[:40], choices=", ".join(rules.FACILITIES))
        try:
            today = dt.date.fromisoformat(request.args["today"]) if request.args.get("today") else context.today
        except ValueError:
            raise UserInputError("handover.bad_date", field="today", value=request.args["today"][:40]) from None
        with context.session(readonly=True) as s:
            street = _street(s, request.args.get("street"))
        webshell.require("view", {"kind": "handover", "facility": facility, "street_code": street})
        with context.session(readonly=True) as s:
            data = service.backlog(s, today, settings_for(context), facility, street)
        for item in data["items"]:
            item.pop("street_code", None)
        return webshell.json_response(data)

    @bp.get("/handover/history/<compound_id>")
    def history(compound_id: str) -> Response:
        """Every recorded change of a compound's handover rows (optionally ?facility=)."""
        user = webshell.current_user()
        facility = request.args.get("facility") or default_facility(user, settings_for(context))
        with context.session(readonly=True) as s:
            resource = service.handover_resource(s, compound_id, facility or "water")
            webshell.require("view", {**resource, "facility": facility})
            events = service.history(s, compound_id, facility)
        return webshell.json_response({"compound_id": compound_id, "events": events})

    @bp.get("/handovers/<compound_id>/<facility>")
    def get_handover(compound_id: str, facility: str) -> Response:
        """One compound × facility handover row (`unknown`, version 0 when never surveyed)."""
        with context.session(readonly=True) as s:
            webshell.require("view", service.handover_resource(s, compound_id, facility))
            data = service.get_handover(s, compound_id, facility, today=context.today)
        return webshell.json_response(data)

    @bp.patch("/handovers/<compound_id>/<facility>")
    def patch_handover(compound_id: str, facility: str) -> Response:
        """Move a handover row to `state` (RULES §2 transitions) given the `version` read."""
        with context.session(readonly=True) as s:
            resource = service.handover_resource(s, compound_id, facility)
        # authorisation before validation: another facility's or street's row is 403 whatever the body says
        webshell.require("edit_handover", resource)
        body = webshell.json_body()
        args = parse_patch(body)
        with context.session() as s:
            data = service.set_state(s, webshell.current_user(), compound_id, facility, today=context.today, **args)
        return webshell.json_response(data)

    return bp
