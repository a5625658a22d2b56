"""Login as a new user would, in headless Chromium: redirect, refusal, CSP-clean map page, HttpOnly cookie, logout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser import TIMEOUT_S
from tests.security.conftest import PASSWORD, pick_compounds

pytestmark = pytest.mark.e2e


@pytest.fixture
def live(app) -> Iterator[str]:  # noqa: ANN001
    """The security app served by waitress on a free local port."""
    from tests.support.serving import served

    with served(app, threads=4) as url:
        yield url


def test_browser_login_logout_under_csp(live, sec_ctx, browser) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    officer = f"officer_{p['a_street']}"
    page = browser.new_page()  # the shared Chromium of tests/conftest.py (one Playwright driver per process)
    page.set_default_timeout(TIMEOUT_S * 1000)
    try:
        console: list[str] = []
        dialogs: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.on("pageerror", lambda e: console.append(f"pageerror {e}"))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(live + "/")
        assert "/login" in page.url
        page.fill("#name", '<img src=x onerror=alert(1)>')
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        page.wait_for_selector(".error")
        assert page.input_value("#name") == '<img src=x onerror=alert(1)>'  # shown as text, not markup
        page.fill("#name", officer)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
        page.wait_for_load_state("networkidle")  # the landing page's scripts and requests have run, however long
        assert "geoplatform_session" not in page.evaluate("document.cookie")  # HttpOnly
        me = page.evaluate("fetch('/api/v1/me').then(r => r.json())")
        assert me["name"] == officer
        # a script-initiated PATCH without the CSRF header is refused by the server
        status = page.evaluate(f"""fetch('/api/v1/compounds/{p["a"]}', {{method: 'PATCH',
            headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify({{households: 1, version: 1}})}})
            .then(r => r.status)""")
        assert status == 403
        page.goto(live + "/logout")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" in url)
        page.goto(live + "/")
        assert "/login" in page.url
        assert not dialogs
        violations = [m for m in console if "Content Security Policy" in m or "Refused to" in m
                      or m.startswith("pageerror")]
        assert not violations, violations
    finally:
        page.close()
