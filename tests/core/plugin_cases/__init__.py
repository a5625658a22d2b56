"""Deliberately broken plugins for the plugin-manager tests (imported only through fake entry points)."""
