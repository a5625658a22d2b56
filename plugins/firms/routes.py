"""The firms plugin's HTTP surface: workspaces, published lists (print / xlsx) and /api/v1/firms.

Thin over `service`: parse the request, check the permission on the server, call the service, render.
The user comes from `flask.g.user` (plugins never import `web`); texts from the catalogues, escaped by Jinja.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

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
)

from geoplatform.audit import jsonable, record_denied
from geoplatform.errors import Forbidden, UserInputError
from geoplatform.i18n import LANGUAGES, t
from geoplatform.sqlin import in_values
from plugins.firms import rules, service
from plugins.firms.settings import settings_for

STREET_ROLES = ("street_officer", "admin", "bureau")


def make_blueprint(context: Any) -> Blueprint:
    """A blueprint bound to `context`."""
    bp = Blueprint("firms", __name__, template_folder="templates")

    def lang() -> str:
        asked = request.args.get("lang") or request.cookies.get("lang")
        return asked if asked in LANGUAGES else (context.config.language if context.config.language in LANGUAGES
                                                 else "zh")

    def user() -> Any:
        u = getattr(g, "user", None)
        if u is None:
            abort(401)
        return u

    def need(u: Any, action: str, resource: dict[str, Any]) -> None:
        if not context.allowed(u, action, resource):
            record_denied(context, u, action, str(resource.get("kind")), resource.get("id"),
                          street_code=resource.get("street_code"), detail=f"{request.method} {request.path}"[:500])
            abort(403)

    def settings() -> Any:
        return settings_for(context)

    def today() -> dt.date:
        value = request.args.get("today")
        if not value:
            return context.today
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            abort(400, t("firms.bad_date", lang(), value=value))
        if not 1900 <= day.year <= 2999:  # quarters and a year of credit events are counted back from it
            abort(400, t("firms.bad_date", lang(), value=value))
        return day

    def quarter_arg(default: str) -> str:
        q = request.values.get("quarter") or default
        try:
            rules.parse_quarter(q)
        except ValueError:
            abort(400, t("firms.bad_quarter", lang(), value=q))
        return q

    def quarters(day: dt.date, n: int = 6) -> list[str]:
        out, q = [], rules.quarter_of(day)
        for _ in range(n):
            out.append(q)
            q = rules.previous_quarter(q)
        return out

    def street_names(s: Any) -> dict[str, str]:
        from sqlalchemy import select

        from geoplatform.models import Street

        return dict(s.execute(select(Street.code, Street.name).order_by(Street.code)).all())

    def compound_names(s: Any, ids: list[str]) -> dict[str, str]:
        from sqlalchemy import select

        from geoplatform.models import Compound

        return dict(s.execute(select(Compound.id, Compound.name).where(in_values(Compound.id, ids))).all()) if ids else {}

    def api_json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, ensure_ascii=False, default=jsonable), status=status,
                        mimetype="application/json")

    def api_error(exc: UserInputError) -> Response:
        return api_json({"error": exc.message.text(lang()), "key": exc.message.key,
                         "params": exc.message.to_json()["params"], "status": exc.status}, exc.status)

    def messages() -> list[tuple[str, str]]:
        return get_flashed_messages(with_categories=True, category_filter=["firms-ok", "firms-error"])

    # ------------------------------------------------------------------ street officer
    @bp.get("/ws/firms/street")
    def street_page() -> str:
        """The street officer's firms: score them for a quarter; contracts ending and filings missing."""
        u = user()
        if u.role not in STREET_ROLES:
            abort(403)
        day = today()
        q = quarter_arg(rules.previous_quarter(rules.quarter_of(day)))
        s_ = settings()
        with context.session(readonly=True) as s:
            names = street_names(s)
            street = u.street_code if u.role == "street_officer" else (request.args.get("street") or next(iter(names), None))
            if street is not None and street not in names:
                from geoplatform.streets import resolve_street

                try:
                    street = resolve_street(s, street)
                except UserInputError as exc:
                    abort(exc.status, exc.message.text(lang()))
            if u.role == "street_officer" and request.args.get("street") not in (None, "", street):
                need(u, "score_firms", {"kind": "firm_assessment", "street_code": request.args.get("street")})
            firms = service.street_firms(s, street, day) if street else []
            scores = {c: v for _, c, v in service.assessments(s, q, street)} if street else {}
            published = bool(service.published(s, q))
            found = service.findings(context, s, day, s_, street) if street else []
            expiring = [f for f in found if f.code.startswith("contract_")]
            filings = [f for f in found if f.code == "filing_missing"]
            cnames = compound_names(s, sorted({f.compound_id for f in expiring + filings}))
            gates = service.gate(context, s, firms, day, s_)
        return render_template("firms/street.html", street=street, street_name=names.get(street, street),
                               streets=names, quarter=q, quarters=quarters(day), firms=firms, scores=scores,
                               published=published, expiring=expiring, filings=filings, cnames=cnames, gates=gates,
                               settings=s_, today=day, can_pick=u.role != "street_officer", flashes=messages())

    @bp.post("/ws/firms/street/scores")
    def street_scores() -> Response:
        """Save the street's scores of a quarter (own street only; every score checked, all or nothing)."""
        u = user()
        street = request.form.get("street") or ""
        q = request.form.get("quarter") or ""
        companies, values = request.form.getlist("company"), request.form.getlist("score")
        back = f"/ws/firms/street?street={quote(street)}&quarter={quote(q)}"
        need(u, "score_firms", {"kind": "firm_assessment", "street_code": street, "quarter": q})
        saved = []
        try:
            with context.session() as s:
                for company, value in zip(companies, values, strict=False):
                    if value.strip():
                        saved.append(service.set_score(s, u, street, q, company, value.strip(), context.today,
                                                       settings(), allowed=context.allowed))
        except Forbidden:
            abort(403)
        except UserInputError as exc:
            flash(exc.message.text(lang()), "firms-error")
            return redirect(back)
        for r in saved:
            flash(t("firms.ws.saved", lang(), company=r["company"], score=r["score"]), "firms-ok")
        return redirect(back)

    # ------------------------------------------------------------------ bureau
    def bureau_only(u: Any) -> None:
        need(u, "manage_firms", {"kind": "property_company"})

    @bp.get("/ws/firms/bureau")
    def bureau_page() -> str:
        """The registry with its gaps (查漏补缺), the quarter's lists to review and publish, blacklisting."""
        u = user()
        bureau_only(u)
        day = today()
        q = quarter_arg(rules.previous_quarter(rules.quarter_of(day)))
        s_ = settings()
        with context.session(readonly=True) as s:
            firms = service.registry(context, s, day, s_)
            found = service.findings(context, s, day, s_)
            ranking = service.rank(s, q, s_).as_dict()
            done = [service.ranking_dict(r) for r in service.published(s, q)]
            names = street_names(s)
            ambiguous = service.ambiguous_from_migration(s)
            gaps = {code: [f for f in found if f.code == code] for code in
                    ("professional_without_contract", "company_missing", "filing_missing", "disclosure_missing")}
            cnames = compound_names(s, sorted({f.compound_id for fs in gaps.values() for f in fs}
                                              | {a["compound_id"] for a in ambiguous}))
        closed = rules.quarter_bounds(q)[1] < day
        return render_template("firms/bureau.html", firms=firms, gaps=gaps, ambiguous=ambiguous, cnames=cnames,
                               ranking=ranking, published=done[0] if done else None,
                               quarter=q, quarters=quarters(day), closed=closed, streets=names, settings=s_,
                               unfiled=[f for f in firms if f["filed"] is not True], today=day, flashes=messages())

    @bp.post("/ws/firms/bureau/publish")
    def publish() -> Response:
        """Publish the quarter's lists (credit events for every listed firm)."""
        u = user()
        bureau_only(u)
        q = request.form.get("quarter") or ""
        try:
            with context.session() as s:
                service.publish(s, u, q, context.today, settings(), allowed=context.allowed)
        except Forbidden:
            abort(403)
        except UserInputError as exc:
            flash(exc.message.text(lang()), "firms-error")
        else:
            flash(t("firms.ws.publish_done", lang(), quarter=q), "firms-ok")
        return redirect(f"/ws/firms/bureau?quarter={quote(q)}")

    @bp.post("/ws/firms/bureau/blacklist")
    def blacklist() -> Response:
        """Blacklist a firm (or lift it); the compounds it serves are listed back."""
        u = user()
        bureau_only(u)
        company = request.form.get("company") or ""
        lift = request.form.get("action") == "lift"
        try:
            with context.session() as s:
                result = service.blacklist(s, u, company, context.today, settings(), lift=lift,
                                           note=(request.form.get("note") or "")[:500], allowed=context.allowed)
        except Forbidden:
            abort(403)
        except UserInputError as exc:
            flash(exc.message.text(lang()), "firms-error")
        else:
            if lift:
                flash(t("firms.ws.lift_done", lang(), company=company), "firms-ok")
            else:
                flash(t("firms.ws.blacklist_done", lang(), company=company,
                        compounds="、".join(c["name"] for c in result["compounds"]) or t("firms.ws.none", lang())),
                      "firms-ok")
        return redirect("/ws/firms/bureau#firms-registry")

    # ------------------------------------------------------------------ published lists (everyone)
    def published_or_404(q: str) -> dict[str, Any]:
        with context.session(readonly=True) as s:
            rows = [service.ranking_dict(r) for r in service.published(s, q)]
        if not rows:
            abort(404, t("firms.ws.not_published", lang(), quarter=q))
        return rows[0]

    @bp.get("/firms/lists")
    def lists_page() -> str:
        """The published 好评榜 / 差评榜 (every role)."""
        u = user()
        need(u, "view", {"kind": "firm_ranking"})
        with context.session(readonly=True) as s:
            done = [service.ranking_dict(r) for r in service.published(s)]
            names = street_names(s)
        q = request.args.get("quarter") or (done[0]["quarter"] if done else None)
        current = next((r for r in done if r["quarter"] == q), None)
        if q is not None and current is None and done:
            abort(404, t("firms.ws.not_published", lang(), quarter=q))
        return render_template("firms/lists.html", done=done, current=current, streets=names)

    @bp.get("/firms/lists/<quarter>/print")
    def lists_print(quarter: str) -> str:
        """A printable page of one published quarter."""
        u = user()
        need(u, "view", {"kind": "firm_ranking"})
        ranking = published_or_404(quarter)
        with context.session(readonly=True) as s:
            names = street_names(s)
        return render_template("firms/print.html", r=ranking, streets=names)

    @bp.get("/firms/lists/<quarter>.xlsx")
    def lists_xlsx(quarter: str) -> Response:
        """One published quarter as a spreadsheet with Chinese headers (English with ?lang=en)."""
        from plugins.firms.export import lists_xlsx_bytes

        u = user()
        need(u, "export", {"kind": "firm_ranking"})
        ranking = published_or_404(quarter)
        with context.session(readonly=True) as s:
            names = street_names(s)
        body = lists_xlsx_bytes([ranking], names, lang())
        return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=firms-{quarter}.xlsx"})

    # ------------------------------------------------------------------ API
    @bp.get("/api/v1/firms/check")
    def api_check() -> Response:
        """As `geoplatform firms check --json` (?today=YYYY-MM-DD); a street officer gets their street's."""
        u = user()
        need(u, "view", {"kind": "service_contract"})
        street = u.street_code if u.role == "street_officer" else None
        with context.session(readonly=True) as s:
            return api_json(service.check_payload(context, s, today(), settings(), street))

    @bp.get("/api/v1/firms/rank")
    def api_rank() -> Response:
        """As `geoplatform firms rank --quarter Q --json`: published quarters for everyone, drafts for the bureau."""
        u = user()
        q = request.args.get("quarter") or ""
        try:
            with context.session(readonly=True) as s:
                done = service.published(s, service.quarter_or_error(q))
                if done:
                    need(u, "view", {"kind": "firm_ranking"})
                    return api_json(service.ranking_dict(done[0]))
                need(u, "view", {"kind": "firm_ranking_draft", "restricted": True})
                return api_json(service.rank(s, q, settings()).as_dict())
        except UserInputError as exc:
            return api_error(exc)

    @bp.get("/api/v1/firms/registry")
    def api_registry() -> Response:
        """Every firm with its filing, credit as of today and the gate."""
        u = user()
        need(u, "view", {"kind": "property_company"})
        with context.session(readonly=True) as s:
            return api_json({"today": today().isoformat(), "firms": service.registry(context, s, today(), settings())})

    @bp.post("/api/v1/firms/assessments")
    def api_score() -> Response:
        """{street_code, quarter, company, score}: a street's score of a firm (own street only)."""
        u = user()
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) - {"street_code", "quarter", "company", "score"}:
            abort(400, "expected JSON {street_code, quarter, company, score}")
        street = str(body.get("street_code") or "")
        need(u, "score_firms", {"kind": "firm_assessment", "street_code": street})
        try:
            with context.session() as s:
                return api_json(service.set_score(s, u, street, str(body.get("quarter") or ""),
                                                  str(body.get("company") or ""), body.get("score"), context.today,
                                                  settings(), allowed=context.allowed))
        except UserInputError as exc:
            return api_error(exc)

    return bp
