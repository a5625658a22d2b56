"""Browser helpers of the utility/bureau workspace tests: the app on the role demo, a logged-in page, polling."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.web.ws_role_fixtures import role_ctx, role_demo  # noqa: F401

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def wait_for(page, expression: str, timeout: float = 30.0) -> object:  # noqa: ANN001
    """Poll a JS expression until truthy (our CSP forbids the eval behind page.wait_for_function)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"() => {expression}")
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(100)


@pytest.fixture(scope="module")
def role_server(role_ctx, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001, F811
    """The app on the role demo under waitress (one per backend per module)."""
    from waitress.server import create_server

    from web.app import create_app

    os.environ.setdefault("GEOPLATFORM_INSTANCE", str(tmp_path_factory.mktemp("instance")))
    app = create_app(role_ctx, settings={"GEOPLATFORM_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))})
    srv = create_server(app, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.effective_port}"
    finally:
        srv.close()


def logged_in(browser, base: str, name: str, password: str, target: str):  # noqa: ANN001, ANN201
    """(context, page, record) of a fresh browser context logged in through the form, on `target`.

    Requests to any host but 127.0.0.1 are blocked and recorded; page errors and dialogs are recorded.
    """
    ctx = browser.new_context(viewport={"width": 1500, "height": 920}, accept_downloads=True)
    record: dict[str, list] = {"outside": [], "errors": [], "dialogs": []}

    def route(r) -> None:  # noqa: ANN001
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1":
            r.continue_()
        else:
            record["outside"].append(url)
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.on("pageerror", lambda e: record["errors"].append(str(e)))
    page.on("dialog", lambda d: (record["dialogs"].append(d.message), d.dismiss()))
    page.goto(f"{base}/login?next={target}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")
    return ctx, page, record
