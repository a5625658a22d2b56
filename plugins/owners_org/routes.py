"""HTTP surface of the owners' organisation plugin: the 业委会 workspace pages and the JSON API.

Thin over `plugins.owners_org.service`: a route parses the request, checks jurisdiction on the server
(`context.allowed`, refusals audited), calls the service and formats the answer. Pages use plain HTML
forms (CSRF token field) and redirect back with a flash message; the API answers JSON, mapping
`geoplatform.errors` to 400/403/404/409. Plugins never import `web`: the user is `flask.g.user`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)

from geoplatform import models as m
from geoplatform.audit import jsonable, record_denied
from geoplatform.errors import Forbidden, UserInputError
from geoplatform.i18n import LANGUAGES, t
from geoplatform.labels import label

ORG_FORM_FIELDS = ("seats", "prep_group_on", "elected_on", "filed_on", "registered_on", "term_start", "term_end",
                   "party_org_on", "dissolved_on")
MEMBER_FORM_FIELDS = ("person", "role", "party_member", "public_servant", "check_police", "check_credit",
                      "check_community", "check_discipline", "votes", "start", "end")


def make_blueprints(context: Any) -> list[Blueprint]:
    """The workspace blueprint (/ws/owners-org, with the plugin's templates) and the API (/api/v1/owners-org)."""
    from plugins.owners_org import rules as r
    from plugins.owners_org import service
    from plugins.owners_org.messages import finding_text
    from plugins.owners_org.settings import settings_for, settings_table

    ws = Blueprint("owners_org", __name__, url_prefix="/ws/owners-org", template_folder="templates")
    api = Blueprint("owners_org_api", __name__, url_prefix="/api/v1/owners-org")

    def user() -> Any:
        u = getattr(g, "user", None)
        if u is None:
            abort(401)
        return u

    def lang() -> str:
        asked = getattr(g, "lang", None) or request.args.get("lang") or request.cookies.get("lang")
        return asked if asked in LANGUAGES else (context.config.language if context.config.language in LANGUAGES
                                                 else "zh")

    def today() -> dt.date:
        return context.today

    def may(u: Any, resource: dict[str, Any]) -> bool:
        return context.allowed(u, "edit_owners_org", resource) or context.allowed(u, "record_evaluation", resource)

    def denied(u: Any, entity: str, entity_id: Any, street: str | None, detail: str) -> None:
        record_denied(context, u, "update", entity, entity_id, street_code=street, detail=detail)

    def compound_resource(cid: str) -> dict[str, Any]:
        with context.session(readonly=True) as s:
            c = s.get(m.Compound, cid)
            if c is None:
                abort(404)
            return {"kind": "owners_org", "id": c.id, "street_code": c.street_code, "community_code": c.community_code}

    def org_compound(org_id: str) -> str:
        from geoplatform.models.owners_org import OwnersOrg

        with context.session(readonly=True) as s:
            o = s.get(OwnersOrg, org_id)
            if o is None:
                abort(404)
            return o.compound_id

    # ------------------------------------------------------------ pages

    def helpers() -> dict[str, Any]:
        language = lang()
        return {"finding_text": lambda f: finding_text(f, language),
                "label": lambda enum, v: label(enum, v, language),
                "pct": lambda v: "—" if v is None else f"{v * 100:.1f}%",
                "flashes": get_flashed_messages(with_categories=True)}

    def scope(u: Any) -> tuple[str | None, str | None]:
        """(street, community) the page shows: officers their own; admin/bureau the ?street= asked (or none)."""
        if u.role == "street_officer":
            asked = request.args.get("street")
            if asked and asked != u.street_code:
                denied(u, "owners_org", None, asked, "street workspace of another street")
                abort(403)
            return u.street_code, None
        if u.role == "community_officer":
            return u.street_code, getattr(u, "community_code", None)
        if u.role in ("admin", "bureau"):
            asked = request.args.get("street") or None
            if asked:
                from geoplatform.streets import resolve_street

                with context.session(readonly=True) as s:
                    try:
                        return resolve_street(s, asked), None
                    except UserInputError:
                        abort(404)
            return None, None
        abort(403)

    @ws.get("/")
    def page() -> Any:
        """The street's board: pipeline columns, alerts, the rate from records, trainings (or, for the bureau, streets)."""
        u = user()
        street, community = scope(u)
        settings = settings_for(context)
        if street is None:
            rows = service.street_rates(context, settings)
            return render_template("owners_org/streets.html", rows=rows, settings=settings, today=today(),
                                   **helpers())
        resource = {"kind": "owners_org", "street_code": street, "community_code": community}
        if community is None and not context.allowed(u, "edit_owners_org", resource):
            denied(u, "owners_org", None, street, "street workspace")
            abort(403)
        with context.session(readonly=True) as s:
            data = service.board(s, today(), settings, street=street, community=community)
            street_name = s.get(m.Street, street).name if s.get(m.Street, street) else street
            community_name = s.get(m.Community, community).name if community and s.get(m.Community, community) else None
        return render_template("owners_org/board.html", data=data, street=street, street_name=street_name,
                               community=community, community_name=community_name, settings=settings,
                               thresholds=settings_table(settings), columns=service.BOARD_COLUMNS,
                               can_edit=community is None, **helpers())

    @ws.get("/compound/<compound_id>")
    def compound_page(compound_id: str) -> Any:
        """One compound: its organisation(s) with the forms for dates, members, evaluations and custody."""
        u = user()
        resource = compound_resource(compound_id)
        if not may(u, resource):
            denied(u, "owners_org", compound_id, resource["street_code"], "compound page")
            abort(403)
        settings = settings_for(context)
        with context.session(readonly=True) as s:
            data = service.compound_detail(s, compound_id, today(), settings)
        return render_template("owners_org/compound.html", data=data, today=today(),
                               can_edit=context.allowed(u, "edit_owners_org", resource),
                               can_evaluate=context.allowed(u, "record_evaluation", resource),
                               roles=r.MEMBER_ROLES, grades=r.GRADES, kinds=r.ORG_KINDS, items=r.CUSTODY_ITEMS,
                               org_fields=ORG_FORM_FIELDS, settings=settings,
                               default_period=r.period_from_index(r.period_index(r.period_of(today())) - 1), **helpers())

    def form_values(keys: tuple[str, ...]) -> dict[str, Any]:
        f = request.form
        out: dict[str, Any] = {}
        for k in keys:
            if k in f:
                out[k] = f.get(k)
            elif k in ("party_member", "public_servant", "check_police", "check_credit", "check_community",
                       "check_discipline", "declared"):
                out[k] = False if k != "check_discipline" else None
        return out

    def act(compound_id: str, action: str, run: Any, ok: str, **ok_params: Any) -> Any:
        """Run a write for a form: flash the outcome, redirect back to the compound page (403 audited)."""
        u = user()
        target = request.form.get("back") or url_for("owners_org.compound_page", compound_id=compound_id)
        if not target.startswith("/ws/owners-org"):
            target = url_for("owners_org.compound_page", compound_id=compound_id)
        try:
            with context.session() as s:
                result = run(s, u)
        except Forbidden:
            resource = compound_resource(compound_id)
            denied(u, "owners_org", compound_id, resource["street_code"], action)
            abort(403)
        except UserInputError as exc:
            flash(t("owners_org.error", lang(), message=exc.message.text(lang())), "error")
            return redirect(target, code=303)
        params = {k: (v(result) if callable(v) else v) for k, v in ok_params.items()}
        flash(t(ok, lang(), **params), "ok")
        return redirect(target, code=303)

    @ws.post("/compound/<compound_id>/start")
    def start_org(compound_id: str) -> Any:
        """Set up a preparatory group (or a 物管会 the street forms)."""
        values = {"kind": request.form.get("kind"), "prep_group_on": request.form.get("prep_group_on")}
        return act(compound_id, "start", lambda s, u: service.create_org(s, u, compound_id, values, context.allowed,
                                                                         today(), settings_for(context)),
                   "owners_org.created", org_id=lambda res: res["id"])

    @ws.post("/org/<org_id>/update")
    def update_org(org_id: str) -> Any:
        """Dates, seats and party organisation of an organisation."""
        cid = org_compound(org_id)
        values = form_values((*ORG_FORM_FIELDS, "declared"))
        return act(cid, "update organisation", lambda s, u: service.update_org(
            s, u, org_id, values, context.allowed, today(), settings_for(context), request.form.get("version")),
            "owners_org.saved")

    @ws.post("/org/<org_id>/members")
    def add_member(org_id: str) -> Any:
        """A member or alternate (A1 and A3 refusals are shown on the page)."""
        cid = org_compound(org_id)
        values = form_values(MEMBER_FORM_FIELDS)
        return act(cid, "add member", lambda s, u: service.add_member(s, u, org_id, values, context.allowed, today(),
                                                                     settings_for(context)),
                   "owners_org.member_added", person=lambda res: res["person"])

    @ws.post("/member/<member_id>/update")
    def update_member(member_id: str) -> Any:
        """A member leaves (end date) or their votes change."""
        from geoplatform.models.owners_org import OrgMember

        with context.session(readonly=True) as s:
            row = s.get(OrgMember, member_id)
            if row is None:
                abort(404)
            org_id = row.org_id
        cid = org_compound(org_id)
        values = {k: request.form.get(k) for k in ("end", "votes") if k in request.form}
        return act(cid, "update member", lambda s, u: service.update_member(
            s, u, member_id, values, context.allowed, today(), settings_for(context), request.form.get("version")),
            "owners_org.saved")

    @ws.post("/org/<org_id>/fill")
    def fill(org_id: str) -> Any:
        """A4: alternates take the vacant seats by votes."""
        cid = org_compound(org_id)
        return act(cid, "fill seats", lambda s, u: service.fill_seats(s, u, org_id, context.allowed, today(),
                                                                     settings_for(context)),
                   "owners_org.filled", n=lambda res: res["filled"])

    @ws.post("/org/<org_id>/evaluations")
    def evaluate(org_id: str) -> Any:
        """A5: a half-year's 民主评议 (community officers too)."""
        cid = org_compound(org_id)
        values = {k: request.form.get(k) for k in ("period", "grade", "held_on", "rectified_on") if k in request.form}
        return act(cid, "record evaluation", lambda s, u: service.record_evaluation(
            s, u, org_id, values, context.allowed, today(), settings_for(context)),
            "owners_org.evaluation_added", period=lambda res: res["period"])

    @ws.post("/org/<org_id>/custody")
    def custody(org_id: str) -> Any:
        """A7: what the street took into custody."""
        cid = org_compound(org_id)
        values = {k: request.form.get(k) for k in ("taken_on", "note", *r.CUSTODY_ITEMS) if k in request.form}
        return act(cid, "record custody", lambda s, u: service.record_custody(
            s, u, org_id, values, context.allowed, today(), settings_for(context)), "owners_org.custody_added")

    @ws.post("/trainings")
    def training() -> Any:
        """A6: a training the street held."""
        u = user()
        street = request.form.get("street_code") or getattr(u, "street_code", None) or ""
        target = url_for("owners_org.page", street=street) if u.role in ("admin", "bureau") else url_for("owners_org.page")
        values = {"held_on": request.form.get("held_on"), "title": request.form.get("title"),
                  "audiences": request.form.getlist("audiences")}
        try:
            with context.session() as s:
                service.add_training(s, u, street, values, context.allowed, today())
        except Forbidden:
            denied(u, "training", None, street, "record training")
            abort(403)
        except UserInputError as exc:
            flash(t("owners_org.error", lang(), message=exc.message.text(lang())), "error")
            return redirect(target, code=303)
        flash(t("owners_org.training_added", lang()), "ok")
        return redirect(target, code=303)

    # ------------------------------------------------------------ API

    def as_json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, ensure_ascii=False, default=jsonable), status=status,
                        mimetype="application/json")

    def error_json(exc: UserInputError) -> Response:
        return as_json({"error": exc.message.text(lang()), **exc.message.to_json(), "status": exc.status}, exc.status)

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(400, "body must be a JSON object")
        return data

    @api.get("/check")
    def check() -> Response:
        """As `geoplatform owners-org check --json` (?street=, ?today=)."""
        u = user()
        if not context.allowed(u, "view", {"kind": "owners_org"}):
            abort(403)
        try:
            day = dt.date.fromisoformat(request.args["today"]) if request.args.get("today") else today()
        except ValueError:
            abort(400, "today must be YYYY-MM-DD")
        try:
            with context.session(readonly=True) as s:
                code = None
                if request.args.get("street"):
                    from geoplatform.streets import resolve_street

                    code = resolve_street(s, request.args["street"])
                return as_json(service.check_report(s, day, settings_for(context), code))
        except UserInputError as exc:
            return error_json(exc)

    @api.get("/streets")
    def streets() -> Response:
        """The rate from the records per street, and the compounds still needed for the target."""
        u = user()
        if not context.allowed(u, "view", {"kind": "owners_org"}):
            abort(403)
        return as_json({"today": today().isoformat(), "streets": service.street_rates(context, settings_for(context))})

    @api.get("/compounds/<compound_id>")
    def compound_json(compound_id: str) -> Response:
        """One compound's organisations with members, evaluations, custody, states and findings."""
        u = user()
        if not context.allowed(u, "view", {"kind": "owners_org", **compound_resource(compound_id)}):
            abort(403)
        with context.session(readonly=True) as s:
            return as_json(service.compound_detail(s, compound_id, today(), settings_for(context)))

    def api_write(entity: str, entity_id: str, run: Any, status: int = 200) -> Response:
        u = user()
        try:
            with context.session() as s:
                return as_json(run(s, u), status)
        except Forbidden as exc:
            denied(u, entity, entity_id, None, f"API {request.method} {request.path}")
            return error_json(exc)
        except UserInputError as exc:
            return error_json(exc)

    @api.post("/compounds/<compound_id>/orgs")
    def api_create(compound_id: str) -> Response:
        """A new organisation {kind, prep_group_on | elected_on | filed_on …}."""
        data = body()
        return api_write("owners_org", compound_id, lambda s, u: service.create_org(
            s, u, compound_id, data, context.allowed, today(), settings_for(context)), 201)

    @api.patch("/orgs/<org_id>")
    def api_update(org_id: str) -> Response:
        """Dates, seats, party organisation, declared {…, version}."""
        data = body()
        version = data.pop("version", None)
        return api_write("owners_org", org_id, lambda s, u: service.update_org(
            s, u, org_id, data, context.allowed, today(), settings_for(context), version))

    @api.post("/orgs/<org_id>/members")
    def api_member(org_id: str) -> Response:
        """A member or alternate (A1, A3 refusals: 400 naming the check or the limit)."""
        data = body()
        return api_write("org_member", org_id, lambda s, u: service.add_member(
            s, u, org_id, data, context.allowed, today(), settings_for(context)), 201)

    @api.patch("/members/<member_id>")
    def api_member_update(member_id: str) -> Response:
        """{end?, votes?, version}."""
        data = body()
        version = data.pop("version", None)
        return api_write("org_member", member_id, lambda s, u: service.update_member(
            s, u, member_id, data, context.allowed, today(), settings_for(context), version))

    @api.post("/orgs/<org_id>/fill-seats")
    def api_fill(org_id: str) -> Response:
        """A4: alternates take the vacant seats by votes."""
        return api_write("owners_org", org_id, lambda s, u: service.fill_seats(
            s, u, org_id, context.allowed, today(), settings_for(context)))

    @api.post("/orgs/<org_id>/evaluations")
    def api_evaluation(org_id: str) -> Response:
        """{period, grade, held_on?, rectified_on?}."""
        data = body()
        return api_write("org_evaluation", org_id, lambda s, u: service.record_evaluation(
            s, u, org_id, data, context.allowed, today(), settings_for(context)), 201)

    @api.post("/orgs/<org_id>/custody")
    def api_custody(org_id: str) -> Response:
        """{taken_on?, seal?, accounts?, vouchers?, archives?, note?}."""
        data = body()
        return api_write("org_custody", org_id, lambda s, u: service.record_custody(
            s, u, org_id, data, context.allowed, today(), settings_for(context)), 201)

    @api.post("/trainings")
    def api_training() -> Response:
        """{street_code, held_on, audiences?, title?}."""
        data = body()
        return api_write("training", str(data.get("street_code")), lambda s, u: service.add_training(
            s, u, str(data.get("street_code") or ""), data, context.allowed, today()), 201)

    return [ws, api]
