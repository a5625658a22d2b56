"""Issue 25 items 5–7: authorisation before validation on every write route, every refusal and export audited,
only an admin manages admin accounts, and the read rules of docs/security.md the same on every surface.

One SQLite copy of the security demo for the module (the rules are Python, the SQL is the audit's insert: the
same on both databases, which tests/security/test_audit.py covers).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from geoplatform import auth as accounts
from geoplatform import models as m
from geoplatform.context import Context
from tests.conftest import _copy_url
from tests.security.conftest import SEC, csrf_of, logged_in

# Write routes any logged-in role (or anyone) may use: the login form, logging out, one's own password.
# A new write route that skips the write gate must be listed here, with its reason, to pass.
OPEN_WRITES = {"auth.login": "public: the login form", "auth.logout": "public: ending one's own session",
               "auth.change_password": "own_account: one's own password (current one required)"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(app, context, {account: bearer token}) over a fresh copy of the security demo."""
    from web.app import create_app

    url = _copy_url("sqlite", SEC, tmp_path_factory)[0]
    ctx = Context.create(url)
    ctx.config.secret_key = "test-secret-key-not-for-production"
    with ctx.session() as s:
        names = [u.name for u in s.scalars(select(m.User)).all()]
        tokens = {n: accounts.new_token(s, n) for n in names}
    app = create_app(ctx)
    yield app, ctx, tokens
    ctx.engine.dispose()


def _bearer(tokens: dict[str, str], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[name]}"}


def _denied(ctx: Context, user: str | None = None) -> int:
    with ctx.session(readonly=True) as s:
        q = select(func.count()).select_from(m.AuditEvent).where(m.AuditEvent.outcome == "denied")
        if user is not None:
            q = q.where(m.AuditEvent.user_name == user)
        return s.scalar(q)


def _last_denied(ctx: Context) -> str:
    """The detail (what and where from) of the newest denied event."""
    with ctx.session(readonly=True) as s:
        return s.scalars(select(m.AuditEvent.detail).where(m.AuditEvent.outcome == "denied")
                         .order_by(m.AuditEvent.id.desc())).first() or ""


def _write_rules(app: Any) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL with placeholder values) of every write route of the app."""
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            values = {arg: 1 if type(rule._converters[arg]).__name__ in ("_BoundedInt", "IntegerConverter") else "x1"
                      for arg in rule.arguments}
            out.append((rule.endpoint, method, rule.build(values, append_unknown=False)[1]))
    return out


# --- item 5: authorisation before validation, every refusal audited ---------------------------------------------


def test_every_write_route_authorises_before_it_validates(env: Any) -> None:
    """Walk the url_map: a viewer's write (garbage body) is 403 before any validation, anonymous is 401, a session
    write without the CSRF token 403 — each refusal exactly one audit row naming who and where from."""
    app, ctx, tokens = env
    rules = _write_rules(app)
    found_open = {e for e, _, _ in rules if e in OPEN_WRITES}
    assert found_open == set(OPEN_WRITES), "a listed open write route is gone: update OPEN_WRITES"
    checked = [(e, meth, url) for e, meth, url in rules if e not in OPEN_WRITES]
    assert len(checked) > 20  # the plugins' routes are in the walk too
    session_user = logged_in(app, "bureau")
    anon = app.test_client()
    for endpoint, method, url in checked:
        before = _denied(ctx, "viewer")
        r = anon.open(url, method=method, json={"version": "garbage", "state": None},
                      headers=_bearer(tokens, "viewer"), environ_base={"REMOTE_ADDR": "10.9.8.7"})
        assert r.status_code == 403, (endpoint, method, r.status_code, r.get_data(as_text=True)[:200])
        assert _denied(ctx, "viewer") == before + 1, endpoint
        assert "10.9.8.7" in _last_denied(ctx), endpoint

        before = _denied(ctx, "anonymous")
        r = anon.open(url, method=method, json={"version": "garbage"}, environ_base={"REMOTE_ADDR": "10.9.8.6"})
        assert r.status_code == 401, (endpoint, method, r.status_code)
        assert _denied(ctx, "anonymous") == before + 1, endpoint
        assert "10.9.8.6" in _last_denied(ctx), endpoint

        before = _denied(ctx, "bureau")
        r = session_user.open(url, method=method, json={}, headers={"Origin": "http://localhost"})
        assert r.status_code == 403, (endpoint, method, r.status_code)  # no CSRF token
        assert _denied(ctx, "bureau") == before + 1, endpoint


def test_forged_and_expired_tokens_are_audited(env: Any) -> None:
    app, ctx, tokens = env
    c = app.test_client()
    before = _denied(ctx, "anonymous")
    r = c.get("/api/v1/me", headers={"Authorization": "Bearer gp_forged-token-value"},
              environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 401
    assert _denied(ctx, "anonymous") == before + 1
    detail = _last_denied(ctx)
    assert "bearer token refused" in detail and "10.1.2.3" in detail and "/api/v1/me" in detail


def test_patch_with_a_protected_field_is_403_not_a_lesson_in_field_rules(env: Any) -> None:
    """The state company may change `takeover_cost` only: another field is 403 (audited), not a 400 explaining
    the field rules; a utility PATCHing another facility's handover row with a broken body is 403, not 400."""
    app, ctx, tokens = env
    with ctx.session(readonly=True) as s:
        cid = s.scalars(select(m.Compound.id).order_by(m.Compound.id)).first()
    c = app.test_client()
    before = _denied(ctx, "state_company")
    r = c.patch(f"/api/v1/compounds/{cid}", json={"id": "X", "street_code": "nope"},
                headers=_bearer(tokens, "state_company"))
    assert r.status_code == 403, r.get_data(as_text=True)
    assert _denied(ctx, "state_company") == before + 1
    r = c.patch(f"/api/v1/handovers/{cid}/heating", json={"state": 7}, headers=_bearer(tokens, "utility_water"))
    assert r.status_code == 403, r.get_data(as_text=True)
    r = c.patch(f"/api/v1/handovers/{cid}/water", json={"state": 7}, headers=_bearer(tokens, "utility_water"))
    assert r.status_code == 400  # its own row: now the body's rules are explained


def test_every_export_is_audited(env: Any) -> None:
    app, ctx, tokens = env
    c = app.test_client()
    r = c.get("/api/v1/export/compound?format=csv", headers=_bearer(tokens, "viewer"),
              environ_base={"REMOTE_ADDR": "10.4.4.4"})
    assert r.status_code == 200
    from geoplatform import audit

    with ctx.session(readonly=True) as s:
        event = audit.query(s, action="export", limit=1)[0]
    assert (event["user"], event["entity_id"], event["outcome"]) == ("viewer", "compound", "ok")
    assert event["after"]["format"] == "csv" and event["after"]["rows"] > 0 and "10.4.4.4" in event["detail"]


# --- item 6: only an admin creates or elevates admins or mints their tokens -------------------------------------


def _form(client: Any, url: str, data: dict[str, str]) -> Any:
    return client.post(url, data={**data, "csrf_token": csrf_of(client)}, headers={"Origin": "http://localhost"})


def test_bureau_cannot_create_or_manage_admin_accounts(env: Any) -> None:
    app, ctx, tokens = env
    bureau = logged_in(app, "bureau")
    new = {"name": "boss1", "role": "admin", "password": "long-enough-pw-1"}
    assert _form(bureau, "/ws/bureau/users", new).status_code == 403
    assert _form(bureau, "/ws/bureau/users/admin/token", {}).status_code == 403  # no admin token minted
    assert _form(bureau, "/ws/bureau/users/admin/password", {"password": "long-enough-pw-2"}).status_code == 403
    r = bureau.post("/ws/bureau/users/admin/token", headers=_bearer(tokens, "bureau"))  # the API way
    assert r.status_code == 403
    with ctx.session(readonly=True) as s:
        assert accounts.get_user(s, "boss1") is None
        admin_id = accounts.get_user(s, "admin").id
        assert s.scalar(select(func.count()).select_from(m.ApiToken).where(m.ApiToken.user_id == admin_id)) == 1
    assert "admin" not in bureau.get("/ws/bureau/users").get_data(as_text=True).split('name="role"')[1].split(
        "</select>")[0].replace("admin</", "")  # the role list offers the bureau no admin
    assert _form(bureau, "/ws/bureau/users", {**new, "name": "clerk1", "role": "viewer"}).status_code == 302
    admin = logged_in(app, "admin")
    assert _form(admin, "/ws/bureau/users", new).status_code == 302


def test_users_page_offers_the_bureau_no_action_on_admin_accounts(env: Any) -> None:
    """The page offers what the server allows: on an admin's row the bureau sees a note, not buttons that answer 403."""
    app, _, _ = env

    def admin_row(client: Any) -> str:
        html = client.get("/ws/bureau/users").get_data(as_text=True)
        return html.split('data-user="admin"')[1].split("</tr>")[0]

    bureau = logged_in(app, "bureau")
    bureau_row = admin_row(bureau)
    assert "wb-admin-only" in bureau_row and "<button" not in bureau_row and "<form" not in bureau_row
    html = bureau.get("/ws/bureau/users").get_data(as_text=True)
    viewer_row = html.split('data-user="viewer"')[1].split("</tr>")[0]
    assert "wb-toggle" in viewer_row and "wb-admin-only" not in viewer_row  # other accounts keep their actions
    own_row = admin_row(logged_in(app, "admin"))
    assert "wb-toggle" in own_row and "wb-admin-only" not in own_row  # an admin manages admin accounts


def test_cli_acting_as_bureau_cannot_create_an_admin(env: Any, cli_run: Any) -> None:
    _, ctx, _ = env
    db = ctx.config.database_url
    r = cli_run(db, "users", "add", "boss2", "--role", "admin", "--user", "bureau", "--password-stdin",
                input="long-enough-pw-3\n")
    assert r.exit_code == 2 and "bureau" in r.stderr, r.output
    assert cli_run(db, "users", "token", "admin", "--user", "bureau").exit_code == 2
    assert cli_run(db, "users", "passwd", "admin", "--user", "bureau", "--password-stdin",
                   input="long-enough-pw-4\n").exit_code == 2
    assert cli_run(db, "users", "disable", "admin", "--user", "bureau").exit_code == 2
    assert cli_run(db, "users", "add", "clerk2", "--role", "viewer", "--user", "bureau", "--password-stdin",
                   input="long-enough-pw-5\n").exit_code == 0  # the bureau's own work
    assert cli_run(db, "users", "disable", "clerk2", "--user", "bureau").exit_code == 0
    r = cli_run(db, "users", "add", "boss2", "--role", "admin", "--user", "admin", "--password-stdin",
                input="long-enough-pw-3\n")
    assert r.exit_code == 0, r.output


# --- item 7: read rules per role, the same on every surface -----------------------------------------------------

# docs/security.md, "Read rules": handover rows of a facility (own = the account's facility; other = another one),
# and every facility at once ("all"); map data (a handover layer) for everyone.
ROLES = ("admin", "bureau", "officer", "state_company", "utility_water", "viewer")
READ = {
    #                  water  heating  all
    "admin":          (True, True, True),
    "bureau":         (True, True, True),
    "officer":        (True, True, True),
    "state_company":  (True, True, True),
    "utility_water":  (True, False, False),
    "viewer":         (False, False, False),
}


def _account(ctx: Context, role: str) -> str:
    if role != "officer":
        return role
    with ctx.session(readonly=True) as s:
        return s.scalars(select(m.User.name).where(m.User.role == "street_officer").order_by(m.User.name)).first()


def _facility_surfaces(cid: str) -> dict[str, Any]:
    """Each surface that reads one facility's handover rows: URL and how a granted answer is recognised."""
    return {
        "api backlog": lambda f: (f"/api/v1/handover/backlog?utility={f}", None),
        "api row": lambda f: (f"/api/v1/handovers/{cid}/{f}", None),
        "api history": lambda f: (f"/api/v1/handover/history/{cid}?facility={f}", None),
        "compound page": lambda f: (f"/compounds/{cid}", f'data-facility="{f}"'),
    }


ALL_SURFACES = ("/api/v1/export/handover?format=csv", "/api/v1/export/ledger_item?format=csv",
                "/api/v1/export/handover-ledger?format=csv")


@pytest.mark.parametrize("role", ROLES)
def test_read_rules_are_the_same_on_every_surface(env: Any, role: str) -> None:
    app, ctx, tokens = env
    with ctx.session(readonly=True) as s:
        cid = s.scalars(select(m.Compound.id).order_by(m.Compound.id)).first()
    c = app.test_client()
    h = _bearer(tokens, _account(ctx, role))
    for i, facility in enumerate(("water", "heating")):
        want = READ[role][i]
        for surface, make in _facility_surfaces(cid).items():
            url, marker = make(facility)
            r = c.get(url, headers=h)
            got = r.status_code == 200 and (marker is None or marker in r.get_data(as_text=True))
            assert got is want, (role, facility, surface, r.status_code)
            if marker is None and not want:
                assert r.status_code == 403
    for url in ALL_SURFACES:
        r = c.get(url, headers=h)
        assert (r.status_code == 200) is READ[role][2], (role, url, r.status_code)
        assert r.status_code in (200, 403)
    # map data: the handover layers are read by every role, on the map API, OGC and as an export
    for url in ("/api/v1/layers/handover_heating/features?bbox=109.6,40.5,110.1,40.9",
                "/ogc/collections/handover_heating/items?limit=5",
                "/api/v1/export/handover_heating?format=geojson"):
        assert c.get(url, headers=h).status_code == 200, (role, url)


def test_utility_workspace_ledger_export_is_own_facility_only(env: Any) -> None:
    app, _, tokens = env
    c = app.test_client()
    h = _bearer(tokens, "utility_water")
    assert c.get("/ws/utility/ledger.xlsx", headers=h).status_code == 200
    assert c.get("/ws/utility/ledger.xlsx?utility=heating", headers=h).status_code == 403


def test_facility_roles_are_declared_by_data() -> None:
    """A utility-like role is one entry of `role_facilities` (settings), not a name list in the code."""
    from geoplatform.principal import Principal
    from plugins.handover import facility_scope, handover_allowed
    from plugins.handover.settings import HandoverSettings

    settings = HandoverSettings.from_overrides({"role_facilities": {"telecom": ["telecom_access"],
                                                                   "lifts": ["power_upgrade"]}})
    lifts = Principal("l", "lifts")
    assert facility_scope(lifts, settings) == {"power_upgrade"}
    assert handover_allowed(lifts, "view", {"kind": "handover", "facility": "power_upgrade"}, settings) is True
    assert handover_allowed(lifts, "view", {"kind": "handover", "facility": "water"}, settings) is False
    assert handover_allowed(lifts, "export", {"kind": "export", "data": "handover", "facility": None}, settings) is False
    assert handover_allowed(lifts, "edit_handover", {"facility": "power_upgrade"}, settings) is True
    power = Principal("p", "utility", utility="power")
    assert facility_scope(power, settings) == {"power", "power_upgrade"}
    assert facility_scope(Principal("b", "bureau"), settings) is None
