"""Shared by the workspace fixtures: the web demo on a fresh database plus one account (and token) per role."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from geoplatform.context import Context
from tests.support.templates import Template, copy, facts_of
from tests.support.webdemo import PASSWORD, WEB_DEMO, WebDemo, build_web_demo


class BearerAuth:
    """Mixin of the demo dataclasses that hold `tokens`: Bearer headers per account name."""

    tokens: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        """Bearer headers of one account."""
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def web_demo_with_accounts(url: str, accounts: Iterable[tuple[str, str, object, str | None]]):  # noqa: ANN201
    """Build the web demo on `url` and add (name, role, street?, utility) accounts with PASSWORD; a truthy street
    gives the account the web demo's street. Returns (web demo, {name: token})."""
    web = build_web_demo(url)
    return web, add_accounts(url, web.street_code, accounts)


def add_accounts(url: str, street_code: str, accounts: Iterable[tuple[str, str, object, str | None]]) -> dict[str, str]:
    """Add (name, role, street?, utility) accounts with PASSWORD to the web demo at `url` (a truthy street gives
    the account `street_code`); returns {name: token}."""
    from geoplatform import auth as accounts_api

    ctx = Context.create(url)
    with ctx.session() as s:
        for name, role, street, utility in accounts:
            accounts_api.add_user(s, name, role, PASSWORD, street_code if street else None, utility)
        tokens = {name: accounts_api.new_token(s, name) for name, *_ in accounts}
    ctx.engine.dispose()
    return tokens


def accounts_template(key: str, accounts: tuple[tuple[str, str, object, str | None], ...]) -> Template:
    """The web demo plus `accounts` (built once per run); its facts: {"web": WebDemo fields, "tokens": {...}}."""

    def build(url: str) -> dict[str, Any]:
        web = facts_of(WEB_DEMO, url)
        return {"web": web, "tokens": add_accounts(url, web["street_code"], accounts)}

    return Template(key, build, WEB_DEMO)


def copy_with_accounts(template: Template, backend: str, directory: Path) -> tuple[WebDemo, dict[str, str]]:
    """A fresh copy of an accounts_template: (its web demo, {name: token})."""
    url, facts = copy(template, backend, directory)
    return WebDemo(**{**facts["web"], "url": url}), facts["tokens"]


def cookie_login(client, name: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    """Log a test client in through the login form (session cookie)."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
