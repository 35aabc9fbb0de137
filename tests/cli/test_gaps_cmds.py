"""coalition.cli.gaps_cmds' JSON output: stdout for '-', else a whole file in an existing folder.
The status and gaps commands run through tests/forcegen/test_cli.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from coalition.cli.gaps_cmds import write_json
from coalition.errors import InputError


def test_json_goes_to_a_file_whole_and_nothing_is_left_behind(tmp_path: Path) -> None:
    console = Console(record=True)
    target = tmp_path / "g.json"
    write_json(str(target), {"a": "é"}, console)
    write_json(str(target), {"b": 2}, console)
    assert json.loads(target.read_text("utf-8")) == {"b": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]  # no temporary file left
    assert f"wrote {target}" in " ".join(console.export_text().split())  # a long path wraps


def test_json_to_stdout_and_a_missing_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_json("-", {"x": "é"}, Console())
    assert json.loads(capsys.readouterr().out) == {"x": "é"}
    with pytest.raises(InputError) as err:
        write_json(str(tmp_path / "absent" / "g.json"), {}, Console())
    assert err.value.problems[0].field == "--json" and "'-' for stdout" in err.value.problems[0].hint
