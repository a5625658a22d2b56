"""Issue 25 item 4: one text policy for both databases — a NUL character (U+0000) is refused at every entry
point with a catalogue message (SQLite would store it, PostgreSQL refuses it at commit): HTTP path / query /
form / JSON body, and restore (naming table, row, column). Import rows: tests/io/test_text_policy_import.py."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from geoplatform import backup
from geoplatform import models as m
from geoplatform.context import Context
from tests.conftest import _copy_url
from tests.support.templates import MIGRATED
from tests.web.ws_role_fixtures import role_app, role_ctx, role_demo  # noqa: F401


def test_http_refuses_nul_in_path_query_form_and_json(role_app, role_ctx, role_demo) -> None:  # noqa: ANN001, F811
    client = role_app.test_client()
    auth = role_demo.auth("wr_admin")
    with role_ctx.session(readonly=True) as s:
        cid = s.scalar(select(m.Compound.id).order_by(m.Compound.id).limit(1))
    cases = [
        ("path", client.get("/api/v1/compounds/x%00y", headers=auth)),
        ("query", client.get("/api/v1/audit?user=%00", headers=auth)),
        ("query", client.get("/api/v1/compounds?street=%00", headers=auth)),
        ("json", client.patch(f"/api/v1/compounds/{cid}", json={"version": 1, "name": "坏\x00名"}, headers=auth)),
        ("json", client.patch(f"/api/v1/compounds/{cid}", data=b'{"version": 1, "name": "\\u0000"}',
                              content_type="application/json", headers=auth)),
    ]
    for part, r in cases:
        assert r.status_code == 400, (part, r.status_code)
        body = r.get_json()
        assert body["key"] == "text.nul.request" and "NUL" in body["error"], body
    # a JSON text that only spells a backslash and u0000 holds no NUL: not refused by the policy
    r = client.patch(f"/api/v1/compounds/{cid}", data=b'{"version": -1, "name": "\\\\u0000"}',
                     content_type="application/json", headers=auth)
    assert r.status_code != 400 or r.get_json().get("key") != "text.nul.request"
    # a multipart form field too (the import form), in the user's language
    r = client.post("/ws/bureau/import", headers=auth, content_type="multipart/form-data",
                    data={"kind": "compounds", "crs": "wgs84", "sheet": "表\x00一",
                          "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")})
    assert r.status_code == 400 and "表单字段中含有 NUL 字符" in r.get_json()["error"]
    r = client.get("/api/v1/audit?user=%00&lang=en", headers={**auth, "Accept": "application/json"})
    assert r.status_code == 400 and "a NUL character (U+0000) in a query parameter" in r.get_json()["error"]
    with role_ctx.session(readonly=True) as s:
        assert "\x00" not in s.scalar(select(m.Compound.name).where(m.Compound.id == cid))


def test_restore_of_a_sqlite_backup_with_nul_into_postgis_names_table_row_column(tmp_path, tmp_path_factory) -> None:
    sqlite = Context.create(_copy_url("sqlite", MIGRATED, tmp_path_factory)[0])
    with sqlite.session() as s:  # SQLite takes the NUL
        s.add(m.AuditEvent(id=7, user_name="t", action="update", entity="compound", entity_id="c1"))
        s.add(m.AuditEvent(id=8, user_name="坏\x00人", action="update", entity="compound", entity_id="c2"))
    path = tmp_path / "with-nul.json"
    backup.backup(sqlite.engine, path)
    target = Context.create(_copy_url("postgis", MIGRATED, tmp_path_factory)[0])
    with target.session() as s:
        s.add(m.AuditEvent(user_name="before", action="x", entity="y"))
    before = backup.checksum(target.engine)
    with pytest.raises(backup.BackupError) as exc:
        backup.restore(target.engine, path)
    assert exc.value.message.key == "backup.nul"
    text = exc.value.message.text("en")
    assert "with-nul.json: table audit_event, row 2 (id=8), column user_name" in text and "nothing" in text
    assert "表 audit_event 第 2 行（id=8）的「user_name」列" in exc.value.message.text("zh")
    assert backup.checksum(target.engine) == before  # nothing half-written
