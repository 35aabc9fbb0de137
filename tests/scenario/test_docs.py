"""The scenario docs stay true to the code: every column documented, the worked example runs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.scenario.tables import TABLES, columns

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_table_and_column_is_documented() -> None:
    text = (DOCS / "scenario-format.md").read_text()
    for table in TABLES:
        assert f"### `{table.name}`" in text, table.name
        section = text.split(f"### `{table.name}`", 1)[1].split("\n### ", 1)[0]
        for column in columns(table.model):
            assert f"| `{column}` |" in section, f"{table.name}.{column}"


def test_embedded_scenario_page_carries_the_attribution() -> None:
    text = (DOCS / "scenario-paris-2026.md").read_text()
    assert "CC BY 4.0" in text and "GeoNames" in text and "Illustrative" in text


def test_worked_example_steps_behave_as_documented(tmp_path: Path) -> None:
    doc = (DOCS / "worked-example.md").read_text()
    runner = CliRunner()
    folder = tmp_path / "my-plan"
    assert runner.invoke(app, ["scenario", "init", str(folder)]).exit_code == 0
    rows = [line for line in doc.split("```csv\n", 1)[1].split("```", 1)[0].splitlines() if line]
    with (folder / "pledges.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
    result = runner.invoke(app, ["validate", str(folder), "--json"])
    assert result.exit_code == 2
    import json

    problems = json.loads(result.output)["problems"]
    assert len(problems) == 1
    p = problems[0]
    assert (p["file"], p["field"], p["hint"]) == ("pledges.csv", "condition", "did you mean 'ceasefire'?")
    assert f"│ pledges.csv │  {p['row']} │ condition │" in doc  # the row the doc shows
    text = (folder / "pledges.csv").read_text().replace(",cesefire,", ",ceasefire,")
    (folder / "pledges.csv").write_text(text)
    assert runner.invoke(app, ["validate", str(folder)]).exit_code == 0


def test_embedded_page_counts_match_the_data() -> None:
    from coalition.scenario.service import load_scenario

    sc = load_scenario()
    text = " ".join((DOCS / "scenario-paris-2026.md").read_text().split())

    def count(records, code: str) -> int:  # type: ignore[no-untyped-def]
        return sum(1 for r in records if r.evidence.value == code)

    assert f"nations {count(sc.nations, 'R')} R / {count(sc.nations, 'U')} U" in text
    assert f"pledges {count(sc.pledges, 'R')} R / {count(sc.pledges, 'I')} I" in text
    assert f"{len(sc.nations)} nations" in text
    caps = {c.code: c.personnel for c in sc.capabilities}
    for option in sc.force_options:
        people = sum(caps[r.capability] * r.quantity for r in sc.requirements_of(option.id))
        assert f"| `{option.id}` | ~{option.personnel_target:,} | {people:,} |" in text
