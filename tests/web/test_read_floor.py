"""Read-your-writes across requests (issue 25): a session's next requests read no revision older than its last write.

The core (tests/core/test_readcache.py) holds a reader whose floor is above the published revision until a newer
one is built; here: the web shell carries that floor from the writing request to the session's later ones, and
not to other sessions.
"""

from __future__ import annotations

from geoplatform import models as m
from geoplatform import readcache
from tests.support.webdemo import XSS_ID


def _floor_of(app, headers: dict[str, str]) -> int:  # noqa: ANN001
    with app.test_request_context("/api/v1/streets", headers=headers):
        app.preprocess_request()
        return readcache.read_floor()


def test_a_write_raises_its_sessions_read_floor_only(app, client, admin, viewer, web_ctx) -> None:  # noqa: ANN001
    with web_ctx.session(readonly=True) as s:
        c = s.get(m.Compound, XSS_ID)
        version, households = c.version, c.households
    r = client.patch(f"/api/v1/compounds/{XSS_ID}", json={"version": version, "households": (households or 0) + 1},
                     headers=admin)
    assert r.status_code == 200, r.get_data(as_text=True)
    try:
        assert web_ctx.compounds_frame().loc[XSS_ID, "households"] == (households or 0) + 1  # within the request
        assert _floor_of(app, admin) == web_ctx.write_seq > 0  # the writer's later requests include its write
        assert _floor_of(app, viewer) < web_ctx.write_seq  # another session is not held to it
    finally:
        readcache.set_read_floor(0)
        with web_ctx.session() as s:
            s.get(m.Compound, XSS_ID).households = households
