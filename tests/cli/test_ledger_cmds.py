"""The ``coalition ledger`` group: its commands come from the family modules, in help order."""

from __future__ import annotations

import typer

from coalition.cli import ledger_cmds, ledger_ctx, ledger_read_cmds, ledger_write_cmds


def _names(group: typer.Typer) -> list[str]:
    return [c.name or "" for c in group.registered_commands] + [g.name or "" for g in group.registered_groups]


def test_the_ledger_group_holds_every_family_in_order() -> None:
    assert _names(ledger_cmds.ledger_app) == [
        "init",
        "import",
        "prepare",
        "append",
        "verify",
        "checkpoint",
        "proof",
        "inventory",
        "reconcile",
        "report",
        "export",
        "rebuild",
        "trust",
    ]
    homes = {c.name: c.callback.__module__ for c in ledger_cmds.ledger_app.registered_commands if c.callback}
    assert homes["init"] == homes["append"] == ledger_write_cmds.__name__
    assert homes["verify"] == homes["rebuild"] == ledger_read_cmds.__name__


def test_a_family_registers_onto_the_group_it_is_given() -> None:
    group = typer.Typer()
    ledger_write_cmds.register(group)
    assert _names(group) == ["init", "import", "prepare", "append"]
    assert ledger_write_cmds.out is ledger_read_cmds.out is ledger_ctx.out  # one console for the group
