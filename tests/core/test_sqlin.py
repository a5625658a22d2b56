"""IN lists past PostgreSQL's 65,535 parameters a statement (geoplatform.sqlin), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from geoplatform import sqlin

META = MetaData()
ITEMS = Table("sqlin_item", META, Column("id", Integer, primary_key=True), Column("name", String))
NAMES = ["a", "O'Brien", "x'); DROP TABLE sqlin_item; --", "小区", "back\\slash", "%_"]


@pytest.fixture
def items(engine):  # noqa: ANN001, ANN201
    META.create_all(engine)
    with engine.begin() as c:
        c.execute(insert(ITEMS), [{"id": i, "name": n} for i, n in enumerate(NAMES)])
    yield engine
    META.drop_all(engine)


@pytest.mark.parametrize("size", [3, 70_000])  # 70,000: past PostgreSQL's 65,535 parameters
def test_long_integer_lists_select_what_short_ones_do(items, size: int) -> None:  # noqa: ANN001
    wanted = [0, 2, 5] + list(range(1000, 1000 + size - 3))
    with items.connect() as c:
        got = c.scalars(select(ITEMS.c.id).where(sqlin.in_values(ITEMS.c.id, wanted)).order_by(ITEMS.c.id)).all()
        left = c.scalars(select(ITEMS.c.id).where(sqlin.not_in_values(ITEMS.c.id, wanted)).order_by(ITEMS.c.id)).all()
    assert got == [0, 2, 5]
    assert left == [1, 3, 4]


@pytest.mark.parametrize("size", [len(NAMES), 70_000])
def test_long_text_lists_are_quoted_not_executed(items, size: int) -> None:  # noqa: ANN001
    wanted = NAMES + [f"n{k}" for k in range(size - len(NAMES))]
    with items.connect() as c:
        got = c.scalars(select(ITEMS.c.name).where(sqlin.in_values(ITEMS.c.name, wanted)).order_by(ITEMS.c.id)).all()
        assert c.scalar(select(ITEMS.c.id).where(ITEMS.c.id == 2)) == 2  # the table is still there
    assert got == NAMES


def test_an_empty_list_selects_nothing(items) -> None:  # noqa: ANN001
    with items.connect() as c:
        assert c.scalars(select(ITEMS.c.id).where(sqlin.in_values(ITEMS.c.id, []))).all() == []
