"""Alembic migrations of the geoplatform schema (run through `geoplatform init`)."""
