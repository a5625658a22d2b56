"""`--dist loadgroup` that honours xdist_group marks on pytest 9.2, where pytest-xdist 3.8's own way does not.

pytest-xdist tells its scheduler about a test's group by appending "@group" to the node id in the worker; pytest
9.2 keeps node ids in a structured field, so that append is lost and every group is silently spread over the
workers (pytest-dev/pytest-xdist#1386, open). Here the workers record {node id: group} in the run directory when
they collect (tests/conftest.py), and the controller's scheduler — xdist's LoadGroupScheduling, through xdist's
pytest_xdist_make_scheduler hook — reads the group from that record. Node ids that do carry "@group" (older
pytest, a fixed xdist) are grouped by xdist's own rule as before.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.support import shared

RECORD = "xdist_groups.json"


def record_groups(items: list[pytest.Item]) -> None:
    """Worker side, after collection: write {node id: group} of the items marked xdist_group (same on every worker)."""
    groups = {}
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark is not None:
            groups[item.nodeid] = str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    path = shared.run_dir() / RECORD
    tmp = path.with_name(f"{RECORD}.{os.getpid()}")
    tmp.write_text(json.dumps(groups))
    tmp.replace(path)


class GroupSchedulerPlugin:
    """Registered on the controller for --dist loadgroup: supplies the scheduler below."""

    @pytest.hookimpl
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:  # noqa: ANN401
        from xdist.scheduler import LoadGroupScheduling

        class RecordedGroupScheduling(LoadGroupScheduling):
            """LoadGroupScheduling whose groups also come from the workers' record."""

            _groups: dict[str, str] | None = None

            def _split_scope(self, nodeid: str) -> str:
                if self._groups is None:  # first asked once every worker's collection is in: the record exists
                    path = shared.run_dir() / RECORD
                    self._groups = json.loads(path.read_text()) if path.exists() else {}
                return self._groups.get(nodeid) or super()._split_scope(nodeid)

        return RecordedGroupScheduling(config, log)
