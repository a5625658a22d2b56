"""HTTP security cases (Flask test client) on SpatiaLite and PostGIS: authn, jurisdiction, CSRF, input, audit."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint

from geoplatform import auth
from geoplatform import models as m
from geoplatform.principal import Principal
from tests.security.conftest import (
    PASSWORD,
    audit_events,
    compound_row,
    csrf_of,
    logged_in,
    login,
    make_user,
    new_token,
    patch_json,
    pick_compounds,
    random_addr,
)


def _officer(p: dict) -> str:
    return f"officer_{p['a_street']}"


def test_anonymous_api_gets_401_json(client, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    for method, url in (("get", "/api/v1/me"), ("get", "/api/v1/audit"),
                        ("patch", f"/api/v1/compounds/{p['a']}"), ("get", f"/api/v1/handovers/{p['a']}/water")):
        r = getattr(client, method)(url, json={"households": 1, "version": 1} if method == "patch" else None)
        assert r.status_code == 401, url
        assert r.is_json and r.get_json()["status"] == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert compound_row(sec_ctx, p["a"])["households"] != 1 or True  # nothing written: checked via audit below
    assert not [e for e in audit_events(sec_ctx, entity="compound", entity_id=p["a"]) if e["user"] == "anonymous"]


def test_anonymous_page_redirects_to_login(app, client) -> None:  # noqa: ANN001
    bp = Blueprint("somepage", __name__)
    bp.add_url_rule("/some/page", "page", lambda: "secret page")
    app.register_blueprint(bp)
    r = client.get("/some/page?x=1")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")
    assert "secret page" not in r.get_data(as_text=True)


def test_plugin_route_without_login_is_refused(sec_ctx) -> None:  # noqa: ANN001
    """A plugin blueprint (register_routes) is login-protected without doing anything itself."""
    from geoplatform.hookspecs import hookimpl
    from web.app import create_app

    plugin_bp = Blueprint("evilplugin", __name__, url_prefix="/plugins/evil")
    plugin_bp.add_url_rule("/data", "data", lambda: {"secret": 42})
    plugin_bp.add_url_rule("/api/thing", "thing", lambda: {"secret": 43})

    class RoutesPlugin:
        @hookimpl
        def register_routes(self, context):  # noqa: ANN001, ANN201
            return [plugin_bp]

    sec_ctx.pm.register(RoutesPlugin(), name="routes_test")
    app = create_app(sec_ctx)
    if "evilplugin.data" not in app.view_functions:  # the app factory mounts plugin routes (web map issue)
        app.register_blueprint(plugin_bp)
    anon = app.test_client()
    r = anon.get("/plugins/evil/data")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert b"42" not in r.data
    viewer = logged_in(app, "viewer")
    assert viewer.get("/plugins/evil/data").get_json() == {"secret": 42}


def test_login_rotates_the_session_and_logout_revokes_it_server_side(app, sec_ctx) -> None:  # noqa: ANN001
    c = app.test_client()
    anon_csrf = csrf_of(c)
    r = login(c, "viewer")
    assert r.status_code == 302
    cookie = c.get_cookie("geoplatform_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    with c.session_transaction() as sess:
        assert sess["csrf"] != anon_csrf  # fresh CSRF token, fresh session id
        sid = sess["sid"]
    assert c.get("/api/v1/me").get_json()["name"] == "viewer"
    stolen = cookie.value
    r = c.post("/logout", data={"csrf_token": csrf_of(c)}, headers={"Origin": "http://localhost"})
    assert r.status_code == 302
    assert c.get("/api/v1/me").status_code == 401
    # replaying the old cookie (as a thief would) does not bring the session back
    thief = app.test_client()
    thief.set_cookie("geoplatform_session", stolen)
    assert thief.get("/api/v1/me").status_code == 401
    from geoplatform import auth

    with sec_ctx.session(readonly=True) as s:
        assert auth.user_for_session(s, sid) is None


def test_logout_by_get_does_not_log_out(app) -> None:  # noqa: ANN001
    c = logged_in(app, "viewer")
    assert c.get("/logout").status_code == 200
    assert c.get("/api/v1/me").status_code == 200


def test_wrong_password_is_refused_and_audited(app, sec_ctx) -> None:  # noqa: ANN001
    c = app.test_client()
    addr = random_addr()
    r = login(c, "bureau", "wrong-password", addr=addr)
    assert r.status_code == 401
    assert c.get("/api/v1/me").status_code == 401
    events = audit_events(sec_ctx, entity="user", entity_id="bureau", outcome="denied", action="login")
    assert events and events[0]["detail"] == f"bad credentials · POST /login · {addr}"  # what, where from


LONG_DELAYS = {"delay_seconds": 600, "max_delay_seconds": 600, "max_addr_delay_seconds": 600}  # no test outlives them


def test_guessing_slows_the_guesser_never_locks_the_account(app, sec_ctx) -> None:  # noqa: ANN001
    sec_ctx.config.rules["auth"] = LONG_DELAYS  # config [rules.auth]: a delay no test outlives, so nothing is timed
    name = make_user(sec_ctx)
    c = app.test_client()
    addr = random_addr()
    codes = [login(c, name, f"guess-{i}", addr=addr).status_code for i in range(5)]
    assert codes == [401] * 5
    r = login(c, name, PASSWORD, addr=addr)  # from the guessing address: wait, even with the right password
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 600
    assert c.get("/api/v1/me").status_code == 401
    # the account is not locked: its owner at another address gets in (it was a 15-minute lockout for everybody)
    assert login(app.test_client(), name, PASSWORD, addr=random_addr()).status_code == 302


def test_a_flood_of_failures_never_keeps_the_right_password_out_past_the_cap(app, sec_ctx) -> None:  # noqa: ANN001
    """200 failures from everywhere, the last one a cap ago (the clock is the failures' recorded time): the owner
    gets in — from the guessing address too."""
    name = make_user(sec_ctx)
    addr = random_addr()
    past = m.utcnow() - dt.timedelta(seconds=auth.THROTTLE.max_delay_seconds + 1)
    with sec_ctx.session() as s:
        for i in range(200):
            auth.record_failure(s, name, addr if i % 2 else random_addr(), at=past)
    assert login(app.test_client(), name, PASSWORD, addr=addr).status_code == 302


def test_a_nat_full_of_failures_does_not_lock_its_colleagues_out(app, sec_ctx) -> None:  # noqa: ANN001
    """150 failures on other accounts from one address (an office behind NAT) a few seconds ago: a colleague at
    that address signs in (one address used to lock every account after 20 failures)."""
    nat = random_addr()
    name = make_user(sec_ctx)
    past = m.utcnow() - dt.timedelta(seconds=auth.THROTTLE.max_addr_delay_seconds + 1)
    with sec_ctx.session() as s:
        for i in range(150):
            auth.record_failure(s, f"nobody{i}", nat, at=past)
    assert login(app.test_client(), name, PASSWORD, addr=nat).status_code == 302


def test_many_names_from_one_address_slow_that_address(app, sec_ctx) -> None:  # noqa: ANN001
    sec_ctx.config.rules["auth"] = {"max_per_addr": 6, **LONG_DELAYS}  # config [rules.auth] (default 100)
    addr = random_addr()
    c = app.test_client()
    codes = [login(c, f"nobody{i}", "x" * 10, addr=addr).status_code for i in range(7)]
    assert codes[:6] == [401] * 6 and codes[6] == 429
    name = make_user(sec_ctx)
    assert login(c, name, PASSWORD, addr=addr).status_code == 429
    assert login(app.test_client(), name, PASSWORD, addr=random_addr()).status_code == 302


def test_disabled_user_loses_session_and_token(app, sec_ctx) -> None:  # noqa: ANN001
    from geoplatform import auth

    name = make_user(sec_ctx)
    token = new_token(sec_ctx, name)
    c = logged_in(app, name)
    assert c.get("/api/v1/me").status_code == 200
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with sec_ctx.session() as s:
        auth.set_disabled(s, name, True)
    assert c.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(app.test_client(), name, addr=random_addr()).status_code == 401
    with sec_ctx.session() as s:
        auth.set_disabled(s, name, False)
    assert c.get("/api/v1/me").status_code == 401  # enabling does not revive old sessions or tokens
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(app.test_client(), name, addr=random_addr()).status_code == 302


def test_bearer_token_authenticates_pages_and_api_without_csrf(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    bp = Blueprint("tokpage", __name__)
    bp.add_url_rule("/token/page", "page", lambda: "<p>page for token users</p>")
    app.register_blueprint(bp)
    token = new_token(sec_ctx, _officer(p))
    h = {"Authorization": f"Bearer {token}"}
    c = app.test_client()
    assert c.get("/token/page", headers=h).status_code == 200
    assert c.get("/api/v1/me", headers=h).get_json()["name"] == _officer(p)
    v = compound_row(sec_ctx, p["a"])["version"]
    r = c.patch(f"/api/v1/compounds/{p['a']}", json={"households": 321, "version": v}, headers=h)
    assert r.status_code == 200, r.get_json()
    assert compound_row(sec_ctx, p["a"])["households"] == 321
    bad = c.get("/api/v1/me", headers={"Authorization": "Bearer gp_not-a-real-token"})
    assert bad.status_code == 401
    assert c.get("/token/page", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_token_use_is_recorded_to_the_minute_without_a_write_per_call(app, sec_ctx) -> None:  # noqa: ANN001
    import datetime as dt

    from sqlalchemy import select, update

    from geoplatform import models as m
    from geoplatform.auth import TOKEN_USE_GRANULARITY, sha256

    p = pick_compounds(sec_ctx)
    token = new_token(sec_ctx, _officer(p))
    where = m.ApiToken.token_hash == sha256(token)

    def last_used() -> dt.datetime | None:
        with sec_ctx.session(readonly=True) as s:
            return s.execute(select(m.ApiToken.last_used_at).where(where)).scalar_one()

    assert last_used() is None
    c, h = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert c.get("/api/v1/me", headers=h).status_code == 200
    first = last_used()
    assert first is not None and abs(m.utcnow() - first) < dt.timedelta(minutes=1)
    assert c.get("/api/v1/me", headers=h).status_code == 200
    assert last_used() == first  # within the minute: the read stays a read
    old = first - TOKEN_USE_GRANULARITY - dt.timedelta(seconds=5)
    with sec_ctx.session() as s:
        s.execute(update(m.ApiToken).where(where).values(last_used_at=old))
    assert c.get("/api/v1/me", headers=h).status_code == 200
    assert last_used() > old
    assert c.get("/api/v1/me", headers={"Authorization": "Bearer gp_unknown"}).status_code == 401


def test_cross_street_write_is_refused_and_audited(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    before = compound_row(sec_ctx, p["b"])
    c = logged_in(app, _officer(p))
    r = patch_json(c, f"/api/v1/compounds/{p['b']}", {"households": 7, "version": before["version"]})
    assert r.status_code == 403
    assert compound_row(sec_ctx, p["b"]) == before
    denied = audit_events(sec_ctx, entity="compound", entity_id=p["b"], outcome="denied")
    assert denied and denied[0]["user"] == _officer(p) and denied[0]["action"] == "edit_compound"
    assert denied[0]["street_code"] == p["b_street"]


def test_geometry_moved_into_another_street_is_refused(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    c = logged_in(app, _officer(p))
    row = compound_row(sec_ctx, p["a"])
    away = {"type": "Point", "coordinates": [p["b_point"].x, p["b_point"].y]}
    r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"location": away, "version": row["version"]})
    assert r.status_code == 403
    ring = p["b_point"].buffer(0.001).exterior.coords
    poly = {"type": "Polygon", "coordinates": [[list(xy) for xy in ring]]}
    r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"boundary": poly, "version": row["version"]})
    assert r.status_code == 403
    assert compound_row(sec_ctx, p["a"]) == row
    home = {"type": "Point", "coordinates": [p["a_point"].x, p["a_point"].y]}
    r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"location": home, "version": row["version"]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["street_code"] == p["a_street"]
    # the bureau may move it; the compound then belongs to the other street
    b = logged_in(app, "bureau")
    r = patch_json(b, f"/api/v1/compounds/{p['a']}", {"location": away, "boundary": None,
                                                       "version": row["version"] + 1})
    assert r.status_code == 200 and r.get_json()["street_code"] == p["b_street"]
    r = patch_json(b, f"/api/v1/compounds/{p['a']}", {"location": home, "version": row["version"] + 2})
    assert r.status_code == 200 and r.get_json()["street_code"] == p["a_street"]


def test_mass_assignment_of_protected_and_unknown_fields_is_400(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    c = logged_in(app, _officer(p))
    row = compound_row(sec_ctx, p["a"])
    for body in ({"street_code": p["b_street"]}, {"version": 99, "id": "x"}, {"managed_by_id": p["b"]},
                 {"is_admin": True}, {"role": "admin"}, {"households": 5, "password_hash": "x"}):
        r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"version": row["version"], **body})
        assert r.status_code == 400, body
    assert compound_row(sec_ctx, p["a"]) == row


def test_bad_values_are_400(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    c = logged_in(app, _officer(p))
    row = compound_row(sec_ctx, p["a"])
    for body in ({"management_mode": "bogus"}, {"households": -1}, {"households": "12"}, {"households": 1.5},
                 {"fee_collection_rate": 1.5}, {"demolition_planned": "yes"}, {"name": ""}, {"name": 3},
                 {"contract_end": "31/12/2025"}, {"location": {"type": "Point", "coordinates": [40.6, 109.8]}},
                 {"boundary": {"type": "Polygon", "coordinates": [[[109.8, 40.6], [109.81, 40.61],
                                                                   [109.81, 40.6], [109.8, 40.61], [109.8, 40.6]]]}},
                 {}, {"version": "1"}):
        r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"version": row["version"], **body})
        assert r.status_code == 400, body
    r = c.patch(f"/api/v1/compounds/{p['a']}", data="[1, 2]", content_type="application/json",
                headers={"Origin": "http://localhost", "X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 400
    r = c.patch(f"/api/v1/compounds/{p['a']}", data='{"households": NaN, "version": 1}', content_type="application/json",
                headers={"Origin": "http://localhost", "X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 400
    assert compound_row(sec_ctx, p["a"]) == row


def test_stale_version_is_409(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    c = logged_in(app, _officer(p))
    v = compound_row(sec_ctx, p["a"])["version"]
    assert patch_json(c, f"/api/v1/compounds/{p['a']}", {"households": 11, "version": v}).status_code == 200
    r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"households": 12, "version": v})
    assert r.status_code == 409 and r.get_json()["version"] == v + 1
    assert compound_row(sec_ctx, p["a"])["households"] == 11


def test_missing_csrf_token_is_refused(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    c = logged_in(app, _officer(p))
    row = compound_row(sec_ctx, p["a"])
    r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"households": 1, "version": row["version"]}, csrf=False)
    assert r.status_code == 403
    r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"households": 1, "version": row["version"]}, csrf=False,
                   headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    # forms too: the login form and the logout form need the token
    assert app.test_client().post("/login", data={"name": "viewer", "password": PASSWORD}).status_code == 403
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/api/v1/me").status_code == 200
    assert compound_row(sec_ctx, p["a"]) == row


def test_foreign_origin_is_refused_even_with_the_token(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    c = logged_in(app, _officer(p))
    row = compound_row(sec_ctx, p["a"])
    for origin in ("https://evil.example", "null", "http://localhost.evil.example"):
        r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"households": 2, "version": row["version"]}, origin=origin)
        assert r.status_code == 403, origin
    r = patch_json(c, f"/api/v1/compounds/{p['a']}", {"households": 2, "version": row["version"]}, origin=None,
                   headers={"Referer": "https://evil.example/page"})
    assert r.status_code == 403
    assert compound_row(sec_ctx, p["a"]) == row


def test_other_utilitys_row_is_refused(app, sec_ctx) -> None:  # noqa: ANN001
    from plugins.handover import service

    p = pick_compounds(sec_ctx)
    c = logged_in(app, "utility_water")
    with sec_ctx.session(readonly=True) as s:
        gas = service.get_handover(s, p["a"], "gas")
        water = service.get_handover(s, p["a"], "water")
    r = patch_json(c, f"/api/v1/handovers/{p['a']}/gas", {"state": gas["allowed_next"][0] if gas["allowed_next"]
                                                           else gas["state"], "version": gas["version"]})
    assert r.status_code == 403
    with sec_ctx.session(readonly=True) as s:
        assert service.get_handover(s, p["a"], "gas")["version"] == gas["version"]
    assert audit_events(sec_ctx, entity="handover", entity_id=f"{p['a']}:gas", outcome="denied")
    if water["allowed_next"]:
        r = patch_json(c, f"/api/v1/handovers/{p['a']}/water", {"state": water["allowed_next"][0],
                                                                 "version": water["version"]})
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["state"] == water["allowed_next"][0]


def test_handover_get_patch_contract(app, sec_ctx) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from geoplatform import models as m

    p = pick_compounds(sec_ctx)
    with sec_ctx.session(readonly=True) as s:
        surveyed = set(s.scalars(select(m.Handover.compound_id).where(m.Handover.facility == "telecom_access")))
        cid = s.scalars(select(m.Compound.id).where(m.Compound.street_code == p["a_street"])
                        .order_by(m.Compound.id)).all()
    cid = next(c for c in cid if c not in surveyed)
    officer = logged_in(app, _officer(p))
    r = officer.get(f"/api/v1/handovers/{cid}/telecom_access")
    assert r.status_code == 200
    data = r.get_json()
    assert data["state"] == "unknown" and data["version"] == 0
    nxt = data["allowed_next"][0]
    r = patch_json(officer, f"/api/v1/handovers/{cid}/telecom_access", {"state": nxt, "version": 0, "colour": "x"})
    assert r.status_code == 400
    r = patch_json(officer, f"/api/v1/handovers/{cid}/telecom_access", {"state": nxt, "version": 0})
    assert r.status_code == 200 and r.get_json()["version"] == 1
    r = patch_json(officer, f"/api/v1/handovers/{cid}/telecom_access", {"state": nxt, "version": 0, "note": "again"})
    assert r.status_code == 409
    r = patch_json(officer, f"/api/v1/handovers/{cid}/telecom_access", {"state": "taken_over_by_aliens", "version": 1})
    assert r.status_code == 400
    assert officer.get(f"/api/v1/handovers/{cid}/no_such_facility").status_code == 400
    assert officer.get("/api/v1/handovers/NO-SUCH/water").status_code == 404
    other = logged_in(app, f"officer_{p['b_street']}")
    r = patch_json(other, f"/api/v1/handovers/{cid}/telecom_access", {"state": nxt, "version": 1, "note": "x"})
    assert r.status_code == 403
    events = audit_events(sec_ctx, entity="handover", entity_id=f"{cid}:telecom_access", outcome="ok")
    assert len(events) == 1 and events[0]["user"] == _officer(p)


def test_viewer_and_state_company_write_rights(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    viewer = logged_in(app, "viewer")
    row = compound_row(sec_ctx, p["a"])
    assert patch_json(viewer, f"/api/v1/compounds/{p['a']}", {"households": 3, "version": row["version"]}).status_code == 403
    state = logged_in(app, "state_company")
    r = patch_json(state, f"/api/v1/compounds/{p['a']}", {"name": "x", "version": row["version"]})
    assert r.status_code == 403
    r = patch_json(state, f"/api/v1/compounds/{p['a']}", {"takeover_cost": 12.5, "version": row["version"]})
    assert r.status_code == 200
    assert compound_row(sec_ctx, p["a"])["takeover_cost"] == 12.5


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'
SQLI = "Robert'); DROP TABLE compound;-- 小区 %_\\"


def test_sql_metacharacters_are_stored_verbatim(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    b = logged_in(app, "bureau")
    row = compound_row(sec_ctx, p["b"])
    r = patch_json(b, f"/api/v1/compounds/{p['b']}", {"name": SQLI, "address": XSS, "version": row["version"]})
    assert r.status_code == 200
    assert compound_row(sec_ctx, p["b"])["name"] == SQLI
    assert r.get_json()["address"] == XSS  # JSON carries the text verbatim; pages must escape it
    assert audit_events(sec_ctx, entity="compound", entity_id=p["b"])[0]["after"]["name"] == SQLI
    r = b.get("/api/v1/audit", query_string={"entity_id": "x' OR '1'='1"})
    assert r.status_code == 200 and r.get_json()["events"] == []


def test_xss_payloads_are_escaped_in_every_page(app, sec_ctx) -> None:  # noqa: ANN001
    """Names with HTML are never echoed raw by any page (login page, map, tables), only escaped."""
    p = pick_compounds(sec_ctx)
    b = logged_in(app, "bureau")
    row = compound_row(sec_ctx, p["a"])
    assert patch_json(b, f"/api/v1/compounds/{p['a']}", {"name": XSS, "version": row["version"]}).status_code == 200
    r = app.test_client().post("/login", data={"name": XSS, "password": "x" * 9, "csrf_token": "bad"})
    assert XSS.encode() not in r.data
    c = app.test_client()
    csrf = csrf_of(c)
    r = c.post("/login", data={"name": '<script>alert(1)</script>', "password": "x" * 9, "csrf_token": csrf,
                               "next": '"><script>alert(2)</script>'}, environ_base={"REMOTE_ADDR": random_addr()})
    assert b"<script>alert(1)</script>" not in r.data and b"<script>alert(2)</script>" not in r.data
    pages = [rule.rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(("/logout", "/static"))]
    pages += [f"/?q={XSS}", f"/api/v1/compounds/{p['a']}", f"/api/v1/compounds?q={XSS[:10]}"]
    for url in pages:
        r = b.get(url)
        if r.mimetype == "text/html":
            body = r.get_data(as_text=True)
            assert "<script>alert" not in body and "<img src=x" not in body, url


def test_oversized_body_is_413(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    c = logged_in(app, _officer(p))
    row = compound_row(sec_ctx, p["a"])
    big = {"version": row["version"], "address": "x" * (2 * 1024 * 1024)}
    r = patch_json(c, f"/api/v1/compounds/{p['a']}", big)
    assert r.status_code == 413 and r.is_json
    app.config["MAX_CONTENT_LENGTH"] = 1000
    r = c.post("/login", data={"name": "a" * 5000, "password": "b", "csrf_token": csrf_of(c)})
    assert r.status_code == 413
    assert compound_row(sec_ctx, p["a"]) == row


def test_security_headers_and_cookie_flags(app) -> None:  # noqa: ANN001
    c = app.test_client()
    r = c.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "cdn" not in csp.lower()
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert r.headers["X-Frame-Options"] == "DENY"
    set_cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie
    https = app.test_client()
    r = https.get("/login", base_url="https://localhost")
    assert "Secure" in r.headers["Set-Cookie"] and "Strict-Transport-Security" in r.headers


def test_generic_error_pages_reveal_no_sql_or_trace(app) -> None:  # noqa: ANN001
    from sqlalchemy import text

    def boom():  # noqa: ANN202
        from web.app import get_context

        with get_context().session(readonly=True) as s:
            s.execute(text("SELECT secret_column FROM no_such_table"))

    bp = Blueprint("boom", __name__)
    bp.add_url_rule("/boom", "page", boom)
    bp.add_url_rule("/api/v1/boom", "api", boom)
    app.register_blueprint(bp)
    b = logged_in(app, "bureau")
    for url in ("/boom", "/api/v1/boom"):
        r = b.get(url)
        body = r.get_data(as_text=True)
        assert r.status_code == 500
        assert "no_such_table" not in body and "Traceback" not in body and "SELECT" not in body
    r = b.get("/api/v1/no/such/route")
    assert r.status_code == 404 and r.is_json


def test_open_redirect_after_login_is_refused(app) -> None:  # noqa: ANN001
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example", "/"), ("/\\evil", "/"),
                             ("/map?x=1", "/map?x=1")):
        c = app.test_client()
        r = c.post("/login", data={"name": "viewer", "password": PASSWORD, "csrf_token": csrf_of(c), "next": target})
        assert r.status_code == 302 and r.headers["Location"] == expected, target


def test_audit_api_for_the_bureau_only(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    officer = logged_in(app, _officer(p))
    v = compound_row(sec_ctx, p["a"])["version"]
    assert patch_json(officer, f"/api/v1/compounds/{p['a']}", {"households": 77, "version": v}).status_code == 200
    assert officer.get("/api/v1/audit").status_code == 403
    assert logged_in(app, "viewer").get(f"/api/v1/audit?entity=compound&entity_id={p['a']}").status_code == 403
    bureau = logged_in(app, "bureau")
    r = bureau.get("/api/v1/audit", query_string={"entity": "compound", "entity_id": p["a"]})
    events = r.get_json()["events"]
    assert events[0]["user"] == _officer(p) and events[0]["after"] == {"households": 77}
    assert events[0]["before"]["households"] != 77 and events[0]["at"]
    assert all(e["entity_id"] == p["a"] for e in events)
    r = bureau.get("/api/v1/audit", query_string={"street": p["b_street"]})
    assert all(e["street_code"] == p["b_street"] for e in r.get_json()["events"])
    assert bureau.get("/api/v1/audit?limit=abc").status_code == 400
    assert bureau.get("/api/v1/audit?limit=100000").status_code == 400


def test_require_checks_the_current_user(app) -> None:  # noqa: ANN001
    from web.auth import current_user, require

    with app.test_request_context("/x"):
        from flask import g

        g.user = Principal("o", "street_officer", street_code="150203001")
        assert current_user().name == "o"
        assert require("edit_compound", {"kind": "compound", "street_code": "150203001"}).name == "o"
        try:
            require("edit_compound", {"kind": "compound", "street_code": "150203003"})
        except Exception as exc:  # werkzeug Forbidden
            assert getattr(exc, "code", None) == 403
        else:
            raise AssertionError("require did not refuse")


def test_exports_respect_read_permissions(app, sec_ctx) -> None:  # noqa: ANN001
    import json

    from geoplatform.hookspecs import hookimpl
    from layers.spec import Exporter

    p = pick_compounds(sec_ctx)
    anon = app.test_client()
    assert anon.get("/api/v1/export/compound?format=geojson").status_code == 401
    viewer = logged_in(app, "viewer")
    r = viewer.get(f"/api/v1/export/compound?format=geojson&street={p['a_street']}")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    feats = json.loads(r.data)["features"]
    assert feats and {f["properties"]["street_code"] for f in feats} == {p["a_street"]}
    for url in ("/api/v1/export/user_account", "/api/v1/export/audit_event", "/api/v1/export/api_token",
                "/api/v1/export/compound?format=exe", "/api/v1/export/compound?street=nowhere"):
        assert viewer.get(url).status_code in (400, 404), url

    class SecretExport:
        @hookimpl
        def register_exporters(self, context):  # noqa: ANN001, ANN201
            def write(ctx, fmt, path, street):  # noqa: ANN001, ANN202
                with open(path, "w") as fh:
                    fh.write("secret,1\n")
                return 1
            return [Exporter(name="secret-ledger", title_zh="密", title_en="secret", formats=("csv",),
                             function=write, permission="view_audit")]

    sec_ctx.pm.register(SecretExport(), name="secret_export")
    try:
        assert viewer.get("/api/v1/export/secret-ledger?format=csv").status_code == 403
        assert audit_events(sec_ctx, entity="export", entity_id="secret-ledger", outcome="denied")
        bureau = logged_in(app, "bureau")
        r = bureau.get("/api/v1/export/secret-ledger?format=csv")
        assert r.status_code == 200 and b"secret,1" in r.data
    finally:
        sec_ctx.pm.unregister(name="secret_export")


def _snapshot_of(ctx, compound_id: str) -> dict:  # noqa: ANN001
    from sqlalchemy import select

    from geoplatform import models as m

    with ctx.session(readonly=True) as s:
        c = s.get(m.Compound, compound_id)
        handovers = sorted((h.facility, h.state, h.version) for h in s.scalars(
            select(m.Handover).where(m.Handover.compound_id == compound_id)))
        bundles = sorted((b.id, b.status, b.version) for b in s.scalars(
            select(m.BundleProposal).where(m.BundleProposal.street_code == c.street_code)))
        takeovers = sorted((t.id, t.state, t.version) for t in s.scalars(
            select(m.TakeoverSelection).where(m.TakeoverSelection.compound_id == compound_id)))
        return {"version": c.version, "name": c.name, "street": c.street_code, "handovers": handovers,
                "bundles": bundles, "takeovers": takeovers}


def test_an_officer_cannot_change_another_streets_compound_by_any_route(app, sec_ctx) -> None:  # noqa: ANN001
    """Every state-changing route of the app (plugins included), tried as an officer against a foreign compound."""
    p = pick_compounds(sec_ctx)
    target = p["b"]
    before = _snapshot_of(sec_ctx, target)
    officer = logged_in(app, _officer(p))
    token = new_token(sec_ctx, _officer(p))
    body = {"version": before["version"], "households": 1, "name": "hacked", "state": "not_handed_over",
            "street_code": p["a_street"], "note": "x", "takeover_cost": 1.0, "status": "accepted"}
    tried = 0
    for rule in app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"})
        if not methods or rule.rule.startswith(("/login", "/logout")):
            continue
        values = {arg: ("water" if arg == "facility" else target) for arg in rule.arguments}
        url = rule.rule
        for arg, value in values.items():
            url = url.replace(f"<{arg}>", value)
            for conv in ("string", "path", "int"):
                url = url.replace(f"<{conv}:{arg}>", value)
        for method in methods:
            tried += 1
            r1 = patch_json(officer, url, body) if method == "PATCH" else officer.open(
                url, method=method, json=body, headers={"Origin": "http://localhost", "X-CSRF-Token": csrf_of(officer)})
            r2 = app.test_client().open(url, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
            assert r1.status_code != 500 and r2.status_code != 500, (method, url)
            # a route may answer 200 for a read-like POST (a plan preview); the foreign data must not change
            assert _snapshot_of(sec_ctx, target) == before, (method, url, r1.status_code, r2.status_code)
    assert tried >= 2
    ok = [e for e in audit_events(sec_ctx, user=_officer(p), outcome="ok") if target in (e["entity_id"] or "")]
    assert ok == []


def test_bbox_sort_limit_parameters_are_validated(app) -> None:  # noqa: ANN001
    viewer = logged_in(app, "viewer")
    layers = viewer.get("/api/v1/layers").get_json()
    layer_id = (layers["layers"] if isinstance(layers, dict) else layers)[0]["id"]
    for url in (f"/api/v1/layers/{layer_id}/features?bbox=1,2,3",
                f"/api/v1/layers/{layer_id}/features?bbox=a,b,c,d",
                f"/api/v1/layers/{layer_id}/features?bbox=0,0,1,nan",
                f"/api/v1/layers/{layer_id}/features?zoom=99",
                f"/ogc/collections/{layer_id}/items?bbox=1,2,3,4,5,6,7",
                f"/ogc/collections/{layer_id}/items?limit=-5",
                "/ogc/collections/x'--/items",
                "/api/v1/compounds?limit=abc",
                "/api/v1/audit?offset=-1"):
        r = viewer.get(url)
        assert r.status_code in (400, 403, 404), url
        body = r.get_data(as_text=True)
        assert "Traceback" not in body and "SELECT" not in body, url


def test_each_role_lands_on_its_workspace_after_login(app) -> None:  # noqa: ANN001
    """README: opening / and logging in lands each role on its own workspace; an explicit next wins."""
    for name, expected in (("admin", "/ws/bureau"), ("bureau", "/ws/bureau"), ("officer_150203001", "/ws/street"),
                           ("state_company", "/ws/takeover"), ("utility_water", "/ws/utility"), ("viewer", "/")):
        for next_field in ("/", None):
            c = app.test_client()
            data = {"name": name, "password": PASSWORD, "csrf_token": csrf_of(c)}
            if next_field is not None:
                data["next"] = next_field
            r = c.post("/login", data=data)
            assert r.status_code == 302 and r.headers["Location"] == expected, (name, next_field)
            assert c.get(expected).status_code == 200, name
    c = app.test_client()
    r = c.post("/login", data={"name": "utility_water", "password": PASSWORD, "csrf_token": csrf_of(c),
                               "next": "/compounds/x?lang=en"})
    assert r.headers["Location"] == "/compounds/x?lang=en"


def test_html_error_pages_speak_the_page_language(app) -> None:  # noqa: ANN001
    """A Chinese page's 403/404 is Chinese (no internal English action names); ?lang=en shows English."""
    v = logged_in(app, "viewer")
    for url, status, zh_text in (("/ws/bureau", 403, "无权访问"), ("/no/such/page", 404, "未找到")):
        r = v.get(url + "?lang=zh")  # ?lang= is remembered in a cookie: name the language each time
        body = r.get_data(as_text=True)
        assert r.status_code == status and zh_text in body and 'lang="zh-CN"' in body, body
        assert "not allowed" not in body and "The requested URL" not in body and "Forbidden" not in body, body
        r = v.get(url + "?lang=en")
        body = r.get_data(as_text=True)
        assert r.status_code == status and 'lang="en"' in body and zh_text not in body, body
    assert v.get("/ws/bureau", headers={"Accept": "application/json"}).get_json()["status"] == 403


def test_login_page_names_its_icon(client) -> None:  # noqa: ANN001
    """Without a <link rel=icon> the browser asks /favicon.ico and logs a 404 on the first page."""
    body = client.get("/login").get_data(as_text=True)
    assert 'rel="icon"' in body and client.get("/static/favicon.svg").status_code == 200
