"""Fixtures for the importer tests: a small seeded database per backend, and a content checksum."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from geoplatform.context import Context
from geoplatform.models import Base
from tests.conftest import BACKENDS, _copy_url
from tests.support.templates import demo_data, demo_template

SMALL = demo_template(0.05, 42)


def small_demo():  # noqa: ANN201
    """A small synthetic Kundulun (53 compounds), generated once per run."""
    return demo_data(0.05, 42)


@pytest.fixture(scope="module", params=BACKENDS)
def seeded_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database (each backend) holding the small demo; tests must leave it as they found it."""
    return _copy_url(request.param, SMALL, tmp_path_factory)[0]


@pytest.fixture
def seeded_ctx(seeded_url: str) -> Context:
    """A Context on the seeded database."""
    return Context.create(seeded_url)


def db_checksum(ctx: Context) -> dict[str, tuple[int, str]]:
    """Per table: (row count, SHA-1 of every row's content in key order) — equal means unchanged."""
    from geoalchemy2 import Geometry

    out: dict[str, tuple[int, str]] = {}
    with ctx.session(readonly=True) as s:
        for table in Base.metadata.sorted_tables:
            cols = [func.ST_AsBinary(c) if isinstance(c.type, Geometry) else c for c in table.columns]
            pk = list(table.primary_key.columns) or list(table.columns)[:1]
            h = hashlib.sha1()
            n = 0
            for row in s.execute(select(*cols).order_by(*pk)):
                h.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode())
                n += 1
            out[table.name] = (n, h.hexdigest())
    return out
