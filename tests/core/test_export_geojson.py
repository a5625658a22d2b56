"""`geoplatform export TABLE --format geojson` works for every table."""

import json

import pytest

from geoplatform.io.export import EXPORTABLE_TABLES


@pytest.mark.parametrize("table", EXPORTABLE_TABLES)
def test_export_every_table(demo_url, cli_run, tmp_path, table):
    out = tmp_path / f"{table}.geojson"
    res = cli_run(demo_url, "export", table, "--format", "geojson", "-o", str(out), "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == json.loads(res.stdout)["rows"]


def test_export_by_street(demo_url, cli_run, tmp_path):
    out = tmp_path / "c.geojson"
    res = cli_run(demo_url, "export", "compound", "-o", str(out), "--street", "少先路街道办事处")
    assert res.exit_code == 0, res.stderr
    feats = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert feats and {f["properties"]["street_code"] for f in feats} == {"150203001"}


def test_unknown_export_is_a_clear_error(demo_url, cli_run, tmp_path):
    res = cli_run(demo_url, "export", "nonsense", "-o", str(tmp_path / "x.geojson"))
    assert res.exit_code == 2 and "unknown export" in res.stderr
