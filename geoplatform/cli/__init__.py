"""The `geoplatform` command line (click).

The group lives in `geoplatform.cli.group` (with the one mapping of `UserInputError` to exit 2),
the core commands in `geoplatform.cli.commands`, and `geoplatform.cli.assemble` builds the whole
command line per invocation: core commands, the web shell's `serve` (an entry point of the
`geoplatform.commands` group) and every enabled plugin's commands (the register_commands hook).

Commands — core and plugins' — use the helpers re-exported here: `get_context`, `emit`,
`print_table`, `require_schema`, `acting_principal`, `resolve_street`, and `UserError`.
"""

from geoplatform.cli.assemble import build_cli, main
from geoplatform.cli.group import Group, UserError, cli
from geoplatform.cli.helpers import (
    acting_principal,
    emit,
    get_context,
    pass_context,
    print_table,
    require_schema,
    resolve_street,
)

__all__ = ["Group", "UserError", "acting_principal", "build_cli", "cli", "emit", "get_context", "main",
           "pass_context", "print_table", "require_schema", "resolve_street"]
