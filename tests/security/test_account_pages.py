"""Accounts over HTTP on SpatiaLite and PostGIS: the change-password page, the bureau's reset and token
revocation, expired tokens, the login's `next=`, and `no-store` on every answer that needs a login."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from geoplatform import auth
from geoplatform import models as m
from geoplatform.models import governance as gov
from geoplatform.models import owners_org as org
from tests.security.conftest import (
    PASSWORD,
    audit_events,
    csrf_of,
    logged_in,
    login,
    make_user,
    new_token,
    random_addr,
)

ORIGIN = {"Origin": "http://localhost"}


def _change(client, old: str, new: str, again: str | None = None, addr: str = "127.0.0.1"):  # noqa: ANN001, ANN202
    return client.post("/account/password", headers=ORIGIN, environ_base={"REMOTE_ADDR": addr},
                       data={"csrf_token": csrf_of(client), "old_password": old, "new_password": new,
                             "new_password2": new if again is None else again})


def _sid(client) -> str:  # noqa: ANN001
    with client.session_transaction() as sess:
        return sess["sid"]


def test_change_password_page_needs_a_login(client) -> None:  # noqa: ANN001
    r = client.get("/account/password")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.post("/account/password", data={}).status_code == 401  # an anonymous write: refused (audited)


def test_change_password_ends_other_sessions_and_renews_this_one(app, sec_ctx) -> None:  # noqa: ANN001
    name = make_user(sec_ctx)
    me, other = logged_in(app, name), logged_in(app, name)
    token = new_token(sec_ctx, name)
    page = me.get("/account/password")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert 'id="gp-pw-form"' in html and "原密码" in html and name in html
    assert 'id="gp-nav-password"' in html  # the nav's user name leads here
    addr = random_addr()
    for old, new, again, text in ((PASSWORD, "new-password-1", "new-password-2", "两次输入的新密码不一致"),
                                  (PASSWORD, "short", None, "至少需要 8 个字符"),
                                  (PASSWORD, PASSWORD, None, "不能与原密码相同"),
                                  ("wrong-old-password", "new-password-1", None, "原密码不正确")):
        r = _change(me, old, new, again, addr)
        assert r.status_code == 400 and text in r.get_data(as_text=True), text
    with sec_ctx.session(readonly=True) as s:
        assert auth.verify_password(s, name, PASSWORD) is not None  # nothing changed
    denied = audit_events(sec_ctx, entity="user", entity_id=name, action="change_password", outcome="denied")
    assert [e["detail"].split(" · ")[0] for e in denied] == ["wrong current password"]  # then where from
    before = _sid(me)
    r = _change(me, PASSWORD, "new-password-1", addr=addr)
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password?changed=1")
    assert "密码已修改" in me.get(r.headers["Location"]).get_data(as_text=True)
    assert _sid(me) != before  # the session changing it is renewed …
    assert me.get("/api/v1/me").get_json()["name"] == name
    assert other.get("/api/v1/me").status_code == 401  # … every other one ends
    with sec_ctx.session(readonly=True) as s:
        assert auth.user_for_session(s, before) is None
        assert auth.verify_password(s, name, "new-password-1") is not None
        assert auth.user_for_token(s, token) is not None  # tokens are separate credentials
    assert login(app.test_client(), name, PASSWORD, random_addr()).status_code == 401
    assert login(app.test_client(), name, "new-password-1", random_addr()).status_code == 302
    ok = audit_events(sec_ctx, entity="user", entity_id=name, action="change_password", outcome="ok")
    assert len(ok) == 1 and ok[0]["user"] == name and ok[0]["after"] == {"sessions_ended": 2}


def test_change_password_is_throttled_like_the_login(app, sec_ctx) -> None:  # noqa: ANN001
    name = make_user(sec_ctx)
    me = logged_in(app, name)
    addr = random_addr()
    sec_ctx.config.rules["auth"] = {"delay_seconds": 600, "max_delay_seconds": 600}  # no test outlives it: untimed
    for _ in range(auth.THROTTLE.max_per_pair):
        assert _change(me, "guess-password", "new-password-9", addr=addr).status_code == 400
    r = _change(me, PASSWORD, "new-password-9", addr=addr)  # even the right one, once throttled
    assert r.status_code == 429 and "Retry-After" in r.headers
    with sec_ctx.session(readonly=True) as s:
        assert auth.verify_password(s, name, PASSWORD) is not None


def test_bureau_resets_a_password_and_revokes_one_token(app, sec_ctx) -> None:  # noqa: ANN001
    target = make_user(sec_ctx)
    victim_browser = logged_in(app, target)
    tokens = [new_token(sec_ctx, target) for _ in range(2)]
    bureau = logged_in(app, "bureau")
    page = bureau.get("/ws/bureau/users")
    assert page.headers["Cache-Control"] == "no-store"
    row = re.search(rf'data-user="{target}".*?</tr>', page.get_data(as_text=True), re.S).group(0)
    ids = [int(x) for x in re.findall(r'data-token-id="(\d+)" data-state="active"', row)]
    assert len(ids) == 2 and "重置密码" in row and "撤销" in row
    # a reset: the strength rule applies, the user's sessions end, the new password works
    url = f"/ws/bureau/users/{target}/password"
    r = bureau.post(url, headers=ORIGIN, data={"csrf_token": csrf_of(bureau), "password": "short"})
    assert r.status_code == 400 and "至少需要 8 个字符" in r.get_data(as_text=True)
    r = bureau.post(url, headers=ORIGIN, data={"csrf_token": csrf_of(bureau), "password": "reset-by-bureau"})
    assert r.status_code == 200 and f"已重置用户 {target} 的密码" in r.get_data(as_text=True)
    assert victim_browser.get("/api/v1/me").status_code == 401
    assert login(app.test_client(), target, "reset-by-bureau", random_addr()).status_code == 302
    reset = audit_events(sec_ctx, entity="user", entity_id=target, action="reset_password")
    assert [e["user"] for e in reset] == ["bureau"]
    # one's own password is changed on the change-password page (it needs the current one)
    r = bureau.post("/ws/bureau/users/bureau/password", headers=ORIGIN,
                    data={"csrf_token": csrf_of(bureau), "password": "another-pass-1"})
    assert r.status_code == 400
    # revoking one token leaves the other working
    r = bureau.post(f"/ws/bureau/tokens/{ids[0]}/revoke", headers=ORIGIN, data={"csrf_token": csrf_of(bureau)})
    assert r.status_code == 200 and f"已撤销令牌 #{ids[0]}" in r.get_data(as_text=True)
    api = app.test_client()
    states = {}
    for tok in tokens:
        states[tok] = api.get("/api/v1/me", headers={"Authorization": f"Bearer {tok}"}).status_code
    assert sorted(states.values()) == [200, 401]
    revoked = audit_events(sec_ctx, entity="api_token", entity_id=target, action="revoke")
    assert len(revoked) == 1 and revoked[0]["after"] == {"token_id": ids[0], "revoked": True}
    assert bureau.post("/ws/bureau/tokens/999999999/revoke", headers=ORIGIN,
                       data={"csrf_token": csrf_of(bureau)}).status_code == 404
    # other roles may do neither
    viewer = logged_in(app, "viewer")
    assert viewer.post(url, headers=ORIGIN, data={"csrf_token": csrf_of(viewer), "password": "x" * 12}).status_code == 403
    assert viewer.post(f"/ws/bureau/tokens/{ids[1]}/revoke", headers=ORIGIN,
                       data={"csrf_token": csrf_of(viewer)}).status_code == 403


def test_bureau_issues_tokens_with_the_configured_lifetime(app, sec_ctx) -> None:  # noqa: ANN001
    target = make_user(sec_ctx)
    bureau = logged_in(app, "bureau")
    sec_ctx.config.rules["auth"] = {"token_lifetime_days": 30}
    try:
        r = bureau.post(f"/ws/bureau/users/{target}/token", headers=ORIGIN, data={"csrf_token": csrf_of(bureau)})
    finally:
        sec_ctx.config.rules.pop("auth")
    html = r.get_data(as_text=True)
    token_id = int(re.search(r"令牌编号 (\d+)，有效至", html).group(1))
    with sec_ctx.session(readonly=True) as s:
        expires = s.get(m.ApiToken, token_id).expires_at
    assert abs(expires - m.utcnow() - dt.timedelta(days=30)) < dt.timedelta(minutes=5)


@pytest.mark.parametrize(("lang", "text"), [("en", "API token expired"), ("zh", "API令牌已过期")])
def test_an_expired_token_is_refused_with_a_clear_message(app, sec_ctx, lang, text) -> None:  # noqa: ANN001
    name = make_user(sec_ctx)
    token = new_token(sec_ctx, name)
    with sec_ctx.session() as s:
        s.execute(update(m.ApiToken).where(m.ApiToken.token_hash == auth.sha256(token))
                  .values(expires_at=m.utcnow() - dt.timedelta(hours=1)))
    c = app.test_client()
    r = c.get(f"/api/v1/me?lang={lang}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and text in r.get_json()["error"]
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    r = c.get("/api/v1/me?lang=en", headers={"Authorization": "Bearer gp_not-a-token"})
    assert r.status_code == 401 and r.get_json()["error"] == "invalid or revoked API token"
    page = logged_in(app, "bureau").get("/ws/bureau/users").get_data(as_text=True)
    row = re.search(rf'data-user="{name}".*?</tr>', page, re.S).group(0)
    assert 'data-state="expired"' in row and "已过期" in row and "wb-revoke" not in row


# Known open-redirect shapes: browsers drop tabs/CR/LF and read "\" as "/"; encoded forms arrive decoded once.
OPEN_REDIRECTS = [
    "//evil.example", "///evil.example", "////evil.example", "/\\evil.example", "/\\/evil.example", "\\\\evil.example",
    "/\t/evil.example", "/\r/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
    " //evil.example", "/ /evil.example", "/%09/evil.example", "/%0d/evil.example", "%2F%2Fevil.example",
    "https://evil.example", "http:evil.example", "https:/evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    "data:text/html,x", "evil.example", "/\x00/evil.example", "/\x0b/evil.example", "/\u3000/evil.example",
    "/\u2028/evil.example", "/\x7f/evil.example", "/" + "a" * 5000,
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_login_next_stays_on_this_site(app, target) -> None:  # noqa: ANN001
    from urllib.parse import quote, urlsplit

    c = app.test_client()
    r = c.get("/login?next=" + quote(target, safe=""))  # the form echoes a sanitised next
    if "\x00" in target:  # a NUL character is refused before anything reads it
        assert r.status_code == 400
        r = c.post("/login", data={"name": "viewer", "password": PASSWORD, "csrf_token": csrf_of(c), "next": target})
        assert r.status_code == 400 and "Location" not in r.headers
        return
    assert r.status_code == 200
    assert 'name="next" value="/"' in r.get_data(as_text=True)
    r = c.post("/login", data={"name": "viewer", "password": PASSWORD, "csrf_token": csrf_of(c), "next": target},
               environ_base={"REMOTE_ADDR": random_addr()})
    assert r.status_code == 302, r.status_code
    location = r.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and location in ("/", "/map")


def test_login_next_keeps_a_local_path(app) -> None:  # noqa: ANN001
    for target in ("/map?x=1", "/compounds/abc", "/ws/street?street=150203001#x"):
        c = app.test_client()
        r = c.post("/login", data={"name": "viewer", "password": PASSWORD, "csrf_token": csrf_of(c), "next": target},
                   environ_base={"REMOTE_ADDR": random_addr()})
        assert r.status_code == 302 and r.headers["Location"] == target


def _sample_path(rule, values: dict[str, str]) -> str | None:  # noqa: ANN001
    """The rule's path with its arguments filled from `values` (None when one is unknown)."""
    args = {}
    for arg in rule.arguments:
        if arg not in values:
            return None
        args[arg] = values[arg]
    return rule.build(args, append_unknown=False)[1]


def route_values(ctx) -> dict[str, str]:  # noqa: ANN001
    """Plausible values for the URL arguments of the app's routes (ids that exist in the database)."""
    with ctx.session(readonly=True) as s:
        compound = s.scalars(select(m.Compound.id).order_by(m.Compound.id)).first()
        street = s.scalars(select(m.Street.code).order_by(m.Street.code)).first()
        garage = s.scalars(select(m.Garage.id).order_by(m.Garage.id)).first()
        handover = s.scalars(select(m.Handover.id).order_by(m.Handover.id)).first()
        first = {table: s.scalars(select(model.id).order_by(model.id)).first()
                 for table, model in (("problem", gov.Problem), ("dissuasion", gov.Dissuasion),
                                      ("mediation", gov.Mediation), ("org", org.OwnersOrg), ("member", org.OrgMember))}
    layer = ctx.layers[0].id if ctx.layers else "compounds"
    return {"compound_id": compound, "cid": compound, "id": compound, "compound": compound, "street": street,
            "street_code": street, "code": street, "facility": "water", "layer": layer, "layer_id": layer,
            "collection": layer, "collection_id": layer, "collectionId": layer, "featureId": compound,
            "feature_id": compound, "z": "12", "x": "3300", "y": "1530", "name": "viewer", "action": "nothing",
            "garage_id": garage, "handover_id": str(handover), "item_id": "1", "token_id": "1", "proposal_id": "1",
            "bundle_id": "1", "year": "2025", "kind": "compounds", "fmt": "geojson", "format": "geojson",
            "filename": "favicon.svg", "state": "applied", "export": "compound", "table": "compound",
            "quarter": "2026Q3", **{f"{table}_id": str(row or 1) for table, row in first.items()}}


PRIVATE_CACHE = ("/basemaps/tiles/",)  # basemap tiles: fetched by the hundred, cached privately (plugins/basemaps)


def test_every_answer_that_needs_a_login_is_not_stored(app, sec_ctx) -> None:  # noqa: ANN001
    """Every GET route that needs a login, answered to a logged-in browser and to a token: `no-store`."""
    values = route_values(sec_ctx)
    browser = logged_in(app, "admin")
    token = {"Authorization": f"Bearer {new_token(sec_ctx, 'admin')}"}
    checked, skipped = [], []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "GET" not in rule.methods or rule.endpoint.endswith("static") or getattr(view, "_public", False):
            continue
        path = _sample_path(rule, values)
        if path is None:
            skipped.append(rule.rule)
            continue
        assert app.test_client().get(path).status_code in (302, 401), path  # it does need a login
        for client, headers in ((browser, {}), (app.test_client(), token)):
            r = client.get(path, headers=headers)
            assert r.status_code != 500, path
            cache = r.headers.get("Cache-Control", "")
            if rule.rule.startswith(PRIVATE_CACHE):  # the same for every user: a private cache may keep it a while
                assert "no-store" in cache or (cache.startswith("private") and "max-age" in cache), (path, cache)
            else:
                assert "no-store" in cache, (path, r.status_code, cache)
            assert "public" not in r.headers.get("Cache-Control", "") and "Expires" not in r.headers, path
        checked.append(path)
    assert not skipped, skipped  # every route's arguments are known above
    assert len(checked) >= 30 and any(p.startswith("/api/") for p in checked) and "/account/password" in checked
    # static files stay cacheable
    assert "no-store" not in app.test_client().get("/static/favicon.svg").headers.get("Cache-Control", "")


def test_the_users_page_manages_an_old_name_with_a_slash_and_refuses_new_ones(app, sec_ctx) -> None:  # noqa: ANN001
    """Issue 25 #6: a name made before names were restricted ('/', '..') is managed from the users page (its forms
    post the name as a query parameter, not a path segment); a new one is refused with the rule spelled out."""
    import html
    import uuid

    odd = f"old/odd_{uuid.uuid4().hex[:6]}/.."
    with sec_ctx.session() as s:
        s.add(m.User(name=odd, role="viewer", password_hash=auth.hash_password(PASSWORD)))
    bureau = logged_in(app, "bureau")
    page = bureau.get("/ws/bureau/users").get_data(as_text=True)
    row = re.search(rf'data-user="{re.escape(odd)}".*?</tr>', page, re.S).group(0)
    disable = next(html.unescape(a) for a in re.findall(r'action="([^"]+)"', row) if "disable" in a)
    r = bureau.post(disable, headers=ORIGIN, data={"csrf_token": csrf_of(bureau)})
    assert r.status_code == 200, (disable, r.status_code)
    with sec_ctx.session(readonly=True) as s:
        assert auth.get_user(s, odd).disabled
    assert [e["user"] for e in audit_events(sec_ctx, entity="user", entity_id=odd, action="disable")] == ["bureau"]
    viewer = logged_in(app, "viewer")
    assert viewer.post(disable.replace("disable", "enable"), headers=ORIGIN,
                       data={"csrf_token": csrf_of(viewer)}).status_code == 403
    r = bureau.post("/ws/bureau/users", headers=ORIGIN, data={"csrf_token": csrf_of(bureau), "name": "new/one",
                                                               "role": "viewer", "password": PASSWORD})
    assert r.status_code == 400 and "不可用" in r.get_data(as_text=True) and "new/one" in r.get_data(as_text=True)
