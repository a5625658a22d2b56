"""Browser fixtures: the app under waitress on 127.0.0.1 (web demo DB, both backends) and headless Debian Chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.web.conftest import web_demo  # noqa: F401  (the writable demo database per backend)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class Server:
    """A running app: its base URL and the demo it serves."""

    url: str
    demo: object
    context: object = None
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def server(web_demo, tmp_path_factory) -> Iterator[Server]:  # noqa: ANN001, F811
    """The web app served by waitress on a free 127.0.0.1 port for the session."""
    from waitress.server import create_server

    from geoplatform.context import Context
    from web.app import create_app

    os.environ.setdefault("GEOPLATFORM_INSTANCE", str(tmp_path_factory.mktemp("instance")))
    context = Context.create(web_demo.url)
    app = create_app(context)
    srv = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield Server(url=f"http://127.0.0.1:{srv.effective_port}", demo=web_demo, context=context)
    finally:
        srv.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
