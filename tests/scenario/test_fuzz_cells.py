"""Property: corrupting any one cell never crashes validation; problems always say where."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from coalition.scenario.service import save_scenario, validate_path

from .conftest import tiny_scenario

TABLES = ("nations.csv", "pledges.csv", "hubs.csv", "rear_nodes.csv", "requirements.csv",
          "corridors.csv")
garbage = st.one_of(
    st.sampled_from(["", "-1", "0", "1e400", "nan", "abc", "2026-02-30", "AAA;BBB;", "all(",
                     "not(x)", "true", "H-WEST", "RN-1", "ceasefire", ";;", "\"", "=1", "9" * 30]),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(table=st.sampled_from(TABLES), row=st.integers(0, 5), col=st.integers(0, 40), value=garbage)
def test_one_bad_cell(table: str, row: int, col: int, value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_scenario(tiny_scenario(), Path(tmp) / "s")
        path = folder / table
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        r = 1 + row % (len(rows) - 1)
        c = col % len(rows[0])
        rows[r][c] = value
        with path.open("w", newline="", encoding="utf-8") as fh:
            # QUOTE_ALL: a lone carriage return in a cell stays inside its quotes
            csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
        report = validate_path(folder)  # must not raise
        for p in report.problems:
            assert p.file and p.message
            if p.severity == "error" and p.file == table and p.row is not None:
                assert p.row == r, (p, r)
        if not report.ok:
            assert report.scenario is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(line=st.integers(0, 200), value=garbage)
def test_one_bad_yaml_value(line: int, value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_scenario(tiny_scenario(), Path(tmp) / "s")
        path = folder / "scenario.yaml"
        lines = path.read_text().splitlines()
        i = line % len(lines)
        head, sep, _ = lines[i].partition(": ")
        lines[i] = f"{head}{sep}{value}" if sep else f"{lines[i]}{value}"
        path.write_text("\n".join(lines) + "\n")
        report = validate_path(folder)  # must not raise
        assert all(p.file and p.message for p in report.problems)
        if not report.ok:
            assert report.scenario is None
