"""The governance blueprint: workspaces (/ws/governance/…) and the API (/api/v1/governance/…).

Thin over `service`: a route parses the request (one parser for forms and JSON), calls the service and
formats the answer. Jurisdiction is checked on the server by the service (`edit_governance` through
`Context.allowed`) and by `service.scope_for` for reads; a refused attempt is audited. Errors are the
service's `UserInputError`s: JSON `{"error", "key", "params", "status"}` for the API, a flash message
and a redirect back for the pages. Plugins never import `web`: the user is `flask.g.user`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable
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

from geoplatform.audit import jsonable, record_denied
from geoplatform.errors import Forbidden, UserInputError
from geoplatform.i18n import LANGUAGES, t

PAGES = ("community", "street", "bureau")


def make_blueprint(context: Any) -> Blueprint:
    """A blueprint bound to `context`."""
    from plugins.governance import hooks, rules, service
    from plugins.governance.settings import CATEGORIES, RECIPIENTS, settings_for

    bp = Blueprint("governance", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/governance/static")

    # ---------------------------------------------------------------- helpers
    def _lang() -> str:
        lang = getattr(g, "lang", None) or request.args.get("lang") or request.cookies.get("lang") \
            or getattr(context.config, "language", None)
        return lang if lang in LANGUAGES else "zh"

    def _user() -> Any:
        user = getattr(g, "user", None)
        if user is None:
            abort(401)
        return user

    def _json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, ensure_ascii=False, default=jsonable), status=status,
                        mimetype="application/json")

    def _settings() -> Any:
        return settings_for(context)

    def _today() -> dt.date:
        return context.today

    def _now() -> dt.datetime:
        return hooks.local_now(_settings())

    @bp.app_template_filter("governance_recipient")
    def _recipient(value: str) -> str:
        return t(f"recipient.{value}", _lang())

    @bp.errorhandler(UserInputError)
    def _error(exc: UserInputError) -> Response:
        if isinstance(exc, Forbidden) and getattr(g, "user", None) is not None:
            record_denied(context, g.user, "edit_governance", "governance", request.path[:128],
                          street_code=getattr(g.user, "street_code", None), detail=f"{request.method} {request.path}")
        text = exc.message.text(_lang())
        if request.path.startswith("/api/"):
            return _json({"error": text, **exc.message.to_json(), "status": exc.status}, exc.status)
        if request.method == "GET":
            return Response(render_template("governance/error.html", message=text, status=exc.status),
                            status=exc.status, mimetype="text/html")
        flash(t("governance.error", _lang(), message=text), "error")
        return redirect(_back(), code=303)

    def _back() -> str:
        nxt = request.form.get("next") or request.args.get("next") or ""
        if nxt.startswith("/ws/governance") and "//" not in nxt and "\\" not in nxt:
            return nxt
        return url_for("governance.home")

    # ---------------------------------------------------------------- parsing (forms and JSON alike)
    def _date(v: Any, name: str) -> dt.date | None:
        if v in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(str(v)[:10])
        except ValueError:
            raise UserInputError("governance.error.bad_date", field=name, value=str(v)[:40]) from None

    def _int(v: Any, name: str) -> int | None:
        if v in (None, ""):
            return None
        try:
            return int(str(v))
        except ValueError:
            raise UserInputError("governance.error.bad_number", field=name, value=str(v)[:40]) from None

    def _str(v: Any, name: str) -> str | None:
        return None if v is None else str(v)

    def _raw(v: Any, name: str) -> Any:
        return v

    parsers: dict[str, Callable[[Any, str], Any]] = {"date": _date, "int": _int, "str": _str, "raw": _raw}

    def _data(spec: dict[str, str]) -> dict[str, Any]:
        if request.is_json:
            src = request.get_json(silent=True)
            if not isinstance(src, dict):
                raise UserInputError("governance.error.required", field="JSON object")
        else:
            src = {k: v for k, v in request.form.items() if k not in ("csrf_token", "next")}
        unknown = sorted(set(src) - set(spec))
        if unknown:
            raise UserInputError("governance.error.unknown_fields", fields=", ".join(unknown))
        return {k: parsers[kind](src.get(k), k) for k, kind in spec.items()}

    def _write(fn: Callable[[Any, Any], Any]) -> Any:
        user = _user()
        with context.session() as s:
            return fn(s, user)

    # ---------------------------------------------------------------- actions (one table for forms and the API)
    def act_problem(d: dict[str, Any]) -> tuple[Any, str, dict]:
        out = _write(lambda s, u: service.create_problem(s, u, context.allowed, d, _today()))
        return out, "governance.ok.problem", {"id": out["id"]}

    def act_state(d: dict[str, Any], problem_id: str) -> tuple[Any, str, dict]:
        out = _write(lambda s, u: service.set_problem_state(s, u, context.allowed, problem_id, d["state"], _today(),
                                                            d["on"], d["version"], d["note"]))
        return out, "governance.ok.state", {"id": problem_id, "state": t(f"problem_state.{out['state']}", _lang())}

    def act_dissuasion(d: dict[str, Any]) -> tuple[Any, str, dict]:
        reports = {r: d[f"reported_{r}_at"] for r in RECIPIENTS}
        out = _write(lambda s, u: service.record_dissuasion(s, u, context.allowed, d["problem_id"] or "",
                                                            d["failed_at"], reports, d["note"], _now()))
        return out, "governance.ok.dissuasion", {}

    def act_reports(d: dict[str, Any], dissuasion_id: int) -> tuple[Any, str, dict]:
        reports = {r: d[f"reported_{r}_at"] for r in RECIPIENTS}
        out = _write(lambda s, u: service.record_reports(s, u, context.allowed, dissuasion_id, reports, d["version"],
                                                         _now()))
        return out, "governance.ok.reports", {}

    def act_mediation(d: dict[str, Any]) -> tuple[Any, str, dict]:
        out = _write(lambda s, u: service.open_mediation(s, u, context.allowed, d["compound_id"] or "", d["opened_on"],
                                                         _today(), _settings(), d["subject"]))
        return out, "governance.ok.mediation", {"id": out["id"]}

    def act_escalate(d: dict[str, Any], mediation_id: str) -> tuple[Any, str, dict]:
        out = _write(lambda s, u: service.escalate_mediation(s, u, context.allowed, mediation_id, d["on"], _today(),
                                                             _settings(), d["version"]))
        return out, "governance.ok.escalated", {"id": out["id"], "stage": t(f"mediation_stage.{out['stage']}", _lang())}

    def act_close(d: dict[str, Any], mediation_id: str) -> tuple[Any, str, dict]:
        out = _write(lambda s, u: service.close_mediation(s, u, context.allowed, mediation_id, d["outcome"],
                                                          d["closed_on"], _today(), _settings(), d["version"]))
        return out, "governance.ok.closed", {"id": mediation_id}

    def act_meeting(d: dict[str, Any]) -> tuple[Any, str, dict]:
        out = _write(lambda s, u: service.record_meeting(s, u, context.allowed, d["community_code"] or "",
                                                         d["held_on"], d["kind"] or "tripartite", _today()))
        return out, "governance.ok.meeting", {}

    def act_case(d: dict[str, Any]) -> tuple[Any, str, dict]:
        out = _write(lambda s, u: service.record_case(s, u, context.allowed, d["community_code"] or "", d["year"],
                                                      d["title"], d["published_on"], _today()))
        return out, "governance.ok.case", {}

    def act_pilot(d: dict[str, Any]) -> tuple[Any, str, dict]:
        out = _write(lambda s, u: service.set_pilot(s, u, context.allowed, d["year"], d["community_code"] or "",
                                                    _today()))
        return out, "governance.ok.pilot", {}

    report_fields = {f"reported_{r}_at": "raw" for r in RECIPIENTS}
    actions: dict[str, tuple[dict[str, str], Callable[..., tuple[Any, str, dict]]]] = {
        "problems": ({"id": "str", "compound_id": "str", "category": "str", "source": "str", "company": "str",
                      "found_on": "date", "rectify_by": "date", "note": "str"}, act_problem),
        "problem_state": ({"state": "str", "on": "date", "version": "int", "note": "str"}, act_state),
        "dissuasions": ({"problem_id": "str", "failed_at": "raw", **report_fields, "note": "str"}, act_dissuasion),
        "reports": ({**report_fields, "version": "int"}, act_reports),
        "mediations": ({"compound_id": "str", "opened_on": "date", "subject": "str"}, act_mediation),
        "escalate": ({"on": "date", "version": "int"}, act_escalate),
        "close": ({"outcome": "str", "closed_on": "date", "version": "int"}, act_close),
        "meetings": ({"community_code": "str", "held_on": "date", "kind": "str"}, act_meeting),
        "cases": ({"community_code": "str", "year": "int", "title": "str", "published_on": "date"}, act_case),
        "pilots": ({"year": "int", "community_code": "str"}, act_pilot),
    }

    def _api(name: str, *args: Any) -> Response:
        spec, fn = actions[name]
        out, _, _ = fn(_data(spec), *args)
        return _json(out, 201 if name in ("problems", "dissuasions", "mediations", "meetings", "cases", "pilots",
                                          "escalate") else 200)

    def _form(name: str, *args: Any) -> Response:
        spec, fn = actions[name]
        _, key, params = fn(_data(spec), *args)
        flash(t(key, _lang(), **params), "ok")
        return redirect(_back(), code=303)

    # ---------------------------------------------------------------- API
    @bp.get("/api/v1/governance/check")
    def api_check() -> Response:
        """As `geoplatform governance check --json` (scoped to the caller's community/street for officers)."""
        user = _user()
        if not context.allowed(user, "view", {"kind": "governance"}):
            abort(403)
        today = _date(request.args.get("today"), "today") or _today()
        with context.session(readonly=True) as s:
            scope = _read_scope(s, user)
            data = service.check(s, today, hooks.as_of(today, _settings(), _now()), _settings(),
                                 hooks.org_lookup(context), scope)
        return _json(data)

    def _read_scope(s: Any, user: Any) -> Any:
        street, community = request.args.get("street") or None, request.args.get("community") or None
        if getattr(user, "role", None) in service.WORKSPACE_ROLES:
            return service.scope_for(s, user, street, community)
        from geoplatform.streets import resolve_street

        return service.Scope(resolve_street(s, street) if street else None, community)

    @bp.get("/api/v1/governance/problems")
    def api_problems() -> Response:
        """The problems of the caller's scope with their class and allowed next states."""
        user = _user()
        if not context.allowed(user, "view", {"kind": "governance"}):
            abort(403)
        with context.session(readonly=True) as s:
            rec = service.load(s, _read_scope(s, user))
        return _json({"problems": service.problem_rows(rec, _today(), _settings())})

    @bp.get("/api/v1/governance/mediations")
    def api_mediations() -> Response:
        """The mediation stages of the caller's scope with due dates and overdue flags."""
        user = _user()
        if not context.allowed(user, "view", {"kind": "governance"}):
            abort(403)
        with context.session(readonly=True) as s:
            rec = service.load(s, _read_scope(s, user))
        rows = [{k: v for k, v in x.items() if k != "_status"} for x in service.mediation_rows(rec, _today(),
                                                                                             _settings())]
        return _json({"mediations": rows})

    bp.add_url_rule("/api/v1/governance/problems", "api_problems_post", lambda: _api("problems"), methods=["POST"])
    bp.add_url_rule("/api/v1/governance/problems/<problem_id>/state", "api_problem_state",
                    lambda problem_id: _api("problem_state", problem_id), methods=["POST"])
    bp.add_url_rule("/api/v1/governance/dissuasions", "api_dissuasions", lambda: _api("dissuasions"), methods=["POST"])
    bp.add_url_rule("/api/v1/governance/dissuasions/<int:dissuasion_id>/reports", "api_reports",
                    lambda dissuasion_id: _api("reports", dissuasion_id), methods=["POST"])
    bp.add_url_rule("/api/v1/governance/mediations", "api_mediations_post", lambda: _api("mediations"),
                    methods=["POST"])
    bp.add_url_rule("/api/v1/governance/mediations/<mediation_id>/escalate", "api_escalate",
                    lambda mediation_id: _api("escalate", mediation_id), methods=["POST"])
    bp.add_url_rule("/api/v1/governance/mediations/<mediation_id>/close", "api_close",
                    lambda mediation_id: _api("close", mediation_id), methods=["POST"])
    for name in ("meetings", "cases", "pilots"):
        bp.add_url_rule(f"/api/v1/governance/{name}", f"api_{name}", (lambda n: lambda: _api(n))(name),
                        methods=["POST"])

    # ---------------------------------------------------------------- workspace forms (POST → redirect back)
    bp.add_url_rule("/ws/governance/do/problems", "do_problems", lambda: _form("problems"), methods=["POST"])
    bp.add_url_rule("/ws/governance/do/problems/<problem_id>/state", "do_problem_state",
                    lambda problem_id: _form("problem_state", problem_id), methods=["POST"])
    bp.add_url_rule("/ws/governance/do/dissuasions", "do_dissuasions", lambda: _form("dissuasions"), methods=["POST"])
    bp.add_url_rule("/ws/governance/do/dissuasions/<int:dissuasion_id>/reports", "do_reports",
                    lambda dissuasion_id: _form("reports", dissuasion_id), methods=["POST"])
    bp.add_url_rule("/ws/governance/do/mediations", "do_mediations", lambda: _form("mediations"), methods=["POST"])
    bp.add_url_rule("/ws/governance/do/mediations/<mediation_id>/escalate", "do_escalate",
                    lambda mediation_id: _form("escalate", mediation_id), methods=["POST"])
    bp.add_url_rule("/ws/governance/do/mediations/<mediation_id>/close", "do_close",
                    lambda mediation_id: _form("close", mediation_id), methods=["POST"])
    for name in ("meetings", "cases", "pilots"):
        bp.add_url_rule(f"/ws/governance/do/{name}", f"do_{name}", (lambda n: lambda: _form(n))(name),
                        methods=["POST"])

    # ---------------------------------------------------------------- pages
    @bp.get("/ws/governance")
    def home() -> Response:
        """The user's own page: community officer → community, street officer → street, bureau/admin → bureau."""
        role = getattr(_user(), "role", None)
        page = {"community_officer": "community", "street_officer": "street"}.get(role, "bureau")
        if role not in service.WORKSPACE_ROLES:
            abort(403)
        return redirect(url_for(f"governance.{page}"))

    def _page_data(s: Any, scope: Any) -> dict[str, Any]:
        settings, today, now = _settings(), _today(), _now()
        as_of = hooks.as_of(today, settings, now)
        rec = service.load(s, scope)
        told = service.org_told(rec, hooks.org_lookup(context), settings)
        reports = service.report_rows(rec, told, as_of, settings)
        meds = service.mediation_rows(rec, today, settings)
        problems = service.problem_rows(rec, today, settings)
        pilots = service.pilot_rows(rec, today, settings)
        found = service.findings(rec, told, today, as_of, settings)
        if scope.community_code:
            found = [f for f in found if f["code"] != "pilot_missing"]
        names = {cid: c["name"] for cid, c in rec.compounds.items()}
        return {"today": today, "now": now, "rec": rec, "reports": reports, "mediations": meds, "problems": problems,
                "pilots": pilots, "findings": found, "names": names, "settings": settings,
                "alarm24": [r for r in reports if r["late"] or r["pending"]],
                "alarm30": sorted([x for x in meds if x["open"] and x["due"] is not None
                                   and (x["days_left"] is not None and x["days_left"] <= 7)],
                                  key=lambda x: x["days_left"])}

    def _render(page: str, **data: Any) -> str:
        flashes = get_flashed_messages(with_categories=True)
        return render_template(f"governance/{page}.html", page=page, flashes=flashes, categories=CATEGORIES,
                               recipients=RECIPIENTS, stages=rules.STAGES, next_path=request.full_path.rstrip("?"),
                               **data)

    @bp.get("/ws/governance/community")
    def community() -> Any:
        """The community officer's page: record problems, dissuasions, meetings, cases; community mediation."""
        user = _user()
        with context.session(readonly=True) as s:
            scope = service.scope_for(s, user, None, request.args.get("community") or None)
            if not scope.community_code:
                return redirect(url_for("governance.street", street=scope.street_code) if scope.street_code
                                else url_for("governance.bureau"))
            data = _page_data(s, scope)
            from sqlalchemy import select

            from geoplatform import models as m

            compounds = [dict(r) for r in s.execute(
                select(m.Compound.id, m.Compound.name, m.Compound.company.label("property_company"))
                .where(m.Compound.community_code == scope.community_code).order_by(m.Compound.name)).mappings()]
            community_row = s.get(m.Community, scope.community_code)
            community_name = community_row.name
            street_row = s.get(m.Street, community_row.street_code)
            street_name = street_row.name if street_row else ""
            meetings = [x for x in data["rec"].meetings if x["community_code"] == scope.community_code]
            cases = [x for x in data["rec"].cases if x["community_code"] == scope.community_code]
        return _render("community", scope=scope, compounds=compounds, community=community_name,
                       street=street_name, meetings=meetings, cases=cases,
                       year=_today().year, **data)

    @bp.get("/ws/governance/street")
    def street() -> Any:
        """The street officer's page: follow up problems, escalate mediations, the 24 h and 30-day alarms."""
        user = _user()
        if getattr(user, "role", None) == "community_officer":
            return redirect(url_for("governance.community"))
        with context.session(readonly=True) as s:
            scope = service.scope_for(s, user, request.args.get("street") or None, None)
            if not scope.street_code:
                return redirect(url_for("governance.bureau"))
            scope = service.Scope(scope.street_code, None)
            data = _page_data(s, scope)
            from geoplatform import models as m

            street_name = s.get(m.Street, scope.street_code).name
        communities = sorted(data["rec"].communities.items(), key=lambda kv: kv[0])
        return _render("street", scope=scope, street=street_name, communities=communities,
                       year=_today().year, **data)

    @bp.get("/ws/governance/bureau")
    def bureau() -> Any:
        """The bureau's page: per-street trends, pilot compliance, the district mediation centre's queue."""
        user = _user()
        if getattr(user, "role", None) not in ("admin", "bureau"):
            abort(403)
        with context.session(readonly=True) as s:
            data = _page_data(s, service.Scope())
        return _render("bureau", trends=trends(data, _today()), compliance=compliance(data),
                       queue=[x for x in data["mediations"] if x["stage"] == "administrative" and x["open"]],
                       counts=Counter(f["code"] for f in data["findings"]), codes=rules.CODES, **data)

    return bp


def months_back(today: dt.date, n: int = 12) -> list[str]:
    """The last `n` months as YYYY-MM, oldest first (the current month last)."""
    out, y, mth = [], today.year, today.month
    for _ in range(n):
        out.append(f"{y:04d}-{mth:02d}")
        y, mth = (y, mth - 1) if mth > 1 else (y - 1, 12)
    return out[::-1]


def trends(data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """Per street: problems found per month (last 12), open, overdue, refused, reports on time, mediations past due."""
    months = months_back(today)
    per: dict[str, dict[str, Any]] = {code: {"code": code, "name": name, "months": dict.fromkeys(months, 0),
                                             "open": 0, "overdue": 0, "refused": 0, "reports": 0, "on_time": 0,
                                             "mediation_overdue": 0}
                                      for code, name in data["rec"].streets.items()}
    for p in data["problems"]:
        row = per.get(p["street_code"])
        if row is None:
            continue
        key = f"{p['found_on']:%Y-%m}"
        if key in row["months"]:
            row["months"][key] += 1
        row["open"] += p["class"] in ("open", "rectifying", "overdue")
        row["overdue"] += p["class"] == "overdue"
        row["refused"] += p["class"] == "refused"
    for r in data["reports"]:
        row = per.get(r["street_code"])
        if row is not None and r["on_time"] is not None:
            row["reports"] += 1
            row["on_time"] += bool(r["on_time"])
    for x in data["mediations"]:
        row = per.get(x["street_code"])
        if row is not None:
            row["mediation_overdue"] += x["overdue"]
    peak = max([n for row in per.values() for n in row["months"].values()] + [1])
    rows = list(per.values())
    for row in rows:
        row["rate"] = None if not row["reports"] else round(100 * row["on_time"] / row["reports"])
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        for k, n in row["months"].items():
            totals[k] += n
    return {"months": months, "rows": rows, "peak": peak, "totals": dict(totals)}


def compliance(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per street: its pilots with the status shown (ok / short / progress), and streets without one."""
    by_street = defaultdict(list)
    for p in data["pilots"]:
        by_street[p["street_code"]].append(p)
    missing = {f["street_code"]: f["period"] for f in data["findings"] if f["code"] == "pilot_missing"}
    out = []
    for code, name in data["rec"].streets.items():
        pilots = sorted(by_street.get(code, []), key=lambda p: p["year"], reverse=True)
        p = pilots[0] if pilots else None
        status = None if p is None else ("short" if p["findings"] else ("ok" if p["year_ended"] else "progress"))
        out.append({"street_code": code, "street_name": name, "pilot": p, "status": status,
                    "missing": missing.get(code)})
    return out
