"""Web fixtures: a writable demo database per backend (session-scoped), the app, and authenticated clients."""

from __future__ import annotations

import pytest

from geoplatform.context import Context
from tests.conftest import BACKENDS
from tests.support.webdemo import WebDemo, web_demo_copy


@pytest.fixture(scope="session", params=BACKENDS)
def web_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> WebDemo:
    """The demo + test users/compounds on each backend (tests may read; writes must restore what they change)."""
    return web_demo_copy(request.param, tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def web_ctx(web_demo: WebDemo) -> Context:
    """One Context per backend for the session (its caches are shared like a running server's)."""
    return Context.create(web_demo.url)


@pytest.fixture
def app(web_ctx: Context):  # noqa: ANN201
    """The Flask app on the web demo."""
    from web.app import create_app

    application = create_app(web_ctx, settings={"TESTING": True})
    return application


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    """An anonymous test client."""
    return app.test_client()


@pytest.fixture
def admin(web_demo: WebDemo) -> dict[str, str]:
    """Headers authenticating as the admin test user (Bearer token)."""
    return {"Authorization": f"Bearer {web_demo.admin_token}"}


@pytest.fixture
def viewer(web_demo: WebDemo) -> dict[str, str]:
    """Headers authenticating as a read-only viewer."""
    return {"Authorization": f"Bearer {web_demo.viewer_token}"}
