"""coalition.cli.ledger_cmds (the group, assembled from its family modules in help order) and its
own input readers (signature files, UTF-8 text files) and money format; the commands are driven
through the CLI runner by tests/ledger/test_cli.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from coalition.cli import ledger_cmds, ledger_ctx, ledger_read_cmds, ledger_write_cmds
from coalition.cli.ledger_ctx import _money
from coalition.cli.ledger_write_cmds import _read_signatures, read_text_file
from coalition.errors import InputError


def test_money_is_whole_dollars_with_separators() -> None:
    assert _money(1234567.4) == "$1,234,567" and _money(0) == "$0"


def test_a_text_file_must_be_utf8_and_the_bad_line_is_named(tmp_path: Path) -> None:
    good = tmp_path / "ok.jsonl"
    good.write_text("é\nline two\n", encoding="utf-8")
    assert read_text_file(good) == "é\nline two\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"line one\nline two\nthree \xe9 here\n")
    with pytest.raises(InputError) as err:
        read_text_file(bad)
    p = err.value.problems[0]
    assert (p.file, p.row) == (str(bad), 3) and "0xe9" in p.message and p.hint == "save the file as UTF-8"
    with pytest.raises(InputError, match="file not found"):
        read_text_file(tmp_path / "absent")
    with pytest.raises(InputError, match="cannot read"):
        read_text_file(tmp_path)  # a folder


def _sig(**over: object) -> dict[str, object]:
    return {"statement_sha256": "ab" * 32, "role": "consignor", "key_id": "GBR-k1", "signature": "cd" * 64, **over}


def test_a_signatures_file_is_read_and_each_field_checked(tmp_path: Path) -> None:
    f = tmp_path / "sigs.json"
    f.write_text(json.dumps({"signatures": [_sig(), _sig(role="consignee")]}))
    assert [s["role"] for s in _read_signatures(f)] == ["consignor", "consignee"]
    cases = [
        ({"signatures": [_sig(), _sig(key_id=7)]}, "signatures[1].key_id missing or not text"),
        ({"signatures": [_sig(signature="zz")]}, "not a signatures file (ValueError"),
        ({"sigs": []}, "not a signatures file (KeyError"),
        ([1, 2], "not a signatures file (TypeError"),
    ]
    for data, want in cases:
        f.write_text(json.dumps(data))
        with pytest.raises(InputError) as err:
            _read_signatures(f)
        assert want in err.value.problems[0].message and err.value.problems[0].file == str(f), data
    f.write_text("{not json")
    with pytest.raises(InputError) as err:
        _read_signatures(f)
    assert err.value.problems[0].hint == "the output of 'coalition sign'"
    with pytest.raises(InputError, match="file not found"):
        _read_signatures(tmp_path / "absent.json")


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
