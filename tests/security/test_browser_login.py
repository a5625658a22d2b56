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


@pytest.mark.both_backends  # writes through the pages: PostGIS as well (tests/conftest.py)
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


def test_browser_change_password(live, sec_ctx, browser) -> None:  # noqa: ANN001
    """A user changes their password as they would: from the name in the menu, under the CSP; their other
    browser's login ends, this one goes on, and the new password is the one that logs in."""
    from tests.security.conftest import make_user

    name = make_user(sec_ctx)
    mine, other = browser.new_context(), browser.new_context()
    try:
        console: list[str] = []
        for ctx in (mine, other):
            page = ctx.new_page()
            page.on("console", lambda m: console.append(m.text))
            page.on("pageerror", lambda e: console.append(f"pageerror {e}"))
            page.goto(live + "/login")
            page.fill("#name", name)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
        page = mine.pages[0]
        page.click("#gp-nav-password")
        page.wait_for_selector("#gp-pw-form")
        page.fill("#gp-pw-old", "not-my-password")
        page.fill("#gp-pw-new", "brand-new-pass-1")
        page.fill("#gp-pw-new2", "brand-new-pass-1")
        page.click("#gp-pw-submit")
        assert "原密码不正确" in page.text_content("#gp-pw-error")
        page.fill("#gp-pw-old", PASSWORD)
        page.fill("#gp-pw-new", "brand-new-pass-1")
        page.fill("#gp-pw-new2", "brand-new-pass-1")
        page.click("#gp-pw-submit")
        page.wait_for_selector("#gp-pw-done")
        assert page.evaluate("fetch('/api/v1/me').then(r => r.json())")["name"] == name  # still logged in
        gone = other.pages[0]
        assert gone.evaluate("fetch('/api/v1/me').then(r => r.status)") == 401  # the other browser is out
        gone.goto(live + "/")
        assert "/login" in gone.url
        gone.fill("#name", name)
        gone.fill("#password", "brand-new-pass-1")
        gone.click("button[type=submit]")
        gone.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
        violations = [m for m in console if "Content Security Policy" in m or "Refused to" in m
                      or m.startswith("pageerror")]
        assert not violations, violations
    finally:
        mine.close()
        other.close()
