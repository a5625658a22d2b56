"""The one place the CLI maps a service's UserInputError: exit 2, one line on stderr, for every command."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError


def _group_with(cmd: click.Command, nested: bool) -> click.Group:
    from geoplatform.cli import build_cli

    group = build_cli()
    if nested:  # a plugin's group with a subcommand, like `handover done ID`
        sub = click.Group("fake-plugin")
        sub.add_command(cmd)
        group.add_command(sub)
    else:
        group.add_command(cmd)
    return group


@pytest.mark.parametrize("error", [UserInputError("street.unknown", value="X"), NotFound("street.unknown", value="X"),
                                   Forbidden("not yours"), Conflict("already done")])
@pytest.mark.parametrize("nested", [False, True])
def test_a_user_input_error_anywhere_is_exit_2_with_one_line(error: UserInputError, nested: bool) -> None:
    @click.command("fails")
    def fails() -> None:
        raise error

    group = _group_with(fails, nested)
    r = CliRunner().invoke(group, ["fake-plugin", "fails"] if nested else ["fails"])
    assert r.exit_code == 2
    assert r.stderr == f"错误 / error: {error}\n" and r.stdout == ""


def test_other_exceptions_are_bugs_and_surface_as_such() -> None:
    @click.command("crashes")
    def crashes() -> None:
        raise RuntimeError("a bug")

    r = CliRunner().invoke(_group_with(crashes, False), ["crashes"])
    assert r.exit_code == 1 and isinstance(r.exception, RuntimeError)


def test_unknown_street_is_the_resolver_s_message(demo_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    """`--street` goes through geoplatform.streets.resolve_street: the same text as HTTP's 404."""
    from geoplatform.i18n import Message

    out = tmp_path / "never.csv"
    r = cli_run(demo_url, "export", "compound", "-o", str(out), "--format", "csv", "--street", "火星")
    assert r.exit_code == 2 and r.stderr == f"错误 / error: {Message('street.unknown', value='火星')}\n"
    assert not out.exists()
