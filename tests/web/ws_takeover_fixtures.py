"""Fixtures of the takeover workspace tests: a writable demo per backend with one account per role.

Import into a test module (`from tests.web.ws_takeover_fixtures import tk_demo, tk_ctx, tk_app`). The
database is separate from the shared web demo because these tests save shortlists and move compounds
to `serving` (which makes them state-owned). Tests that write use their own year so they do not meet.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from geoplatform.context import Context
from tests.conftest import BACKENDS, NO_SOLVER_LIMIT_S
from tests.support.webdemo import PASSWORD
from tests.web.ws_accounts import BearerAuth, accounts_template, copy_with_accounts, web_demo_with_accounts

ACCOUNTS = (("tk_state", "state_company", None, None), ("tk_bureau", "bureau", None, None),
            ("tk_admin", "admin", None, None), ("tk_officer", "street_officer", "STREET", None),
            ("tk_utility", "utility", None, "water"), ("tk_viewer", "viewer", None, None))


@dataclass
class TkDemo(BearerAuth):
    """The takeover demo: database URL, a token per account, the street of the hostile-name compound."""

    url: str
    tokens: dict[str, str]
    xss_street: str
    password: str = PASSWORD


def build_tk_demo(url: str) -> TkDemo:
    """The web demo plus the role accounts (the officer gets the web demo's street)."""
    web, tokens = web_demo_with_accounts(url, ACCOUNTS)
    return TkDemo(url=url, tokens=tokens, xss_street=web.street_code)


TK_TEMPLATE = accounts_template("tkdemo", ACCOUNTS)  # what build_tk_demo makes, built once per run


@pytest.fixture(scope="session", params=BACKENDS)
def tk_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TkDemo:
    """The takeover demo on each backend."""
    web, tokens = copy_with_accounts(TK_TEMPLATE, request.param, tmp_path_factory.mktemp("db"))
    return TkDemo(url=web.url, tokens=tokens, xss_street=web.street_code)


@pytest.fixture(scope="session")
def tk_ctx(tk_demo: TkDemo) -> Context:
    """One Context per backend, like a running server's (its solver limit: NO_SOLVER_LIMIT_S, not 10 s)."""
    c = Context.create(tk_demo.url)
    c.config.rules.setdefault("takeover", {})["solver_time_limit_s"] = NO_SOLVER_LIMIT_S
    return c


@pytest.fixture
def tk_app(tk_ctx: Context):  # noqa: ANN201
    """The Flask app on the takeover demo."""
    from web.app import create_app

    return create_app(tk_ctx, settings={"TESTING": True})
