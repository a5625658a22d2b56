"""Issue 22 over HTTP: the bureau dashboard shows both coverage rates (compounds, units) with their
explanations, the evidence split and the path to target of every street; the street officer's own-street
path and plan (jurisdiction on the server); the projection and plan APIs; the two new map layers."""

from __future__ import annotations

import re

import pytest

from tests.web.ws_role_fixtures import role_app, role_ctx, role_demo  # noqa: F401


@pytest.fixture
def client(role_app):  # noqa: ANN001, ANN201, F811
    return role_app.test_client()


def test_dashboard_shows_both_rates_and_every_streets_path(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    from plugins.coverage.service import kpi_report, projection_report

    r = client.get("/ws/bureau", headers=role_demo.auth("wr_bureau"))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    d = kpi_report(role_ctx)["district"]
    units_tile = html.split('id="wb-kpi-units"', 1)[1].split("</div>\n  </div>", 1)[0]
    assert f"{d['coverage_rate_units'] * 100:.1f}%" in units_tile and "单体楼" in units_tile
    assert f"{d['coverage_rate'] * 100:.1f}%" in html and 'id="wb-kpi-compounds-note"' in html
    assert f'data-verified="{d["served_verified"]}" data-unverified="{d["served_unverified"]}"' in html
    proj = projection_report(role_ctx)
    table = html.split('id="cv-path-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-street="(\d+)" data-gap="(\d+)">', table)
    assert rows == [(s["street_code"], str(s["milestones"][-1]["gap"])) for s in proj["streets"]]
    chart = html.split('id="cv-chart-milestones"', 1)[1].split("</svg>", 1)[0]
    streets = re.findall(r'<g class="cv-street" data-street="(\d+)"', chart)
    assert streets == [s["street_code"] for s in proj["streets"]]
    bars = re.findall(r'<g class="cv-bar" data-date="([0-9-]+)" data-rate="([0-9.]*)" data-gap="(\d+)"', chart)
    first = proj["streets"][0]["milestones"]
    assert bars[:3] == [(x["date"], "" if x["rate"] is None else f"{x['rate']:.4f}", str(x["gap"])) for x in first]
    assert len(bars) == 3 * len(proj["streets"])
    assert 'id="cv-path-drill"' in html and html.count('<details data-street="') == len(proj["streets"])
    assert "<script>" not in html


def test_dashboard_in_english(client, role_demo) -> None:  # noqa: ANN001, F811
    html = client.get("/ws/bureau?lang=en", headers=role_demo.auth("wr_admin")).get_data(as_text=True)
    assert "Coverage (units, incl. lone buildings)" in html and "Path to the 2025–2027 targets" in html


def test_street_officer_sees_own_streets_path_and_plan(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    auth = role_demo.auth("wr_officer")
    html = client.get("/ws/street", headers=auth).get_data(as_text=True)
    part = html.split('id="cv-street-path"', 1)[1]
    assert re.findall(r'<tr data-street="(\d+)" data-gap', part.split("</table>", 1)[0]) == [role_demo.street]
    own = client.get("/api/v1/kpi/plan", headers=auth)
    assert own.status_code == 200 and [s["street_code"] for s in own.get_json()["streets"]] == [role_demo.street]
    other = next(s for s in ("150203001", "150203003") if s != role_demo.street)
    assert client.get(f"/api/v1/kpi/plan?street={other}", headers=auth).status_code == 403
    bureau = client.get(f"/api/v1/kpi/plan?street={other}", headers=role_demo.auth("wr_bureau"))
    assert [s["street_code"] for s in bureau.get_json()["streets"]] == [other]


def test_projection_api_is_the_cli_document(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    from plugins.coverage.service import projection_report

    r = client.get("/api/v1/kpi/projection", headers=role_demo.auth("wr_viewer"))
    assert r.status_code == 200
    data = r.get_json()
    want = projection_report(role_ctx)
    assert data["milestones"] == want["milestones"]
    assert [(s["street_code"], s["milestones"]) for s in data["streets"]] == \
        [(s["street_code"], s["milestones"]) for s in want["streets"]]
    assert client.get("/api/v1/kpi/plan?budget=abc", headers=role_demo.auth("wr_bureau")).status_code == 400


def test_lone_building_and_gap_layers(role_ctx) -> None:  # noqa: ANN001, F811
    from layers.features import layer_features
    from plugins.coverage.service import kpi_report, projection_report

    lone = layer_features(role_ctx, role_ctx.layer("coverage_lone_buildings"))
    assert len(lone) == kpi_report(role_ctx)["district"]["lone_buildings"]
    assert set(lone["unit_status"]) <= {"unserved", "bundle_proposed", "served"}
    gap = layer_features(role_ctx, role_ctx.layer("coverage_gap_2027"))
    want = {s["street_code"]: s["milestones"][-1]["gap"] for s in projection_report(role_ctx)["streets"]}
    assert {k: int(v) for k, v in gap["gap_last"].items() if k in want} == want


def test_path_page_for_the_state_company_and_own_street_for_officers(client, role_demo) -> None:  # noqa: ANN001, F811
    state = role_demo.auth("wr_state")
    html = client.get("/ws/coverage/path", headers=state).get_data(as_text=True)
    assert 'id="cv-path-page"' in html
    assert 'id="gp-nav-coverage-path"' in client.get("/", headers=state).get_data(as_text=True)  # in its menu
    table = html.split('id="cv-path-table"', 1)[1].split("</table>", 1)[0]
    assert len(re.findall(r'<tr data-street="\d+"', table)) > 1  # every street: which ones its picks close
    officer = role_demo.auth("wr_officer")
    own = client.get("/ws/coverage/path", headers=officer).get_data(as_text=True)
    rows = re.findall(r'<tr data-street="(\d+)"', own.split('id="cv-path-table"', 1)[1].split("</table>", 1)[0])
    assert rows == [role_demo.street]
    other = next(s for s in ("150203001", "150203003") if s != role_demo.street)
    assert client.get(f"/ws/coverage/path?street={other}", headers=officer).status_code == 403
    assert client.get("/ws/coverage/path", headers=role_demo.auth("wr_water")).status_code == 200  # view: read-only


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e999", "x" * 300])
def test_plan_refuses_a_hostile_budget(client, role_demo, value) -> None:  # noqa: ANN001, F811
    r = client.get(f"/api/v1/kpi/plan?budget={value}", headers=role_demo.auth("wr_bureau"))
    assert r.status_code == 400


def test_hostile_street_is_refused_not_500(client, role_demo) -> None:  # noqa: ANN001, F811
    for path in ("/api/v1/kpi/projection", "/api/v1/kpi/plan", "/ws/coverage/path"):
        assert client.get(f"{path}?street=%00%27;--" + "街" * 200, headers=role_demo.auth("wr_bureau")).status_code in (400, 404)
