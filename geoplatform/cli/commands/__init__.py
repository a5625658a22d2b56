"""The core's commands, one module per concern; `geoplatform.cli.assemble` adds them to each invocation's group."""

from __future__ import annotations

import click

from geoplatform.cli.commands import accounts, database, exporting, imports, layers


def core_commands() -> list[click.Command]:
    """Every core command (init, demo, summary, import, export, layers, users, backup, restore)."""
    return [*database.COMMANDS, imports.import_cmd, exporting.export_cmd, layers.layers_cmd, *accounts.COMMANDS]
