"""Build the whole `geoplatform` command line for one invocation, and the console-script entry point.

Core commands first; then the commands of the application's packages above the core, declared as
entry points of the `geoplatform.commands` group (the web shell's `serve`: the core never imports
`web`); then every enabled plugin's, through the register_commands hook. Each invocation gets its
own copy of the group, so a disabled plugin leaves no command behind.
"""

from __future__ import annotations

import copy
import logging
import sys

import click

from geoplatform.cli.commands import core_commands
from geoplatform.cli.group import cli
from geoplatform.config import load_config
from geoplatform.pluginmanager import (
    COMMANDS_GROUP,
    build_plugin_manager,
    call_safely,
    declared_entry_points,
    load_target,
)

log = logging.getLogger(__name__)


def build_cli() -> click.Group:
    """The click group with the core's, the web shell's and every enabled plugin's commands."""
    group = copy.copy(cli)
    group.commands = {}
    for cmd in core_commands():
        group.add_command(cmd)
    for d in declared_entry_points(COMMANDS_GROUP):
        if d.name in group.commands:
            log.warning("command %r (%s) is already a core command; ignored", d.name, d.target)
            continue
        try:
            group.add_command(load_target(d.target), name=d.name)
        except Exception as exc:  # a broken package must not take the whole command line down
            log.warning("command %r (%s) cannot be loaded and is skipped: %s", d.name, d.target, exc)
    pm = build_plugin_manager(load_config().disabled_plugins)
    call_safely(pm, "register_commands", cli=group)
    return group


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    group = build_cli()
    try:
        group.main(args=argv, prog_name="geoplatform", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
