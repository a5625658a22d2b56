"""The Flask web app: map, role workspaces, /api/v1, OGC API – Features (thin over core/plugins)."""
