"""Built-in plugin: bundling (being built)."""
