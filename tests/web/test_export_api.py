"""One export function under the CLI and HTTP: the same bad input gets the same answer (exit 2 / 400 or 404)."""

from __future__ import annotations

import json

import pytest

CASES = [  # (export, format, street, HTTP status, what the message says)
    ("handover", "shp", None, 400, "handover has no geometry"),  # was a 500 (a click exception in library code)
    ("handover-ledger", "geojson", None, 400, "export handover-ledger supports xlsx, csv, not geojson"),
    ("no_such_export", "csv", None, 404, "unknown export 'no_such_export'"),
    ("compound", "csv", "NO_SUCH_STREET", 404, "unknown street 'NO_SUCH_STREET'"),
]


@pytest.mark.parametrize(("name", "fmt", "street", "status", "says"), CASES)
def test_cli_and_http_give_the_same_answer(app, web_demo, admin, cli_run, tmp_path,  # noqa: ANN001
                                           name: str, fmt: str, street: str | None, status: int, says: str) -> None:
    query = {"format": fmt, "lang": "en", **({"street": street} if street else {})}
    r = app.test_client().get(f"/api/v1/export/{name}", query_string=query, headers=admin)
    assert r.status_code == status, r.get_data(as_text=True)
    body = r.get_json()
    assert says in body["error"] and body["status"] == status and body["key"].startswith(("export.", "street."))
    cli = cli_run(web_demo.url, "export", name, "--format", fmt, "-o", str(tmp_path / f"x.{fmt}"),
                  *(["--street", street] if street else []))
    assert cli.exit_code == 2 and "Traceback" not in cli.stderr
    assert cli.stderr.strip() == f"错误 / error: {body['error']}"  # one line, the very same message
    zh = app.test_client().get(f"/api/v1/export/{name}", query_string={**query, "lang": "zh"}, headers=admin)
    assert zh.get_json()["error"] != body["error"]  # the browser gets it in its language


def test_a_layer_exports_like_a_table(app, web_demo, admin, cli_run, tmp_path) -> None:  # noqa: ANN001
    """A plugin's map layer by its id: its features with the plugins' attributes, on both surfaces."""
    out = tmp_path / "coverage.geojson"
    d = json.loads(cli_run(web_demo.url, "export", "coverage", "-o", str(out), "--json").stdout)
    feats = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert d["rows"] == len(feats) > 0 and "management_mode" in feats[0]["properties"]
    assert not any(k.startswith("_") for k in feats[0]["properties"])  # no map styling columns
    r = app.test_client().get("/api/v1/export/coverage", query_string={"format": "geojson"}, headers=admin)
    assert r.status_code == 200 and len(json.loads(r.data)["features"]) == len(feats)
    kinds = {f["geometry"]["type"].removeprefix("Multi") for f in feats if f["geometry"]}
    shp = cli_run(web_demo.url, "export", "coverage", "--format", "shp", "-o", str(tmp_path / "c.zip"))
    if len(kinds) > 1:  # boundaries and point-only compounds: a shapefile holds one type, said in one line
        assert shp.exit_code == 2 and "mixes geometry types" in shp.stderr, shp.stderr
    else:
        assert shp.exit_code == 0, shp.stderr
