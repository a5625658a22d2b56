"""A writable demo database for web and browser tests: the scale-1 demo plus test users and test compounds."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import shapely

from geoplatform.context import Context
from tests.support.templates import DEMO, Template, copy

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_ID = "test-xss-0001"
ALIAS_ID = "test-alias-0001"
ALIAS = "测试别名花园"
PASSWORD = "correct-horse-battery"


@dataclass
class WebDemo:
    """Where the web demo lives and how to authenticate against it."""

    url: str
    admin_token: str
    viewer_token: str
    street_code: str


def build_web_demo(url: str) -> WebDemo:
    """Load the demo into an empty database at `url`, add users/tokens and the XSS/alias compounds."""
    from geoplatform import schema
    from geoplatform.db import make_engine
    from tests.support.templates import load_demo

    eng = make_engine(url)
    schema.upgrade(eng)
    eng.dispose()
    load_demo(url, 1, 42)
    return add_web_fixtures(url)


def add_web_fixtures(url: str) -> WebDemo:
    """Add the test users/tokens and the XSS/alias compounds to the scale-1 demo at `url`."""
    from geoplatform import auth as accounts
    from geoplatform.store import insert_records, read_frame

    ctx = Context.create(url)
    with ctx.session() as s:
        lon, lat = 109.8265, 40.6335
        streets = read_frame(s, "street")
        inside = streets[streets.geometry.contains(shapely.Point(lon, lat))]
        code = str((inside if len(inside) else streets)["code"].iloc[0])
        accounts.add_user(s, "web_admin", "admin", PASSWORD)
        accounts.add_user(s, "web_viewer", "viewer", PASSWORD)
        admin_token = accounts.new_token(s, "web_admin")
        viewer_token = accounts.new_token(s, "web_viewer")
        box = shapely.MultiPolygon([shapely.box(lon - 0.0008, lat - 0.0006, lon + 0.0008, lat + 0.0006)])
        insert_records(s, "compound", [
            {"id": XSS_ID, "name": XSS_NAME, "aliases": ["<b>bold</b>"], "street_code": code,
             "boundary": box, "location": shapely.Point(lon, lat), "management_mode": "none",
             "owners_org": "none", "renovation": "none", "households": 12, "source": "web test", "version": 1},
            {"id": ALIAS_ID, "name": "测试正式名小区", "aliases": [ALIAS], "street_code": code, "boundary": None,
             "location": shapely.Point(lon + 0.01, lat + 0.01), "management_mode": "professional",
             "owners_org": "owners_committee", "renovation": "none", "households": 300, "source": "web test",
             "version": 1},
        ])
    ctx.engine.dispose()
    return WebDemo(url=url, admin_token=admin_token, viewer_token=viewer_token, street_code=code)


WEB_DEMO = Template("webdemo", lambda url: asdict(add_web_fixtures(url)), DEMO)  # what build_web_demo makes


def web_demo_copy(backend: str, directory: Path) -> WebDemo:
    """A fresh copy of the web demo (built once per run) on `backend`; its tokens are the template's."""
    url, facts = copy(WEB_DEMO, backend, directory)
    return WebDemo(**{**facts, "url": url})
