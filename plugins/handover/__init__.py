"""Built-in plugin: handover (being built)."""
