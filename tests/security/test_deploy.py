"""Deployment (issue 25 #9): files with secrets are the owner's only; X-Forwarded-* is believed from the configured
reverse proxies only, and then the session cookie is Secure and HSTS is sent."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from geoplatform import auth
from geoplatform import models as m
from tests.security.conftest import PASSWORD


@pytest.fixture
def umask_022():  # noqa: ANN201
    """The usual umask (files 0644 unless the code says otherwise), whatever the test runner has."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_side_files_are_private(tmp_path, cli_run, umask_022) -> None:  # noqa: ANN001
    db = tmp_path / "new" / "geoplatform.sqlite"
    r = cli_run(f"sqlite:///{db}", "init")
    assert r.exit_code == 0, r.stderr
    files = sorted(db.parent.glob("geoplatform.sqlite*"))
    assert db in files
    assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the file written is the same for both backends
@pytest.mark.parametrize("name", ["nightly.json", "nightly.json.gz"])
def test_a_backup_is_private_even_over_an_existing_readable_file(engine, tmp_path, umask_022, name) -> None:  # noqa: ANN001
    from geoplatform import backup

    path = tmp_path / name
    path.write_bytes(b"old")
    path.chmod(0o644)
    backup.backup(engine, path)
    assert _mode(path) == 0o600
    assert backup.read_backup(path)["format"] == backup.FORMAT


def test_private_files_helpers_never_widen_and_never_follow_the_umask(tmp_path, umask_022) -> None:  # noqa: ANN001
    from geoplatform.private_files import create_private, write_private

    a = tmp_path / "a"
    assert create_private(a) and _mode(a) == 0o600 and a.read_bytes() == b""
    a.write_bytes(b"kept")
    assert not create_private(a) and a.read_bytes() == b"kept"  # an existing file is left alone
    b = tmp_path / "b"
    b.write_text("x")
    b.chmod(0o666)
    write_private(b, b"secret")
    assert _mode(b) == 0o600 and b.read_bytes() == b"secret"


def test_an_old_readable_database_is_named_with_the_fix(tmp_path) -> None:  # noqa: ANN001
    from geoplatform.private_files import exposure

    db = tmp_path / "old.sqlite"
    db.write_bytes(b"")
    db.chmod(0o644)
    assert "0644" in exposure(db) and f"chmod 600 {db}*" in exposure(db)
    db.chmod(0o600)
    assert exposure(db) is None and exposure(tmp_path / "missing.sqlite") is None


# --- reverse proxy ----------------------------------------------------------------------------

PROXY = "192.0.2.10"  # the nginx of the tests
CLIENT = "203.0.113.7"  # the browser nginx saw
# headers and cookies, not SQL: the security database of one backend is enough
ONE_BACKEND = pytest.mark.parametrize("sec_url", ["sqlite"], indirect=True)
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": f"198.51.100.1, {CLIENT}"}


def _app(sec_ctx, proxies: list[str]):  # noqa: ANN001, ANN202
    from web.app import create_app

    sec_ctx.config.trusted_proxies = proxies
    return create_app(sec_ctx)


def _session_cookie(response) -> str:  # noqa: ANN001
    cookies = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("geoplatform_session=")]
    assert cookies, response.headers
    return cookies[0]


def _csrf(page) -> str:  # noqa: ANN001
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, "no CSRF field on the login page"
    return found.group(1)


def _failed_login_addr(app, sec_ctx, peer: str) -> str | None:  # noqa: ANN001
    """The address a failed sign-in was counted against (the throttling's view of the client)."""
    from sqlalchemy import select

    name = f"proxy_probe_{peer.replace('.', '_')}_{os.getpid()}"
    c = app.test_client()
    page = c.get("/login", environ_base={"REMOTE_ADDR": peer}, headers=FORWARDED)
    r = c.post("/login", data={"name": name, "password": "wrong-password", "csrf_token": _csrf(page)},
               headers=FORWARDED, environ_base={"REMOTE_ADDR": peer})
    assert r.status_code == 401, r.status_code
    with sec_ctx.session() as s:
        addrs = s.scalars(select(m.LoginAttempt.remote_addr).where(m.LoginAttempt.name == name)).all()
        auth.clear_failures(s, name)
    return addrs[0] if addrs else None


@ONE_BACKEND
def test_a_configured_proxy_is_believed_secure_cookie_hsts_and_client_address(sec_ctx) -> None:  # noqa: ANN001
    app = _app(sec_ctx, ["127.0.0.1", "192.0.2.0/28"])
    r = app.test_client().get("/login", environ_base={"REMOTE_ADDR": PROXY}, headers=FORWARDED)
    assert r.status_code == 200
    assert "; Secure" in _session_cookie(r)
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert _failed_login_addr(app, sec_ctx, PROXY) == CLIENT  # the last hop nginx appended, not a client's claim


@ONE_BACKEND
def test_anyone_else_claiming_https_or_an_address_is_not_believed(sec_ctx) -> None:  # noqa: ANN001
    app = _app(sec_ctx, ["192.0.2.0/28"])
    stranger = "198.51.100.99"
    r = app.test_client().get("/login", environ_base={"REMOTE_ADDR": stranger}, headers=FORWARDED)
    assert r.status_code == 200
    assert "Secure" not in _session_cookie(r)
    assert "Strict-Transport-Security" not in r.headers
    assert _failed_login_addr(app, sec_ctx, stranger) == stranger


@ONE_BACKEND
def test_without_configured_proxies_nobody_is_believed(sec_ctx) -> None:  # noqa: ANN001
    app = _app(sec_ctx, [])
    r = app.test_client().get("/login", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers=FORWARDED)
    assert "Secure" not in _session_cookie(r) and "Strict-Transport-Security" not in r.headers


@ONE_BACKEND
def test_the_setting_comes_from_the_environment_and_a_bad_value_is_named(monkeypatch, sec_ctx) -> None:  # noqa: ANN001
    from geoplatform.config import load_config

    monkeypatch.setenv("GEOPLATFORM_TRUSTED_PROXIES", " 127.0.0.1, ::1 ,10.0.0.0/8")
    assert load_config("sqlite://").trusted_proxies == ["127.0.0.1", "::1", "10.0.0.0/8"]
    with pytest.raises(ValueError, match="nginx.local"):
        _app(sec_ctx, ["127.0.0.1", "nginx.local"])


@ONE_BACKEND
@pytest.mark.parametrize(("peer", "write"), [(PROXY, 302), ("198.51.100.99", 403)])
def test_behind_tls_a_browser_write_passes_the_origin_check_only_through_the_trusted_proxy(sec_ctx, peer, write) -> None:  # noqa: ANN001
    """nginx speaks plain HTTP to waitress; the browser's Origin is https://…. Only when the app believes the
    proxy's X-Forwarded-Proto does it see its own origin as https and accept the browser's writes (here: logout);
    anyone else sending the same headers stays on http and the write is refused as cross-origin."""
    app = _app(sec_ctx, [PROXY])
    c = app.test_client()
    env = {"REMOTE_ADDR": peer}
    page = c.get("/login", environ_base=env, headers=FORWARDED)
    r = c.post("/login", data={"name": "viewer", "password": PASSWORD, "csrf_token": _csrf(page)}, headers=FORWARDED,
               environ_base=env)
    assert r.status_code == 302 and ("; Secure" in _session_cookie(r)) is (peer == PROXY)
    assert c.get("/api/v1/me", environ_base=env, headers=FORWARDED).status_code == 200
    with c.session_transaction() as sess:
        token = sess["csrf"]
    r = c.post("/logout", environ_base=env, headers={**FORWARDED, "Origin": "https://localhost", "X-CSRF-Token": token})
    assert r.status_code == write
