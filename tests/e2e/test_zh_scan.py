"""Issue 19's done-when: every role visits every page of its menu (plus the map and a compound page) in zh with
every request outside 127.0.0.1 blocked; no request fails, the rendered text has no English word outside data
values (a small allow-list of units and codes) and no "null"/"undefined"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from geoplatform import models as m
from tests.e2e.browser import ARTIFACTS, Traffic, offline_context, settle, wait_for, watched_page
from tests.e2e.ws_role_helpers import role_server  # noqa: F401
from tests.web.ws_role_fixtures import role_ctx, role_demo  # noqa: F401

pytestmark = pytest.mark.e2e

# units, formats and codes a Chinese officer reads as such
ALLOWED = frozenset({"XLSX", "PNG", "SVG", "CSV", "GeoJSON", "EPSG", "ID", "PDF", "GIS", "MBTiles", "PMTiles",
                     "km", "m", "KPI", "WGS", "GCJ", "CGCS", "OpenStreetMap", "OSM", "Excel", "Leaflet", "JSON",
                     "YYYY", "MM", "DD", "URL", "API", "TK", "©", "AAA", "AA", "MB", "GB", "A", "B", "C", "D"})
WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")
ROLES = (  # (account, role): the test's own community officer and telecom account are added below
    ("wr_bureau", "bureau"), ("wr_officer", "street_officer"), ("zh_community", "community_officer"),
    ("wr_water", "utility"), ("zh_telecom", "telecom"), ("wr_state", "state_company"), ("wr_viewer", "viewer"),
)
HOME = {"bureau": "/ws/bureau", "street_officer": "/ws/street", "community_officer": "/ws/governance",
        "utility": "/ws/utility", "telecom": "/ws/utility", "state_company": "/ws/takeover", "viewer": "/"}
# the visible text of the page plus what a user reads in controls (placeholders, titles, option labels)
TEXT_JS = """() => {
  const parts = [document.body.innerText];
  document.querySelectorAll('[placeholder],[title],[aria-label]').forEach(e => {
    ['placeholder', 'title', 'aria-label'].forEach(a => { if (e.getAttribute(a)) parts.push(e.getAttribute(a)); });
  });
  document.querySelectorAll('option').forEach(o => parts.push(o.textContent));
  document.querySelectorAll('input[type=submit],input[type=button]').forEach(i => parts.push(i.value));
  return parts.join('\\n');
}"""
DATA_JS = """() => Array.from(document.querySelectorAll(
  '[data-v],td a,.wc-after,.wc-before,.gp-user,#gp-lang-switch,[data-data]')).map(e => e.textContent)"""


def english_words(text: str, data: set[str]) -> list[str]:
    """Latin words in `text` that are neither allowed units/codes nor part of a data value on the page."""
    out = []
    for word in WORD.findall(text):
        if word in ALLOWED or word.upper() in ALLOWED or any(word in value for value in data):
            continue
        out.append(word)
    return out


def test_english_word_finder() -> None:
    assert english_words("共 3 个小区，导出 XLSX", set()) == []
    assert english_words("households: must be between 0 and 100000", set()) == [
        "households", "must", "be", "between", "and"]
    assert english_words("物业公司：Vanke 物业", {"Vanke 物业"}) == []


@pytest.fixture(scope="module")
def community_officer(role_ctx, role_demo) -> str:  # noqa: ANN001, F811
    """A community officer of a community of the demo's street."""
    from geoplatform.auth import add_user

    with role_ctx.session() as s:
        code = s.scalar(select(m.Community.code).where(m.Community.street_code == role_demo.street)
                        .order_by(m.Community.code).limit(1))
        add_user(s, "zh_community", "community_officer", role_demo.password, community=code)
        add_user(s, "zh_telecom", "telecom", role_demo.password)  # a gap kind's owner (RULES §2), district-wide
    return "zh_community"


def _pages(page, base: str) -> list[str]:  # noqa: ANN001
    """The role's menu (the map and a compound page first)."""
    hrefs = page.eval_on_selector_all(".gp-nav-items a", "as => as.map(a => a.getAttribute('href'))")
    skip = ("/logout", "/password", "?lang=")
    return list(dict.fromkeys(h for h in hrefs if h and h.startswith("/") and not any(s in h for s in skip)))


@pytest.mark.parametrize(("account", "role"), ROLES, ids=[r for _, r in ROLES])
def test_every_menu_page_is_chinese_offline(browser, role_server, role_demo, role_ctx, community_officer,  # noqa: ANN001, F811
                                            account, role) -> None:
    record: dict[str, list] = {"outside": [], "errors": [], "dialogs": []}
    failed: list[str] = []
    ctx = offline_context(browser, record, viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        page = watched_page(ctx, record)
        traffic = Traffic(page)
        leaving = {"now": False}  # a request the browser cancels because we go to the next page is no failure

        def on_failed(r) -> None:  # noqa: ANN001
            if not (leaving["now"] and "ERR_ABORTED" in str(r.failure)):
                failed.append(f"{r.url} {r.failure}")

        page.on("requestfailed", on_failed)
        page.on("response", lambda r: failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)
        page.goto(f"{role_server}/login")
        page.fill("input[name=name]", account)
        page.fill("input[name=password]", role_demo.password)
        leaving["now"] = True
        page.click("button[type=submit]")
        settle(page, traffic)
        leaving["now"] = False
        with role_ctx.session(readonly=True) as s:
            cid = s.scalar(select(m.Compound.id).where(m.Compound.street_code == role_demo.street)
                           .order_by(m.Compound.id).limit(1))
            # data values as stored (names, addresses, firms, sources): words inside them are data, not UI text
            stored = {v for col in (m.Compound.name, m.Compound.address, m.Compound.company, m.Compound.source)
                      for v in s.scalars(select(col).distinct()) if v}
        visited, problems = [], {}
        landing = "/" + page.url.split("/", 3)[3].split("?")[0] if page.url.count("/") >= 3 else "/"
        leaving["now"] = True
        page.goto(f"{role_server}/")  # the map page lists the whole menu (a page leaves itself out)
        leaving["now"] = False
        settle(page, traffic)
        menu = _pages(page, role_server)
        for path in ["/", f"/compounds/{cid}", landing, *menu]:
            if path in visited:
                continue
            visited.append(path)
            leaving["now"] = True
            page.goto(f"{role_server}{path}")
            leaving["now"] = False
            settle(page, traffic)
            wait_for(page, "document.readyState === 'complete' && document.body.dataset.wsLoading !== '1'")
            text = page.evaluate(TEXT_JS)
            data = set(page.evaluate(DATA_JS)) | stored
            words = english_words(text, data)
            nulls = re.findall(r"\b(?:null|undefined|NaN|None)\b", text)
            if words or nulls:
                problems[path] = sorted(set(words + nulls))
                out = ARTIFACTS / "zh_scan" / f"{role}{path.replace('/', '_')}.txt"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text, encoding="utf-8")
        assert len(visited) >= 3, visited  # the map, a compound and at least one workspace
        assert HOME[role] is None or landing.startswith(HOME[role]), landing  # each role lands on its own page
        assert not problems, "\n".join(f"{p}: {' '.join(w)}" for p, w in problems.items())
        assert not record["outside"], record["outside"]
        assert not failed, failed
        assert not record["errors"], record["errors"]
    finally:
        ctx.close()
