"""Accounts on both databases: the `users` CLI, argon2id hashes, hashed tokens, sessions, demo accounts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from geoplatform import auth
from geoplatform import models as m


def test_users_cli_add_token_disable_enable_list(ctx, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "demo", "--scale", "0.05")
    assert r.exit_code == 0, r.stderr
    r = cli_run(db_url, "users", "add", "li.ming", "--role", "street_officer", "--street", "150203004",
                "--password-stdin", input="s3cret-pass!\n")
    assert r.exit_code == 0, r.stderr
    with ctx.session(readonly=True) as s:
        user = auth.get_user(s, "li.ming")
        assert user.street_code == "150203004" and user.role == "street_officer"
        assert user.password_hash.startswith("$argon2id$") and "s3cret" not in user.password_hash
        assert auth.verify_password(s, "li.ming", "s3cret-pass!") is not None
        assert auth.verify_password(s, "li.ming", "s3cret-pass") is None
    r = cli_run(db_url, "users", "token", "li.ming")
    assert r.exit_code == 0
    token = r.stdout.strip()
    assert token.startswith("gp_") and len(token) > 40 and "Bearer" in r.stderr
    with ctx.session(readonly=True) as s:
        stored = s.scalars(select(m.ApiToken.token_hash)).all()
        assert stored == [auth.sha256(token)]  # only the hash is kept
        assert auth.user_for_token(s, token).name == "li.ming"
    assert cli_run(db_url, "users", "disable", "li.ming").exit_code == 0
    with ctx.session(readonly=True) as s:
        assert auth.user_for_token(s, token) is None
        assert auth.verify_password(s, "li.ming", "s3cret-pass!") is None
    assert cli_run(db_url, "users", "enable", "li.ming").exit_code == 0
    r = cli_run(db_url, "users", "list", "--json")
    rows = {u["name"]: u for u in json.loads(r.stdout)["users"]}
    assert rows["li.ming"]["disabled"] is False and "password_hash" not in rows["li.ming"]
    with ctx.session(readonly=True) as s:
        assert auth.user_for_token(s, token) is None  # a revoked token stays revoked
        events = s.scalars(select(m.AuditEvent.action).where(m.AuditEvent.entity == "user")).all()
        assert {"create", "disable", "enable"} <= set(events)


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["--role", "king"], "longpassword\n", "unknown role"),
    (["--role", "street_officer"], "longpassword\n", "needs --street"),
    (["--role", "street_officer", "--street", "nowhere"], "longpassword\n", "unknown street"),
    (["--role", "utility"], "longpassword\n", "needs --utility"),
    (["--role", "utility", "--utility", "cable"], "longpassword\n", "needs --utility"),
    (["--role", "viewer"], "short\n", "at least 8"),
    (["--role", "viewer", "--utility", "water"], "longpassword\n", "only for utility"),
])
def test_users_add_rejects_bad_input(ctx, db_url, cli_run, args, stdin, message) -> None:  # noqa: ANN001
    r = cli_run(db_url, "users", "add", "someone", *args, "--password-stdin", input=stdin)
    assert r.exit_code == 2 and message in r.stderr and r.stdout == ""
    with ctx.session(readonly=True) as s:
        assert auth.get_user(s, "someone") is None


def test_users_add_needs_stdin_and_refuses_duplicates(ctx, db_url, cli_run) -> None:  # noqa: ANN001
    assert cli_run(db_url, "users", "add", "x", "--role", "viewer").exit_code == 2
    assert cli_run(db_url, "users", "add", "x", "--role", "viewer", "--password-stdin", input="password1\n").exit_code == 0
    r = cli_run(db_url, "users", "add", "x", "--role", "bureau", "--password-stdin", input="password2\n")
    assert r.exit_code == 2 and "already exists" in r.stderr
    assert cli_run(db_url, "users", "token", "nobody").exit_code == 2
    assert cli_run(db_url, "users", "disable", "nobody").exit_code == 2


def test_demo_creates_accounts_and_says_how_to_log_in(ctx, db_url, cli_run, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("GEOPLATFORM_DEMO_PASSWORD", "demo-password-1")
    r = cli_run(db_url, "demo", "--scale", "0.05", "--json")
    assert r.exit_code == 0, r.stderr
    json.loads(r.stdout)  # stdout stays one JSON document
    assert "demo-password-1" in r.stderr and "/login" in r.stderr
    with ctx.session(readonly=True) as s:
        names = {u["name"]: u for u in auth.list_users(s)}
        streets = s.scalars(select(m.Street.code)).all()
        for name in ("admin", "bureau", "state_company", "viewer", "utility_water", "utility_gas"):
            assert name in names
        for code in streets:
            assert names[f"officer_{code}"]["street_code"] == code
        assert names["utility_heating"]["utility"] == "heating"
        assert auth.verify_password(s, "officer_150203001", "demo-password-1") is not None
    # a second demo run replaces the streets and keeps working (officers re-linked)
    assert cli_run(db_url, "demo", "--scale", "0.05").exit_code == 0


def test_sessions_expire_and_are_revocable(ctx) -> None:  # noqa: ANN001
    import datetime as dt

    with ctx.session() as s:
        s.add(m.Street(code="150203001", name="少先路街道"))
        user = auth.add_user(s, "ann", "viewer", "password-1")
        live = auth.start_session(s, user)
        expired = auth.start_session(s, user, lifetime=dt.timedelta(seconds=-1))
        other = auth.start_session(s, user)
    with ctx.session() as s:
        assert auth.user_for_session(s, live).name == "ann"
        assert auth.user_for_session(s, expired) is None
        assert auth.user_for_session(s, "forged") is None
        stored = set(s.scalars(select(m.UserSession.id_hash)).all())
        assert live not in stored and auth.sha256(live) in stored
        auth.end_session(s, live)
    with ctx.session() as s:
        assert auth.user_for_session(s, live) is None
        assert auth.user_for_session(s, other).name == "ann"
        auth.revoke_user_sessions(s, user.id)
    with ctx.session(readonly=True) as s:
        assert auth.user_for_session(s, other) is None


def test_throttle_counts_failures_by_name_and_address(ctx) -> None:  # noqa: ANN001
    settings = auth.ThrottleSettings(max_per_name=3, max_per_addr=5)
    with ctx.session() as s:
        for _ in range(3):
            assert not auth.is_throttled(s, "bob", "1.2.3.4", settings)
            auth.record_failure(s, "bob", "1.2.3.4")
        assert auth.is_throttled(s, "bob", "9.9.9.9", settings)
        assert not auth.is_throttled(s, "carol", "9.9.9.9", settings)
        auth.record_failure(s, "dave", "1.2.3.4")
        auth.record_failure(s, "erin", "1.2.3.4")
        assert auth.is_throttled(s, "frank", "1.2.3.4", settings)
        auth.clear_failures(s, "bob")
        assert not auth.is_throttled(s, "bob", None, settings)
