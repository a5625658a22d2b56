"""Built-in plugin: charging (being built)."""
