"""Issue 25 item 1 over HTTP: an uploaded few-MB zip carrying ≈ 1 GB of GeoJSON is refused in bounded memory.

The app runs in a child process (`tests/io/test_memory_bounds.run_limited`: an address-space cap, peak RSS of that
child from `os.wait4`); the refusal names the file and says why in the user's language. No timings.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.io.test_memory_bounds import PEAK_RSS_LIMIT, bomb, run_limited  # noqa: F401
from tests.web.ws_role_fixtures import role_demo  # noqa: F401

WEB_CHILD = """
import io, json, sys
from geoplatform.context import Context
from web.app import create_app

url, token, path, uploads = sys.argv[1:5]
app = create_app(Context.create(url), settings={"TESTING": True, "GEOPLATFORM_UPLOAD_DIR": uploads})
with open(path, "rb") as fh:
    data = fh.read()
r = app.test_client().post("/ws/bureau/import?lang=en", headers={"Authorization": "Bearer " + token},
                           content_type="multipart/form-data",
                           data={"kind": "compounds", "crs": "declared", "file": (io.BytesIO(data), "小区数据.zip")})
print(json.dumps({"status": r.status_code, "body": r.get_data(as_text=True)}))
"""


@pytest.mark.parametrize("role_demo", ["sqlite"], indirect=True)  # refused before the database is used
def test_web_upload_of_a_zip_bomb_is_refused_in_bounded_memory(bomb, role_demo, tmp_path) -> None:  # noqa: ANN001, F811
    rc, peak, out, err = run_limited([sys.executable, "-c", WEB_CHILD, role_demo.url, role_demo.tokens["wr_bureau"],
                                      str(bomb), str(tmp_path / "uploads")], tmp_path)
    assert rc == 0, err[-2000:]
    page = json.loads(out)
    assert page["status"] == 200
    body = page["body"]
    assert "小区数据.zip" in body and "is 1000 MB uncompressed, over the 52 MB limit for one file" in body
    assert not any((tmp_path / "uploads").rglob("*.geojson"))  # nothing extracted, the refused upload removed
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / 2**20:.0f} MB"
