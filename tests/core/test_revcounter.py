"""The data revision's counters (geoplatform/revcounter.py): kept by triggers, so `Context.data_revision()` reads a
few rows and still equals the scan of every table after writes by the CLI, the API and another process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from geoplatform import auth, revcounter
from geoplatform.context import Context
from geoplatform.models import VERSIONED
from tests.support.compound_files import one_compound_file


def _counted(ctx: Context) -> set[str]:
    with ctx.engine.connect() as conn:
        return set(revcounter.read(conn))


def _seed(ctx: Context, *ids: str) -> None:
    """The street 150203006 (no boundary) and compounds `ids` in it, through the ORM."""
    from geoalchemy2 import WKTElement

    from geoplatform import models as m

    with ctx.session() as s:
        if s.get(m.Street, STREET) is None:
            s.add(m.Street(code=STREET, name="计数街道"))
            s.flush()
        for cid in ids:
            s.add(m.Compound(id=cid, name=cid, street_code=STREET, location=WKTElement("POINT(109.8 40.643)", srid=4326)))


STREET = "150203006"


def _compound_file(path, cid: str) -> str:  # noqa: ANN001
    return one_compound_file(path, cid, "计数小区")


OTHER_PROCESS = """
import sys
from sqlalchemy import text
from geoplatform.db import make_engine
eng = make_engine(sys.argv[1])
with eng.begin() as c:
    c.execute(text("UPDATE compound SET version = version + 5, name = 'x' WHERE id = 'C-CLI-1'"))
    c.execute(text("UPDATE ledger_item SET done_date = NULL"))
with eng.begin() as c:
    c.execute(text("DELETE FROM compound WHERE id = 'C-CLI-2'"))
eng.dispose()
"""


def test_counters_equal_the_scan_after_cli_api_and_another_process_writes(ctx, db_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    from web.app import create_app

    assert {m.__table__.name for m in VERSIONED} | {"ledger_item"} <= _counted(ctx)  # every table by its counters
    _seed(ctx)
    seen = [ctx.data_revision()]
    assert seen[0] == ctx.scan_revision()

    for cid in ("C-CLI-1", "C-CLI-2"):  # the CLI (the importer: inserts)
        r = cli_run(db_url, "import", "compounds", _compound_file(tmp_path / f"{cid}.geojson", cid))
        assert r.exit_code == 0, r.stderr + r.stdout
        seen.append(ctx.data_revision())
        assert seen[-1] == ctx.scan_revision()

    with ctx.session() as s:  # the API (an ORM update bumping `version`)
        auth.add_user(s, "rev-admin", "admin", "rev-counter-password-1")
        token = auth.new_token(s, "rev-admin")
    client = create_app(ctx, settings={"TESTING": True}).test_client()
    r = client.patch("/api/v1/compounds/C-CLI-1", headers={"Authorization": f"Bearer {token}"},
                     json={"version": 1, "name": "改名小区"})
    assert r.status_code == 200, r.get_data(as_text=True)
    seen.append(ctx.data_revision())
    assert seen[-1] == ctx.scan_revision()

    done = subprocess.run([sys.executable, "-c", OTHER_PROCESS, db_url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # another process: raw SQL update and delete
    seen.append(ctx.data_revision())
    assert seen[-1] == ctx.scan_revision()
    assert len(set(seen)) == len(seen)  # every write changed the fingerprint


def test_a_table_without_its_triggers_is_scanned(ctx) -> None:  # noqa: ANN001
    from sqlalchemy import text

    drop = ("DROP TRIGGER gp_rev_upd_compound" if ctx.engine.dialect.name == "sqlite"
            else "DROP TRIGGER gp_rev_upd_compound ON compound")
    with ctx.engine.begin() as conn:
        conn.execute(text(drop))  # (as a later migration recreating the table would)
    assert "compound" not in _counted(ctx) and "building" in _counted(ctx)
    _seed(ctx, "C-T")
    before = ctx.data_revision()
    with ctx.engine.begin() as conn:  # an update the (dropped) trigger would have counted
        conn.execute(text("UPDATE compound SET version = 7 WHERE id = 'C-T'"))
    assert ctx.data_revision() == ctx.scan_revision() != before
    with ctx.engine.begin() as conn:  # re-installed: counted again, from a recount
        revcounter.install(conn, {"compound": "version"})
    assert "compound" in _counted(ctx) and ctx.data_revision() == ctx.scan_revision()


def test_many_write_statements_fold_into_one_counter_row(ctx) -> None:  # noqa: ANN001
    from sqlalchemy import text

    _seed(ctx, "C-F")
    for _ in range(revcounter.COMPACT_AT + 1):  # one statement (PostgreSQL: one counter row) each
        with ctx.engine.begin() as conn:
            conn.execute(text("UPDATE compound SET version = version + 1 WHERE id = 'C-F'"))
    value = ctx.data_revision()  # reads, then folds (PostgreSQL)
    assert value == ctx.scan_revision() == ctx.data_revision()
    with ctx.engine.connect() as conn:
        assert revcounter.read(conn)["compound"][3] == 1


def test_the_reader_looks_for_the_triggers_install_makes() -> None:
    for dialect, n in revcounter.N_TRIGGERS.items():
        sql = revcounter._READ_SQL[dialect]
        assert f"'{revcounter.PREFIX}'" in sql and f") = {n} GROUP BY" in sql
        assert f"substr(m.name, 1, {len(revcounter.PREFIX)})" in sql or dialect != "sqlite"


def test_the_demo_database_is_counted(demo_ctx) -> None:  # noqa: ANN001
    """The demo loader (which clears every data table) leaves the counters alone: they hold its rows."""
    assert {m.__table__.name for m in VERSIONED} | {"ledger_item"} <= _counted(demo_ctx)
    assert demo_ctx.data_revision() == demo_ctx.scan_revision()


def test_reading_the_revision_does_not_wait_for_a_writer(ctx) -> None:  # noqa: ANN001
    """SQLite: the fingerprint is read without the write lock (as the scan was, in a read-only session)."""
    from sqlalchemy import text

    if ctx.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    before = ctx.data_revision()
    with ctx.engine.begin() as conn:  # BEGIN IMMEDIATE: this connection holds the write lock
        conn.execute(text("UPDATE revision_counter SET rows = rows WHERE tbl = 'compound'"))
        assert ctx.data_revision() == before  # would wait for the lock (then fail) if it took it too
