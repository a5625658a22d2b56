"""Browser helpers shared by the e2e tests: polling a JS expression, serving an app, logging in through the form."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_S = 120.0  # how long any browser wait may last: a bound on a hang, generous for a busy machine


def wait_for(page, expression: str, timeout: float = TIMEOUT_S) -> object:  # noqa: ANN001
    """Poll a JS expression until truthy (our CSP forbids the eval behind page.wait_for_function)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"() => {expression}")
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(100)


@contextmanager
def serve(context, tmp_path_factory, settings: dict[str, Any] | None = None) -> Iterator[str]:  # noqa: ANN001
    """The app on `context` under waitress on a free 127.0.0.1 port; yields its base URL."""
    from tests.support.serving import served
    from web.app import create_app

    os.environ.setdefault("GEOPLATFORM_INSTANCE", str(tmp_path_factory.mktemp("instance")))
    with served(create_app(context, settings=settings), threads=6) as url:
        yield url


def until(page, condition: Callable[[], object], timeout: float = TIMEOUT_S) -> None:  # noqa: ANN001
    """Let the page run (Playwright delivers its events meanwhile) until the Python-side `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the page")
        page.wait_for_timeout(50)


def _closed_port() -> int:
    """A loopback port bound by this process and never listened on: a connection to it is refused at once."""
    global _HOLDER
    if _HOLDER is None:
        _HOLDER = socket.socket()
        _HOLDER.bind(("127.0.0.1", 0))  # kept bound for the life of the process, so nobody else takes the port
    return _HOLDER.getsockname()[1]


_HOLDER: socket.socket | None = None


def offline_context(browser, record: dict[str, list], **options: Any):  # noqa: ANN001, ANN201
    """A browser context in which requests to any host but 127.0.0.1 fail and are recorded in record["outside"]
    (every URL also in record["urls"] when that key is there).

    Chromium sends every request for another host to a proxy that is a refused loopback port, so such a request
    fails at once without leaving the machine (IP addresses too, not only names); 127.0.0.1 is reached directly.
    Playwright's own `route("**/*")` would block them as well, but it turns off the browser's HTTP cache and
    makes every request wait for a round trip through this process — most of a page load's cost in the tests."""
    ctx = browser.new_context(proxy={"server": f"http://127.0.0.1:{_closed_port()}", "bypass": "127.0.0.1"},
                              **options)
    ctx.set_default_timeout(TIMEOUT_S * 1000)

    def seen(request) -> None:  # noqa: ANN001
        url = request.url
        if "urls" in record:
            record["urls"].append(url)
        if not (url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1"):
            record["outside"].append(url)

    ctx.on("request", seen)
    return ctx


class Traffic:
    """The page's requests in flight (Playwright's request events), for `settle`."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.inflight: set = set()
        self.last = time.monotonic()
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    def _start(self, request) -> None:  # noqa: ANN001
        self.inflight.add(request)
        self.last = time.monotonic()

    def _end(self, request) -> None:  # noqa: ANN001
        self.inflight.discard(request)
        self.last = time.monotonic()


QUIET_S = 0.2  # no request in flight for this long: the page has settled (Playwright's "networkidle" waits 0.5 s)


def settle(page, traffic: Traffic, timeout: float = TIMEOUT_S) -> None:  # noqa: ANN001
    """Until the page has loaded and no request has been in flight for QUIET_S — what `networkidle` waits for,
    with a shorter quiet window (the pages' own readiness flags are waited for by the callers)."""
    page.wait_for_load_state("load")
    until(page, lambda: not traffic.inflight and time.monotonic() - traffic.last >= QUIET_S, timeout)


def watched_page(ctx, record: dict[str, list]):  # noqa: ANN001, ANN201
    """A new page whose page errors and (dismissed) dialogs are recorded."""
    page = ctx.new_page()
    page.on("pageerror", lambda e: record["errors"].append(str(e)))
    page.on("dialog", lambda d: (record["dialogs"].append(d.message), d.dismiss()))
    return page


def logged_in(browser, base: str, name: str, password: str, target: str,  # noqa: ANN001, ANN201
              viewport: tuple[int, int] = (1500, 920), accept_downloads: bool = True):
    """(context, page, record) of a fresh browser context logged in through the form, on `target`.

    Requests to any host but 127.0.0.1 are blocked and recorded; page errors and dialogs are recorded.
    """
    record: dict[str, list] = {"outside": [], "errors": [], "dialogs": []}
    ctx = offline_context(browser, record, viewport={"width": viewport[0], "height": viewport[1]},
                          accept_downloads=accept_downloads)
    page = watched_page(ctx, record)
    page.goto(f"{base}/login?next={target}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")
    return ctx, page, record
