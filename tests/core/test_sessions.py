"""geoplatform.db.session_factory: one sessionmaker per engine and mode, bound to that engine."""

from __future__ import annotations

from sqlalchemy import text

from geoplatform.db import make_engine, session_factory, session_scope


def test_one_factory_per_engine_and_mode(engine, db_url: str) -> None:  # noqa: ANN001
    write, read = session_factory(engine), session_factory(engine, readonly=True)
    assert session_factory(engine) is write and session_factory(engine, readonly=True) is read
    assert write is not read
    assert read.kw["bind"].get_execution_options().get("readonly") is True
    assert not write.kw["bind"].get_execution_options().get("readonly")
    other = make_engine(db_url)
    try:
        assert session_factory(other) is not write and session_factory(other).kw["bind"] is other
        with session_scope(other, readonly=True) as s:  # still a working session on its own engine
            assert s.execute(text("SELECT 1")).scalar() == 1
    finally:
        other.dispose()
