"""Built-in geoplatform plugins, one package each (declared as entry points in pyproject.toml)."""
