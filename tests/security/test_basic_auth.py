"""HTTP Basic (user name + API token) for GIS clients, on both databases: same user, role and audit as Bearer;
wrong credentials audited and throttled; cross-origin writes refused. ETag / If-Match on compounds."""

from __future__ import annotations

import base64

from tests.security.conftest import (
    PASSWORD,
    audit_events,
    compound_row,
    make_user,
    new_token,
    pick_compounds,
    random_addr,
)


def basic(name: str, secret: str) -> dict[str, str]:
    """An Authorization header for HTTP Basic."""
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()}


def _officer(p: dict) -> str:
    return f"officer_{p['a_street']}"


def test_basic_with_a_token_is_the_tokens_user(app, sec_ctx) -> None:  # noqa: ANN001
    name = make_user(sec_ctx)
    token = new_token(sec_ctx, name)
    c = app.test_client()
    me = c.get("/api/v1/me", headers=basic(name, token))
    assert me.status_code == 200 and me.get_json()["name"] == name
    bearer = c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert {k: me.get_json()[k] for k in ("name", "role", "street_code")} == \
        {k: bearer[k] for k in ("name", "role", "street_code")}
    assert c.get("/ogc/collections", headers=basic(name, token)).status_code == 200
    # a viewer stays a viewer: the audit log is the bureau's (same refusal as with Bearer)
    assert c.get("/api/v1/audit", headers=basic(name, token)).status_code == \
        c.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_basic_refuses_a_password_another_users_token_and_garbage(app, sec_ctx) -> None:  # noqa: ANN001
    name, other = make_user(sec_ctx), make_user(sec_ctx)
    token = new_token(sec_ctx, other)
    c = app.test_client()
    for header in (basic(name, PASSWORD), basic(name, token), {"Authorization": "Basic !!not-base64"},
                   basic(name, "")):
        r = c.get("/ogc/collections", headers=header, environ_base={"REMOTE_ADDR": random_addr()})
        assert r.status_code == 401, header
        assert r.headers["WWW-Authenticate"].startswith("Basic")
        assert "API token" in r.get_json()["error"]
    denied = audit_events(sec_ctx, entity="user", entity_id=name, outcome="denied", action="login")
    assert len(denied) >= 2 and "HTTP Basic" in denied[0]["detail"]


def test_failed_basic_attempts_are_throttled_like_logins(app, sec_ctx) -> None:  # noqa: ANN001
    sec_ctx.config.rules["auth"] = {"delay_seconds": 600, "max_delay_seconds": 600}  # no test outlives it: untimed
    name = make_user(sec_ctx)
    token = new_token(sec_ctx, name)
    c = app.test_client()
    addr = random_addr()
    codes = [c.get("/ogc/", headers=basic(name, f"gp_guess{i}"), environ_base={"REMOTE_ADDR": addr}).status_code
             for i in range(6)]
    assert codes[:4] == [401] * 4 and codes[-1] == 429
    assert c.get("/ogc/", headers=basic(name, token), environ_base={"REMOTE_ADDR": addr}).status_code == 200


def test_anonymous_ogc_is_told_basic_works_the_map_api_is_not(client) -> None:  # noqa: ANN001
    ogc = client.get("/ogc/collections")
    assert ogc.status_code == 401 and "Basic" in ogc.headers["WWW-Authenticate"]
    api = client.get("/api/v1/layers")
    assert api.status_code == 401 and "Basic" not in api.headers["WWW-Authenticate"]


def test_basic_writes_need_no_csrf_token_but_a_cross_site_origin_is_refused(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    h = basic(_officer(p), new_token(sec_ctx, _officer(p)))
    c = app.test_client()
    v = compound_row(sec_ctx, p["a"])["version"]
    evil = c.patch(f"/api/v1/compounds/{p['a']}", json={"households": 777, "version": v},
                   headers={**h, "Origin": "https://evil.example"})
    assert evil.status_code == 403
    ok = c.patch(f"/api/v1/compounds/{p['a']}", json={"households": 778, "version": v}, headers=h)
    assert ok.status_code == 200, ok.get_json()
    assert compound_row(sec_ctx, p["a"])["households"] == 778
    event = audit_events(sec_ctx, entity="compound", entity_id=p["a"], action="update")[0]
    assert event["user"] == _officer(p)
    # outside the officer's street: 403 as with Bearer
    vb = compound_row(sec_ctx, p["b"])["version"]
    assert c.patch(f"/api/v1/compounds/{p['b']}", json={"households": 5, "version": vb}, headers=h).status_code == 403


def test_compound_etag_and_if_match(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    h = {"Authorization": f"Bearer {new_token(sec_ctx, _officer(p))}"}
    c = app.test_client()
    r = c.get(f"/api/v1/compounds/{p['a']}", headers=h)
    etag = r.headers["ETag"]
    version = r.get_json()["version"]
    assert f'v{version}.' in etag
    assert c.get(f"/api/v1/compounds/{p['a']}", headers={**h, "If-None-Match": etag}).status_code == 304
    households = compound_row(sec_ctx, p["a"])["households"] or 0
    # If-Match instead of the body's version
    ok = c.patch(f"/api/v1/compounds/{p['a']}", json={"households": households + 1}, headers={**h, "If-Match": etag})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["version"] == version + 1
    # the same (now stale) ETag again: refused, nothing written
    stale = c.patch(f"/api/v1/compounds/{p['a']}", json={"households": households + 9},
                    headers={**h, "If-Match": etag})
    assert stale.status_code == 412 and stale.get_json()["version"] == version + 1
    assert compound_row(sec_ctx, p["a"])["households"] == households + 1
    new = c.get(f"/api/v1/compounds/{p['a']}", headers=h).headers["ETag"]
    assert new != etag
    both = c.patch(f"/api/v1/compounds/{p['a']}", json={"households": 3, "version": version},
                   headers={**h, "If-Match": new})
    assert both.status_code == 400  # the body and the header disagree
    junk = c.patch(f"/api/v1/compounds/{p['a']}", json={"households": 3}, headers={**h, "If-Match": '"abc"'})
    assert junk.status_code == 412
    assert c.patch(f"/api/v1/compounds/{p['a']}", json={"households": 3}, headers=h).status_code == 400  # no version
