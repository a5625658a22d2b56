"""Accounts on both databases: the `users` CLI, argon2id hashes, hashed tokens, sessions, demo accounts."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import delete, func, select

from geoplatform import auth
from geoplatform import models as m
from tests.support.compound_files import one_compound_file


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


def test_users_add_refuses_unsafe_names_and_old_odd_names_stay_manageable(ctx, db_url, cli_run) -> None:  # noqa: ANN001
    for bad in ("a/b", "..", "-x", "张 伟", "a@b", "x" * 101):
        r = cli_run(db_url, "users", "add", "--role", "viewer", "--password-stdin", "--", bad, input="longpassword\n")
        assert r.exit_code == 2 and "not allowed" in r.stderr and "letters" in r.stderr, (bad, r.stderr)
    assert cli_run(db_url, "users", "add", "张伟", "--role", "viewer", "--password-stdin",
                   input="longpassword\n").exit_code == 0
    with ctx.session() as s:  # a name made before the rule (the column takes anything)
        s.add(m.User(name="old/odd name", role="viewer", password_hash=auth.hash_password("longpassword")))
        assert auth.get_user(s, "a/b") is None
    for args in (["disable"], ["enable"], ["token"], ["passwd", "--password-stdin"]):
        r = cli_run(db_url, "users", *args, "old/odd name", input="another-password\n")
        assert r.exit_code == 0, (args, r.stderr)


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


def test_sign_in_back_off_reads_the_recorded_failures(ctx) -> None:  # noqa: ANN001
    """The database side of account_rules.sign_in_wait (its table is in test_account_rules): failures recorded with
    their time and the clock injected — no sleeping."""
    settings = auth.AuthSettings(max_per_pair=3, max_per_name=5, max_per_addr=7, delay_seconds=10,
                                 max_delay_seconds=60, max_addr_delay_seconds=20)
    t0 = m.utcnow()
    sec = dt.timedelta(seconds=1)

    def wait(name: str, addr: str | None, at: dt.datetime = t0) -> float:
        return auth.sign_in_wait_for(s, name, addr, settings, now=at).total_seconds()

    with ctx.session() as s:
        for _ in range(3):
            assert not auth.is_throttled(s, "bob", "1.2.3.4", settings, now=t0)
            auth.record_failure(s, "bob", "1.2.3.4", at=t0)
        assert wait("bob", "1.2.3.4") == 10  # the pair's bar: a delay, not a lockout
        assert wait("bob", "1.2.3.4", t0 + 10 * sec) == 0
        assert wait("bob", "9.9.9.9") == 0  # another address is not slowed by this pair
        auth.record_failure(s, "bob", "9.9.9.9", at=t0)
        auth.record_failure(s, "bob", "8.8.8.8", at=t0)
        assert wait("bob", "7.7.7.7") == 10 and wait("bob", None) == 10  # the account's bar (5), any address
        assert wait("carol", "9.9.9.9") == 0
        for other in ("dave", "erin", "frank", "gina"):  # 7 failures from 1.2.3.4 over all names: the address's bar
            auth.record_failure(s, other, "1.2.3.4", at=t0)
        assert wait("hugo", "1.2.3.4") == 10 and wait("hugo", "1.2.3.5") == 0
        auth.clear_failures(s, "bob", "1.2.3.4")  # a success forgets its own pair only
        assert wait("bob", "1.2.3.4", t0 + 10 * sec) == 0 and wait("bob", "5.5.5.5") == 0
        auth.record_failure(s, "bob", "5.5.5.5", at=t0)
        auth.record_failure(s, "bob", "5.5.5.6", at=t0)
        auth.record_failure(s, "bob", "5.5.5.7", at=t0)
        assert wait("bob", "4.4.4.4") == 10  # 2 + 3 others: the guessers elsewhere kept their count
        assert auth.retry_after(dt.timedelta(seconds=9.2)) == "10" and auth.retry_after(dt.timedelta(0)) == "1"


# --- passwords, token expiry and revocation, demo safety (issue 17) --------------------------------

def _sessions_of(ctx, name: str) -> list[bool]:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        uid = auth.get_user(s, name).id
        return list(s.scalars(select(m.UserSession.revoked).where(m.UserSession.user_id == uid)))


def test_users_passwd_sets_the_password_and_ends_every_session(ctx, db_url, cli_run) -> None:  # noqa: ANN001
    with ctx.session() as s:
        user = auth.add_user(s, "ann", "viewer", "first-password")
        auth.start_session(s, user)
        auth.start_session(s, user)
        token = auth.new_token(s, "ann")
    assert cli_run(db_url, "users", "passwd", "ann", input="second-password\n").exit_code == 2  # needs --password-stdin
    r = cli_run(db_url, "users", "passwd", "ann", "--password-stdin", input="short\n")
    assert r.exit_code == 2 and "at least 8" in r.stderr
    r = cli_run(db_url, "users", "passwd", "nobody", "--password-stdin", input="second-password\n")
    assert r.exit_code == 2 and "unknown user 'nobody'" in r.stderr
    with ctx.session(readonly=True) as s:
        assert auth.verify_password(s, "ann", "first-password") is not None  # refused attempts changed nothing
    assert _sessions_of(ctx, "ann") == [False, False]
    r = cli_run(db_url, "users", "passwd", "ann", "--password-stdin", input="second-password\n")
    assert r.exit_code == 0, r.stderr
    assert "ann" in r.stderr and "2 sessions" in r.stderr and r.stdout == ""
    with ctx.session(readonly=True) as s:
        assert auth.verify_password(s, "ann", "first-password") is None
        assert auth.verify_password(s, "ann", "second-password") is not None
        assert auth.user_for_token(s, token).name == "ann"  # API tokens are separate credentials
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "reset_password")).one()
        assert (event.entity, event.entity_id, event.after) == ("user", "ann", {"sessions_ended": 2})
    assert _sessions_of(ctx, "ann") == [True, True]


def test_tokens_expire_and_are_revoked_one_by_one(ctx, db_url, cli_run) -> None:  # noqa: ANN001
    import datetime as dt

    with ctx.session() as s:
        auth.add_user(s, "bob", "viewer", "password-1")
    tokens, ids = [], []
    for _ in range(3):
        r = cli_run(db_url, "users", "token", "bob")
        assert r.exit_code == 0, r.stderr
        tokens.append(r.stdout.strip())
        ids.append(int(re.search(r"token id (\d+), valid until (\S+ \S+) UTC", r.stderr).group(1)))
    with ctx.session() as s:  # the default lifetime: 180 days from now
        rows = s.scalars(select(m.ApiToken).order_by(m.ApiToken.id)).all()
        assert [t.id for t in rows] == ids
        for t in rows:
            assert abs((t.expires_at - m.utcnow()) - dt.timedelta(days=180)) < dt.timedelta(minutes=5)
        rows[2].expires_at = m.utcnow() - dt.timedelta(minutes=1)  # the third one has run out
    r = cli_run(db_url, "users", "revoke", str(ids[0]))
    assert r.exit_code == 0 and f"token {ids[0]}" in r.stderr and "bob" in r.stderr
    with ctx.session(readonly=True) as s:
        assert auth.user_for_token(s, tokens[0]) is None
        assert auth.user_for_token(s, tokens[1]).name == "bob"  # the others keep working
        assert auth.user_for_token(s, tokens[2]) is None  # expired
        assert auth.token_refusal(s, tokens[2]).message.key == "account.token_expired"
        assert auth.token_refusal(s, tokens[0]).message.key == "account.token_invalid"
        assert auth.token_refusal(s, "gp_forged").message.key == "account.token_invalid"
        revoked = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "revoke")).one()
        assert (revoked.entity, revoked.entity_id, revoked.after) == ("api_token", "bob",
                                                                      {"token_id": ids[0], "revoked": True})
    for bad in ("999999", "99999999999999999999999", "0"):
        r = cli_run(db_url, "users", "revoke", bad)
        assert r.exit_code == 2 and r.stdout == "", bad
    r = cli_run(db_url, "users", "list", "--json")
    bob = {u["name"]: u for u in json.loads(r.stdout)["users"]}["bob"]
    assert bob["tokens"] == 1 and bob["expired_tokens"] == 1
    assert [(t["id"], t["state"]) for t in bob["token_list"]] == [(ids[1], "active"), (ids[2], "expired")]
    human = cli_run(db_url, "users", "list").stdout
    line = next(x for x in human.splitlines() if x.startswith("bob "))
    assert f"#{ids[1]} valid until" in line and f"#{ids[2]} expired" in line and f"#{ids[0]}" not in line


def test_token_lifetime_comes_from_the_config_file(ctx, db_url, cli_run, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import datetime as dt

    with ctx.session() as s:
        auth.add_user(s, "cy", "viewer", "password-1")
    config = tmp_path / "config.toml"
    config.write_text("[rules.auth]\ntoken_lifetime_days = 7\n")
    monkeypatch.setenv("GEOPLATFORM_CONFIG", str(config))
    assert cli_run(db_url, "users", "token", "cy").exit_code == 0
    with ctx.session(readonly=True) as s:
        expires = s.scalars(select(m.ApiToken.expires_at)).one()
    assert abs((expires - m.utcnow()) - dt.timedelta(days=7)) < dt.timedelta(minutes=5)
    config.write_text("[rules.auth]\ntoken_lifetime_days = 0\n")
    r = cli_run(db_url, "users", "token", "cy")
    assert r.exit_code == 2 and "token_lifetime_days" in r.stderr


def test_token_expiry_migration_dates_existing_tokens(db_url) -> None:  # noqa: ANN001
    """Tokens issued before the migration get created_at + 180 days; the downgrade drops the column."""
    import datetime as dt

    from sqlalchemy import inspect, text

    from geoplatform import schema
    from geoplatform.db import make_engine

    eng = make_engine(db_url)
    schema.upgrade(eng, "0001")
    created = dt.datetime(2025, 1, 2, 3, 4, 5)
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO user_account (name, role, password_hash, disabled, created_at) "
                          "VALUES ('old', 'viewer', 'x', false, :at)"), {"at": created})
        conn.execute(text("INSERT INTO api_token (user_id, token_hash, created_at, revoked) "
                          "SELECT id, 'h', :at, false FROM user_account"), {"at": created})
    schema.upgrade(eng)
    with eng.connect() as conn:
        expires = conn.execute(select(m.ApiToken.__table__.c.expires_at)).scalar_one()
    assert expires == created + dt.timedelta(days=180)
    schema.downgrade(eng, "0001")
    assert "expires_at" not in {c["name"] for c in inspect(eng).get_columns("api_token")}
    with eng.connect() as conn:  # no migration step loses a token (SQLite: a recreated user_account cascades)
        assert conn.execute(text("SELECT count(*) FROM api_token")).scalar() == 1
    eng.dispose()


def _real_compound(path, cid: str = "REAL-1") -> str:  # noqa: ANN001
    return one_compound_file(path, cid, "真实小区")


def test_demo_refuses_a_database_holding_real_work(ctx, db_url, cli_run, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from geoplatform import backup

    monkeypatch.setenv("GEOPLATFORM_DEMO_PASSWORD", "demo-password-1")
    assert cli_run(db_url, "demo", "--scale", "0.05").exit_code == 0
    r = cli_run(db_url, "import", "compounds", _real_compound(tmp_path / "real.geojson"))
    assert r.exit_code == 0, r.stderr + r.stdout
    before = backup.checksum(ctx.engine)
    for args in (("demo",), ("demo", "--scale", "0.05", "--reset-passwords")):  # the README line, and a variant
        r = cli_run(db_url, *args)
        assert r.exit_code == 2 and r.stdout == "", r.stderr
        assert "compound: 1" in r.stderr and "--replace" in r.stderr and "refused" in r.stderr
        assert backup.checksum(ctx.engine) == before  # not a row changed
    kept = tmp_path / "kept.json.gz"
    r = cli_run(db_url, "demo", "--scale", "0.05", "--replace", "--keep", str(kept), "--json")
    assert r.exit_code == 0, r.stderr
    assert "replacing data that is not demo data: compound: 1" in r.stderr and str(kept) in r.stderr
    copy_head, demo_head = r.stderr.index(f"writing the content it replaces to {kept} first:"), \
        r.stderr.index("writing the demo:")  # the copy's tables, then the demo's, each under its heading
    assert copy_head < demo_head and "  compound: " in r.stderr[copy_head:demo_head]
    assert "  building: " in r.stderr[demo_head:]
    assert json.loads(r.stdout)["replaced"] == {"compound": 1} and json.loads(r.stdout)["kept"] == str(kept)
    with ctx.session(readonly=True) as s:
        assert s.get(m.Compound, "REAL-1") is None
    assert backup.checksum(ctx.engine) != before
    # the copy written first holds the database as it was: restoring it puts the real compound back
    assert cli_run(db_url, "restore", str(kept), "--replace", "--keep", str(tmp_path / "demo.json.gz")).exit_code == 0
    with ctx.session() as s:
        assert s.get(m.Compound, "REAL-1") is not None
        s.execute(delete(m.AuditEvent).where(m.AuditEvent.action == "restore"))
    assert backup.checksum(ctx.engine) == before
    assert cli_run(db_url, "demo", "--scale", "0.05", "--replace", "--keep", str(kept)).exit_code == 2  # never over
    assert backup.checksum(ctx.engine) == before


def test_demo_counts_other_accounts_as_real_work(ctx, db_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    from geoplatform import backup

    assert cli_run(db_url, "demo", "--scale", "0.05").exit_code == 0
    r = cli_run(db_url, "users", "add", "li.ming", "--role", "street_officer", "--street", "150203004",
                "--password-stdin", input="s3cret-pass!\n")
    assert r.exit_code == 0
    with ctx.session() as s:
        auth.new_token(s, "li.ming")
        auth.start_session(s, auth.get_user(s, "li.ming"))
    r = cli_run(db_url, "demo", "--scale", "0.05")
    assert r.exit_code == 2 and "user_account: 1" in r.stderr
    with ctx.session(readonly=True) as s:
        assert auth.get_user(s, "li.ming").street_code == "150203004"
    r = cli_run(db_url, "import", "compounds", _real_compound(tmp_path / "real.geojson", "REAL-2"))
    assert r.exit_code == 0
    with ctx.session() as s:  # a handover of the real compound goes with it
        s.add(m.Handover(compound_id="REAL-2", facility="water", state="applied"))
    r = cli_run(db_url, "demo", "--scale", "0.05", "--replace", "--keep", str(tmp_path / "kept.json"))
    assert r.exit_code == 0, r.stderr
    assert "compound: 1" in r.stderr and "handover: 1" in r.stderr and "user_account: 1" in r.stderr
    assert "li.ming" in json.dumps(backup.read_backup(tmp_path / "kept.json")["tables"]["user_account"])
    with ctx.session(readonly=True) as s:
        assert auth.get_user(s, "li.ming") is None
        assert s.scalar(select(func.count()).select_from(m.ApiToken)) == 0
        assert s.get(m.Compound, "REAL-2") is None


def test_demo_rerun_keeps_passwords_unless_asked(ctx, db_url, cli_run, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("GEOPLATFORM_DEMO_PASSWORD", "demo-password-1")
    assert cli_run(db_url, "demo", "--scale", "0.05").exit_code == 0
    r = cli_run(db_url, "users", "passwd", "admin", "--password-stdin", input="admin-own-pass\n")
    assert r.exit_code == 0
    with ctx.session() as s:
        viewer_session = auth.start_session(s, auth.get_user(s, "viewer"))
        viewer_token = auth.new_token(s, "viewer")
    monkeypatch.setenv("GEOPLATFORM_DEMO_PASSWORD", "demo-password-2")
    r = cli_run(db_url, "demo", "--scale", "0.05", "--seed", "5")
    assert r.exit_code == 0, r.stderr
    assert "keep their passwords" in r.stderr and "demo-password-2" not in r.stderr
    with ctx.session(readonly=True) as s:
        assert auth.verify_password(s, "admin", "admin-own-pass") is not None
        assert auth.verify_password(s, "viewer", "demo-password-1") is not None
        assert auth.user_for_session(s, viewer_session).name == "viewer"
        assert auth.user_for_token(s, viewer_token).name == "viewer"
        assert auth.get_user(s, "officer_150203001").street_code == "150203001"  # relinked to the new streets
    r = cli_run(db_url, "demo", "--scale", "0.05", "--reset-passwords")
    assert r.exit_code == 0, r.stderr
    assert "new password (demo-password-2)" in r.stderr
    with ctx.session(readonly=True) as s:
        assert auth.verify_password(s, "admin", "demo-password-2") is not None
        assert auth.verify_password(s, "viewer", "demo-password-2") is not None
        assert auth.user_for_session(s, viewer_session) is None  # a reset ends the sessions
    monkeypatch.setenv("GEOPLATFORM_DEMO_PASSWORD", "short")
    r = cli_run(db_url, "demo", "--scale", "0.05")
    assert r.exit_code == 2 and "GEOPLATFORM_DEMO_PASSWORD" in r.stderr


def test_every_demo_row_is_labelled_synthetic() -> None:
    from geoplatform import demo

    data = demo.generate(scale=0.05, seed=1)
    for table, rows in data.tables.items():
        for row in rows:
            if "source" in row:
                assert row["source"].startswith(demo.SOURCE), (table, row["source"])
    assert {"district", "street", "compound", "building"} <= set(data.tables)


def test_every_plugin_record_of_the_demo_is_demo_content(ctx, db_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    """Plugins' demo records (governance problems found by '12345', firms, organisations) are not real work:
    `demo` runs again without --replace; a problem of a real compound is real work."""
    from geoplatform import demo as demo_module
    from geoplatform.models import governance as gov

    assert cli_run(db_url, "demo", "--scale", "0.3", "--seed", "9").exit_code == 0
    with ctx.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(gov.Problem)) > 0  # the case is exercised
        assert demo_module.other_rows(s) == {}
    assert cli_run(db_url, "demo", "--scale", "0.3", "--seed", "9").exit_code == 0
    assert cli_run(db_url, "import", "compounds", _real_compound(tmp_path / "real.geojson", "REAL-3")).exit_code == 0
    with ctx.session() as s:
        s.add(gov.Problem(id="P-REAL", compound_id="REAL-3", category="hazard", source="12345",
                          found_on=dt.date(2026, 11, 1)))
    with ctx.session(readonly=True) as s:
        assert demo_module.other_rows(s) == {"compound": 1, "problem": 1}


def test_an_imported_row_never_passes_for_demo_data(ctx, db_url, cli_run, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A file that says its rows come from the synthetic demo (an edited export of the demo) imports them as imported
    rows, with a warning: `demo` run again must not take them for its own and delete them unasked."""
    monkeypatch.setenv("GEOPLATFORM_DEMO_PASSWORD", "demo-password-1")
    assert cli_run(db_url, "demo", "--scale", "0.05").exit_code == 0
    exported = tmp_path / "template.geojson"
    assert cli_run(db_url, "export", "compound", "-o", str(exported)).exit_code == 0
    doc = json.loads(exported.read_text())
    feature = doc["features"][0]
    assert feature["properties"]["source"].startswith("synthetic demo")
    feature["properties"].update(id="REAL-7", name="真实小区七")
    real = tmp_path / "real.geojson"
    real.write_text(json.dumps({**doc, "features": [feature]}, ensure_ascii=False))
    for extra in (("--dry-run",), ()):
        r = cli_run(db_url, "import", "compounds", str(real), "--json", *extra)
        assert r.exit_code == 0, r.stderr + r.stdout
        assert any("synthetic demo" in w and 'recorded as "import real.geojson"' in w
                   for w in json.loads(r.stdout)["warnings"]), r.stdout
    with ctx.session(readonly=True) as s:
        assert s.get(m.Compound, "REAL-7").source == "import real.geojson"
    r = cli_run(db_url, "demo", "--scale", "0.05")
    assert r.exit_code == 2 and "compound: 1" in r.stderr, r.stderr
