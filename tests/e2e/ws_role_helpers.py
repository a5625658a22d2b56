"""Browser helpers of the utility/bureau workspace tests: the app on the role demo, a logged-in page, polling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser import ARTIFACTS, logged_in, serve, wait_for  # noqa: F401  (re-exported for the tests)
from tests.web.ws_role_fixtures import role_ctx, role_demo  # noqa: F401


@pytest.fixture(scope="module")
def role_server(role_ctx, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001, F811
    """The app on the role demo under waitress (one per backend per module)."""
    with serve(role_ctx, tmp_path_factory,
               settings={"GEOPLATFORM_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))}) as url:
        yield url
