"""One parameter parser under the takeover CLI, API and workspace (issue 16): the same bad input, the same answer.

`/api/v1/takeover/select`, `/ws/takeover/select`, `POST /api/v1/takeover/shortlist` and `geoplatform takeover
select` all parse with `service.parse_params`: a count out of range, NaN or a number too big for any
integer type is the same 400 (exit 2 on the CLI) naming the field, never a 200 or a 500.
"""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS
from tests.plugins.test_takeover_web import WEB
from tests.support.templates import copy

BAD = [("max", "100000"), ("budget", "nan"), ("max", "99999999999999999999"), ("min", "1e400"),
       ("per_street_max", "0"), ("contiguity_weight", "-1"), ("min", "abc")]


@pytest.fixture(scope="module", params=BACKENDS)
def tk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """(test client, state company headers, db url) on a copy of the small takeover demo with its accounts, shared
    by this module's tests: each one sends refused or infeasible parameters, which write nothing."""
    from geoplatform.context import Context
    from web.app import create_app

    url, tokens = copy(WEB, request.param, tmp_path_factory.mktemp("db"))
    ctx = Context.create(url)
    yield create_app(ctx, settings={"TESTING": True}).test_client(), tokens["co"], url
    ctx.engine.dispose()


@pytest.mark.parametrize(("field", "value"), BAD)
def test_bad_selection_parameters_get_the_same_answer_everywhere(tk, cli_run, field, value) -> None:  # noqa: ANN001
    client, headers, url = tk
    answers = []
    for path in ("/api/v1/takeover/select", "/ws/takeover/select"):
        r = client.get(path, query_string={field: value, "lang": "en"}, headers=headers)
        assert r.status_code == 400, (path, r.status_code, r.get_data(as_text=True)[:300])
        answers.append(r.get_json())
    r = client.post("/api/v1/takeover/shortlist", json={field: value, "year": 2030}, headers=headers)
    assert r.status_code == 400
    answers.append(r.get_json())
    assert all(a["field"] == field and a["key"] == "ws_takeover.bad_param" for a in answers)
    assert len({a["error"] for a in answers}) == 1, answers
    option = "--" + field.replace("_", "-")
    cli = cli_run(url, "takeover", "select", option, value)
    assert cli.exit_code == 2 and answers[0]["error"] in cli.stderr, cli.stderr
    assert len(cli.stderr.strip().splitlines()) == 1


def test_infeasible_is_422_with_the_binding_constraint_on_both_http_surfaces(tk) -> None:  # noqa: ANN001
    client, headers, _ = tk
    for path in ("/api/v1/takeover/select", "/ws/takeover/select"):
        r = client.get(path, query_string={"min": 5, "max": 6, "budget": 0.1}, headers=headers)
        assert r.status_code == 422 and r.get_json()["constraint"] == "budget" and r.get_json()["detail"], path
