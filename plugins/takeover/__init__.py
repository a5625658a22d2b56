"""Built-in plugin: takeover (being built)."""
