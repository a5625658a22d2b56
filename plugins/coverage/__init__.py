"""Built-in plugin: coverage (being built)."""
