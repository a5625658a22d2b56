"""Fixtures of the street workspace and compound page tests: their own writable demo per backend plus role accounts.

Import the fixtures into a test module (`from tests.web.ws_fixtures import ws_demo, ws_ctx, ws_app`); the
database is separate from the shared web demo because these tests accept and reject proposals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pytest

from geoplatform.context import Context
from tests.conftest import BACKENDS
from tests.support.templates import Template, copy, facts_of
from tests.support.webdemo import PASSWORD, WEB_DEMO, WebDemo, build_web_demo


@dataclass
class WsDemo:
    """The workspace demo: database URL, two streets with proposals, and a token per account."""

    url: str
    street: str  # the officer's street
    other_street: str  # another street with proposals
    street_name: str
    tokens: dict[str, str]
    xss_street: str  # the street of the web demo's compound with a hostile name
    password: str = PASSWORD
    officer: str = "ws_officer"
    other_officer: str = "ws_officer_other"

    def auth(self, name: str) -> dict[str, str]:
        """Bearer headers of one account (ws_officer, ws_officer_other, ws_admin, ws_bureau, ws_viewer, ws_state)."""
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def build_ws_demo(url: str) -> WsDemo:
    """The web demo plus accounts; the two streets are the ones with the most building proposals."""
    return add_ws_accounts(build_web_demo(url))


def add_ws_accounts(web: WebDemo) -> WsDemo:
    """The accounts of the workspace demo, added to the web demo `web`."""
    from geoplatform import auth as accounts
    from plugins.bundling import service

    url = web.url
    ctx = Context.create(url)
    with ctx.session() as s:
        plan = service.compute_plan(s, service.settings_for(ctx))
        p = plan.proposals
        ranked = p[p["orphan_kind"] == "building"].groupby("street").size().sort_values(ascending=False, kind="stable")
        street, other = str(ranked.index[0]), str(ranked.index[1])
        users = [("ws_officer", "street_officer", street), ("ws_officer_other", "street_officer", other),
                 ("ws_admin", "admin", None), ("ws_bureau", "bureau", None), ("ws_viewer", "viewer", None),
                 ("ws_state", "state_company", None)]
        for name, role, code in users:
            accounts.add_user(s, name, role, PASSWORD, code)
        tokens = {name: accounts.new_token(s, name) for name, _, _ in users}
        from geoplatform.models import Street

        street_name = s.get(Street, street).name
    ctx.engine.dispose()
    return WsDemo(url=url, street=street, other_street=other, street_name=street_name, tokens=tokens,
                  xss_street=web.street_code)


def _ws_template_build(url: str) -> dict:
    return asdict(add_ws_accounts(WebDemo(**{**facts_of(WEB_DEMO, url), "url": url})))


WS_TEMPLATE = Template("wsdemo", _ws_template_build, WEB_DEMO)  # what build_ws_demo makes, built once per run


@pytest.fixture(scope="session", params=BACKENDS)
def ws_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> WsDemo:
    """The workspace demo on each backend (tests change it: each test decides its own proposals)."""
    url, facts = copy(WS_TEMPLATE, request.param, tmp_path_factory.mktemp("db"))
    return WsDemo(**{**facts, "url": url})


@pytest.fixture(scope="session")
def ws_ctx(ws_demo: WsDemo) -> Context:
    """One Context per backend, like a running server's."""
    return Context.create(ws_demo.url)


@pytest.fixture
def ws_app(ws_ctx: Context):  # noqa: ANN201
    """The Flask app on the workspace demo."""
    from web.app import create_app

    return create_app(ws_ctx, settings={"TESTING": True})


def open_proposals(ctx: Context, street: str, kind: str | None = None) -> list[dict]:
    """The street's proposals in the current plan that are not decided yet (stored status proposed or unsaved)."""
    from plugins.bundling import service

    with ctx.session(readonly=True) as s:
        plan = service.compute_plan(s, service.settings_for(ctx), street)
        rows = [r for r in plan.proposals.to_dict("records") if kind is None or r["orphan_kind"] == kind]
        statuses = service.stored_statuses(s, [r["id"] for r in rows])
    return [r for r in rows if statuses.get(r["id"], "proposed") == "proposed"]
