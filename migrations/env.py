"""Alembic environment: runs on the connection handed over by geoplatform.schema."""

from alembic import context
from geoalchemy2 import alembic_helpers

from geoplatform.models import metadata
from geoplatform.schema import include_object

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover
    raise SystemExit("offline migrations are not supported; use `geoplatform init`")
run_migrations_online()
