"""Schema: Alembic upgrade/downgrade on both databases; models match the migrated schema."""

from sqlalchemy import inspect

from geoplatform import schema
from geoplatform.db import make_engine
from geoplatform.models import metadata


def test_upgrade_downgrade_upgrade(db_url):
    eng = make_engine(db_url)
    schema.upgrade(eng)
    assert schema.is_up_to_date(eng)
    tables = set(inspect(eng).get_table_names())
    assert set(metadata.tables) <= tables
    schema.downgrade(eng)
    assert schema.current_heads(eng) == set()
    assert not (set(metadata.tables) & set(inspect(eng).get_table_names()))
    schema.upgrade(eng)
    assert schema.is_up_to_date(eng)
    eng.dispose()


def test_models_match_migrated_schema(engine):
    assert schema.schema_diff(engine) == []


def test_every_geometry_column_has_a_spatial_index(engine):
    from geoalchemy2 import Geometry

    insp = inspect(engine)
    for table in metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, Geometry):
                if engine.dialect.name == "sqlite":
                    with engine.connect() as conn:
                        n = conn.exec_driver_sql(
                            "SELECT spatial_index_enabled FROM geometry_columns WHERE f_table_name=? AND f_geometry_column=?",
                            (table.name, col.name),
                        ).scalar()
                    assert n == 1, (table.name, col.name)
                else:
                    idx = [i for i in insp.get_indexes(table.name) if col.name in i["column_names"]]
                    assert idx, (table.name, col.name)


def test_init_is_idempotent(db_url, cli_run):
    for _ in range(2):
        res = cli_run(db_url, "init")
        assert res.exit_code == 0, res.output
    assert schema.is_up_to_date(make_engine(db_url))


def test_commands_refuse_an_uninitialised_database(db_url, cli_run):
    res = cli_run(db_url, "summary")
    assert res.exit_code == 2
    assert "geoplatform init" in res.stderr
