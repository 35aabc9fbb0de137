"""The ``coalition depots`` group: its commands come from the family modules, in help order."""

from __future__ import annotations

from coalition.cli import (
    depots_check_cmds,
    depots_cmds,
    depots_ctx,
    depots_place_cmds,
    depots_report_cmds,
    depots_rule_cmds,
)


def test_the_depots_group_holds_every_family_in_order() -> None:
    commands = depots_cmds.depots_app.registered_commands
    assert [c.name for c in commands] == ["qd", "rules", "mix", "check", "licence", "place", "map", "surveillance"]
    homes = {c.name: c.callback.__module__ for c in commands if c.callback}
    assert homes["qd"] == homes["mix"] == depots_rule_cmds.__name__
    assert homes["check"] == homes["licence"] == depots_check_cmds.__name__
    assert homes["place"] == depots_place_cmds.__name__
    assert homes["map"] == homes["surveillance"] == depots_report_cmds.__name__


def test_a_printed_limit_is_never_above_the_computed_one() -> None:
    assert depots_ctx._fmt_kg(1234.9, limit=True) == "1,234"
    assert depots_ctx._fmt_kg(1234.9) == "1,235"
    assert depots_ctx._fmt_kg(None) == "—" and depots_ctx._fmt_kg(float("inf")) == "∞"
