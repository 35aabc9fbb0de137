"""CLI commands: ``coalition depots qd | rules | mix | check | licence | place | map | surveillance``.

Thin: parse options, call the pure depots functions, render Rich tables or JSON. Outputs that
depend on an unverified rule value (status U in the rulebook) say "unverified default" and name it.

This module is the ``depots`` group; its commands live per family in
:mod:`coalition.cli.depots_rule_cmds` (qd, rules, mix), :mod:`coalition.cli.depots_check_cmds`
(check, licence), :mod:`coalition.cli.depots_place_cmds` (place) and
:mod:`coalition.cli.depots_report_cmds` (map, surveillance), over what they share in
:mod:`coalition.cli.depots_ctx`.
"""

from __future__ import annotations

import typer

from coalition.cli import depots_check_cmds, depots_place_cmds, depots_report_cmds, depots_rule_cmds

depots_app = typer.Typer(
    help="Protected storage facilities: explosives safety rules, licences, safe placement.", no_args_is_help=True
)
for family in (depots_rule_cmds, depots_check_cmds, depots_place_cmds, depots_report_cmds):  # help order
    family.register(depots_app)


def register(app: typer.Typer) -> None:
    """Add the ``depots`` command group to the main app."""
    app.add_typer(depots_app, name="depots")
