"""Fixtures of the utility workspace and bureau dashboard tests: a writable demo per backend plus role accounts.

Import into a test module (`from tests.web.ws_role_fixtures import role_demo, role_ctx, role_app`); the database
is separate from the shared web demo because these tests change handover rows, import files and add users.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from geoplatform.context import Context
from tests.conftest import BACKENDS
from tests.support.webdemo import PASSWORD
from tests.web.ws_accounts import (  # noqa: F401  (cookie_login re-exported)
    BearerAuth,
    accounts_template,
    cookie_login,
    copy_with_accounts,
    web_demo_with_accounts,
)

ACCOUNTS = (("wr_water", "utility", None, "water"), ("wr_gas", "utility", None, "gas"),
            ("wr_bureau", "bureau", None, None), ("wr_admin", "admin", None, None),
            ("wr_officer", "street_officer", "street", None), ("wr_viewer", "viewer", None, None),
            ("wr_state", "state_company", None, None))


@dataclass
class RoleDemo(BearerAuth):
    """The database URL, the officer's street and a Bearer token per account."""

    url: str
    street: str
    tokens: dict[str, str]
    password: str = PASSWORD


def build_role_demo(url: str) -> RoleDemo:
    """The web demo plus the role accounts."""
    web, tokens = web_demo_with_accounts(url, ACCOUNTS)
    return RoleDemo(url=url, street=web.street_code, tokens=tokens)


ROLE_TEMPLATE = accounts_template("roledemo", ACCOUNTS)  # what build_role_demo makes, built once per run


@pytest.fixture(scope="session", params=BACKENDS)
def role_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RoleDemo:
    """The role demo on each backend (tests change it: each picks its own rows)."""
    web, tokens = copy_with_accounts(ROLE_TEMPLATE, request.param, tmp_path_factory.mktemp("db"))
    return RoleDemo(url=web.url, street=web.street_code, tokens=tokens)


@pytest.fixture(scope="session")
def role_ctx(role_demo: RoleDemo) -> Context:
    """One Context per backend, like a running server's."""
    return Context.create(role_demo.url)


@pytest.fixture
def role_app(role_ctx: Context, tmp_path):  # noqa: ANN001, ANN201
    """The Flask app on the role demo (uploads in a per-test directory)."""
    from web.app import create_app

    return create_app(role_ctx, settings={"TESTING": True, "GEOPLATFORM_UPLOAD_DIR": str(tmp_path / "uploads")})


def handover_rows(ctx: Context, facility: str, state: str, limit: int = 50) -> list[dict]:
    """Stored rows of one facility in one state, with their version (for tests that move them)."""
    from sqlalchemy import select

    from geoplatform import models as m

    with ctx.session(readonly=True) as s:
        q = (select(m.Handover.id, m.Handover.compound_id, m.Handover.version)
             .where(m.Handover.facility == facility, m.Handover.state == state).order_by(m.Handover.id).limit(limit))
        return [dict(r) for r in s.execute(q).mappings()]


def compound_geojson(cid: str, name: str, lon: float = 109.8301, lat: float = 40.6352, **props: object) -> bytes:
    """A one-feature GeoJSON of a compound (a ~100 m square near the web demo's test compounds)."""
    import json

    d = 0.0005
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
    properties = {"id": cid, "name": name, "management_mode": "professional", "owners_org": "owners_committee",
                  "households": 240, **props}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": properties, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")
