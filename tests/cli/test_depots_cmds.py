"""coalition.cli.depots_cmds (the group, assembled from its family modules in help order) and its
own helpers: number formats, depot selection, atomic writes, and
the option checks of ``depots qd`` (every problem names its option). The commands themselves
are driven through the CLI runner by tests/depots/test_cli.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from coalition.cli import (
    depots_check_cmds,
    depots_cmds,
    depots_place_cmds,
    depots_report_cmds,
    depots_rule_cmds,
)
from coalition.cli.depots_ctx import _depots, _fmt_kg, _write
from coalition.cli.depots_rule_cmds import _qd_problems
from coalition.errors import InputError
from coalition.scenario.service import load_scenario

NETWORK = load_scenario().depots


def test_kilograms_are_whole_and_a_limit_never_rounds_up() -> None:
    assert _fmt_kg(None) == "—" and _fmt_kg(float("inf")) == "∞"
    assert _fmt_kg(1234.6) == "1,235" and _fmt_kg(1234.6, limit=True) == "1,234"
    assert _fmt_kg(0.99, limit=True) == "0"


def test_depots_are_selected_by_id_with_a_guess_for_a_typo() -> None:
    first = NETWORK.depots[0]
    assert _depots(NETWORK, None) == list(NETWORK.depots)
    assert _depots(NETWORK, first.id) == [first]
    with pytest.raises(InputError) as err:
        _depots(NETWORK, first.id[:-1] + "Z")
    p = err.value.problems[0]
    assert p.field == "--depot" and p.hint == f"did you mean '{first.id}'?"
    with pytest.raises(InputError) as err:
        _depots(NETWORK, "qqqqqqqqqq")
    assert err.value.problems[0].hint.startswith("valid: ")


def test_a_profile_applies_to_every_depot_and_must_be_known() -> None:
    assert {d.profile for d in _depots(NETWORK, None, "us-desr")} == {"us-desr"}
    with pytest.raises(InputError) as err:
        _depots(NETWORK, None, "nato")
    assert err.value.problems[0].field == "--profile"
    with pytest.raises(InputError, match="no depots"):
        _depots(NETWORK.model_copy(update={"depots": ()}), None)


def test_a_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    _write(target, "one")
    _write(target, "two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with pytest.raises(InputError) as err:
        _write(tmp_path / "absent" / "x.txt", "t")
    assert err.value.problems[0].field == "--out"


def fields(problems) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.field for p in problems]


def test_qd_options_are_each_checked_and_named() -> None:
    ok = _qd_problems("1.1", "earth-covered", "front", "above-ground", "*", "*", "iatg", "D")
    assert ok == []
    assert fields(_qd_problems(None, "*", "*", "*", "*", "*", "iatg", None)) == ["--hd"]
    bad = _qd_problems("1.1", "igloo", "top", "tent", "*", "*", "nato", None)
    assert set(fields(bad)) >= {"--pes", "--face", "--es", "--profile"}
    faces = _qd_problems("1.1", "above-ground", "front", "*", "*", "*", "iatg", None)
    assert fields(faces) == ["--face"] and "has no faces" in faces[0].message
    es = _qd_problems("1.1", "*", "*", "above-ground", "front", "*", "iatg", None)
    assert fields(es) == ["--es-face"]


def test_a_compatibility_group_must_exist_and_be_legal_with_the_division() -> None:
    assert fields(_qd_problems("1.1", "*", "*", "*", "*", "*", "iatg", "I")) == ["--cg"]  # not used
    illegal = _qd_problems("1.4", "*", "*", "*", "*", "*", "iatg", "A")  # 1.4A does not exist
    assert fields(illegal) == ["--cg"] and "35 legal classification codes" in illegal[0].message
    assert _qd_problems("1.4", "*", "*", "*", "*", "*", "iatg", " s ") == []  # 1.4S, spaces and case


def test_the_depots_group_holds_every_family_in_order() -> None:
    commands = depots_cmds.depots_app.registered_commands
    assert [c.name for c in commands] == ["qd", "rules", "mix", "check", "licence", "place", "map", "surveillance"]
    homes = {c.name: c.callback.__module__ for c in commands if c.callback}
    assert homes["qd"] == homes["mix"] == depots_rule_cmds.__name__
    assert homes["check"] == homes["licence"] == depots_check_cmds.__name__
    assert homes["place"] == depots_place_cmds.__name__
    assert homes["map"] == homes["surveillance"] == depots_report_cmds.__name__
