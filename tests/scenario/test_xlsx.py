"""One workbook for the whole scenario, losslessly."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from coalition.errors import ScenarioError
from coalition.scenario import schemas as s
from coalition.scenario.service import export_xlsx, import_xlsx, load_scenario, read_xlsx

from .helpers import find


def test_embedded_round_trip_is_lossless(tmp_path: Path) -> None:
    original = load_scenario()
    book = export_xlsx(original, tmp_path / "paris.xlsx")
    folder = import_xlsx(book, tmp_path / "back")
    assert load_scenario(folder) == original


def test_tiny_round_trip_keeps_odd_text(tiny: s.Scenario, tmp_path: Path) -> None:
    odd = tiny.model_copy(
        update={
            "description": "=SUM(A1) is text\nsecond line",
            "nations": (tiny.nations[0].model_copy(update={"position": "=1+1; 'quoted'"}), *tiny.nations[1:]),
        }
    )
    back = read_xlsx(export_xlsx(odd, tmp_path / "t.xlsx"))
    assert back == odd


def test_workbook_layout(tiny: s.Scenario, tmp_path: Path) -> None:
    wb = load_workbook(export_xlsx(tiny, tmp_path / "t.xlsx"), read_only=True)
    assert wb.sheetnames[:3] == ["README", "scenario", "contact_line"]
    for table in (
        "nations",
        "pledges",
        "hubs",
        "rear_nodes",
        "requirements",
        "corridors",
        "instruments",
        "conditions",
        "timeline",
        "capabilities",
        "force_options",
    ):
        assert table in wb.sheetnames
    header = next(wb["pledges"].iter_rows(values_only=True))
    assert header[0] == "id" and "allowed_countries" in header
    wb.close()


def test_bad_workbook_is_reported_and_nothing_written(tiny: s.Scenario, tmp_path: Path) -> None:
    book = export_xlsx(tiny, tmp_path / "t.xlsx")
    wb = load_workbook(book)
    ws = wb["pledges"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("nation") + 1, value="AAX")
    ws.cell(row=3, column=header.index("units") + 1, value=-2)
    wb.save(book)
    with pytest.raises(ScenarioError) as err:
        import_xlsx(book, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    problems = err.value.problems
    assert find(problems, file="t.xlsx:pledges", row=1, field="nation").hint == "did you mean 'AAA'?"
    find(problems, file="t.xlsx:pledges", row=2, field="units")


def test_not_a_workbook(tmp_path: Path) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(ScenarioError) as err:
        read_xlsx(bad)
    assert "not a readable XLSX" in err.value.problems[0].message


def test_import_refuses_non_empty_folder(tiny: s.Scenario, tmp_path: Path) -> None:
    book = export_xlsx(tiny, tmp_path / "t.xlsx")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(Exception, match="not empty"):
        import_xlsx(book, tmp_path / "busy")
    import_xlsx(book, tmp_path / "busy", force=True)
    assert load_scenario(tmp_path / "busy") == tiny


def test_depots_survive_every_form(tiny: s.Scenario, tmp_path: Path) -> None:
    from coalition.depots.schemas import Depot, DepotNetwork
    from coalition.scenario.service import save_scenario, save_scenario_file

    network = DepotNetwork(
        note="illustrative depot: 'on' and yes/no stay text", depots=(Depot(id="D1", name="West depot", hub="H-WEST"),)
    )
    with_depots = tiny.model_copy(update={"depots": network})
    folder = save_scenario(with_depots, tmp_path / "f")
    assert (folder / "depots.yaml").is_file()
    assert load_scenario(folder) == with_depots
    assert load_scenario(save_scenario_file(with_depots, tmp_path / "f.json")) == with_depots
    assert read_xlsx(export_xlsx(with_depots, tmp_path / "f.xlsx")) == with_depots


def test_depot_at_unknown_place(tiny: s.Scenario, tmp_path: Path) -> None:
    from coalition.depots.schemas import Depot, DepotNetwork
    from coalition.scenario.service import save_scenario, validate_path

    bad = tiny.model_copy(update={"depots": DepotNetwork(depots=(Depot(id="D1", name="D", hub="H-WST"),))})
    folder = save_scenario(bad, tmp_path / "f")
    lines = (folder / "depots.yaml").read_text().splitlines()
    lineno = lines.index("  hub: H-WST") + 1
    p = find(validate_path(folder).problems, file="depots.yaml", field="depots[0].hub")
    assert p.hint == "did you mean 'H-WEST'?" and p.row == lineno


def test_workbook_meta_and_contact_problems(tiny: s.Scenario, tmp_path: Path) -> None:
    book = export_xlsx(tiny, tmp_path / "t.xlsx")
    wb = load_workbook(book)
    wb["contact_line"].cell(row=3, column=1, value=123.0)  # second point: lat out of range
    meta = wb["scenario"]
    meta.append(["horizon_dayz", 10])
    wb.create_sheet("pledgez")
    wb.save(book)
    from coalition.scenario.service import validate_path

    problems = validate_path(book).problems
    p = find(problems, file="t.xlsx:contact_line", field="contact_line.points[1].lat")
    assert p.row == 2
    assert find(problems, file="t.xlsx:scenario", field="key").hint == "did you mean 'horizon_days'?"
    assert find(problems, contains="pledgez").severity == "warning"


def test_depot_place_checked_even_when_the_network_is_invalid(tiny: s.Scenario, tmp_path: Path) -> None:
    from coalition.depots.schemas import Depot, DepotNetwork
    from coalition.scenario.service import save_scenario, validate_path

    bad = tiny.model_copy(update={"depots": DepotNetwork(depots=(Depot(id="D1", name="D", hub="H-WST"),))})
    folder = save_scenario(bad, tmp_path / "f")
    path = folder / "depots.yaml"
    path.write_text(path.read_text().replace("name: D\n", "name: ''\n"))  # a field error too
    problems = validate_path(folder).problems
    find(problems, file="depots.yaml", field="depots[0].name")
    assert find(problems, file="depots.yaml", field="depots[0].hub").hint == "did you mean 'H-WEST'?"


# --- coalition.scenario.xlsx itself: escapes, refusals, and every problem it names -----------


def test_escapes_round_trip_carriage_returns_and_literal_escape_text() -> None:
    from coalition.scenario.xlsx import _escape, _unescape

    # overlapping literal escapes (the second one's underscore is the first one's last) too
    for text in ("a\rb", "_x000D_ literal", "_x005F_x000D_", "_x0041_x0042_", "a\r\n_x1234_ b", "plain"):
        assert _unescape(_escape(text)) == text
    assert "\r" not in _escape("a\rb")
    assert _unescape("_x0041_") == "_x0041_"  # only the two escapes this module writes are read


def test_unstorable_text_is_refused_naming_every_place_and_writing_nothing(tiny: s.Scenario, tmp_path: Path) -> None:
    from coalition.errors import InputError
    from coalition.scenario.xlsx import export_workbook

    bad = tiny.model_copy(
        update={
            "name": "bell\x07",
            "nations": (tiny.nations[0].model_copy(update={"name": "esc\x1b"}), *tiny.nations[1:]),
        }
    )
    with pytest.raises(InputError) as err:
        export_workbook(bad, tmp_path / "t.xlsx")
    assert not (tmp_path / "t.xlsx").exists()
    where = {(p.file, p.row, p.field) for p in err.value.problems}
    assert where == {("scenario", None, "name"), ("nations", 1, "name")}
    assert all("control character" in p.message for p in err.value.problems)


def test_floats_keep_every_digit_and_formulas_stay_text(tiny: s.Scenario, tmp_path: Path) -> None:
    from coalition.scenario.xlsx import export_workbook, read_workbook

    h = tiny.hubs[0].model_copy(update={"lat": 0.1 + 0.2, "name": '=HYPERLINK("x")'})
    sc = tiny.model_copy(update={"hubs": (h, *tiny.hubs[1:])})
    back = read_workbook(export_workbook(sc, tmp_path / "t.xlsx"))
    assert back.scenario is not None
    assert back.scenario.hubs[0].lat == 0.1 + 0.2 and back.scenario.hubs[0].name == '=HYPERLINK("x")'


def _edit(book: Path, fn) -> Path:  # type: ignore[no-untyped-def]
    wb = load_workbook(book)
    fn(wb)
    wb.save(book)
    return book


def test_unknown_sheets_and_keys_are_named_with_a_guess(tiny: s.Scenario, tmp_path: Path) -> None:
    from coalition.scenario.xlsx import export_workbook, read_workbook

    def change(wb) -> None:  # type: ignore[no-untyped-def]
        wb.create_sheet("pledgez")
        ws = wb["scenario"]
        ws.append(["horizon_dayz", 10])
        ws.append(["uncertainty", "{not json"])

    loaded = read_workbook(_edit(export_workbook(tiny, tmp_path / "t.xlsx"), change))
    (sheet,) = [p for p in loaded.problems if p.severity == "warning" and "sheet" in p.message]
    assert "'pledgez'" in sheet.message and sheet.hint == "did you mean 'pledges'?"
    key = find(loaded.problems, file="t.xlsx:scenario", field="key")
    assert "'horizon_dayz'" in key.message and key.hint == "did you mean 'horizon_days'?"
    assert key.row is not None and key.row > 1
    bad_json = find(loaded.problems, file="t.xlsx:scenario", field="value")
    assert "not JSON" in bad_json.message and bad_json.row == key.row + 1


def test_a_workbook_without_its_scenario_sheet_or_file_is_a_located_error(tiny: s.Scenario, tmp_path: Path) -> None:
    from coalition.scenario.xlsx import export_workbook, read_workbook

    loaded = read_workbook(_edit(export_workbook(tiny, tmp_path / "t.xlsx"), lambda wb: wb.remove(wb["scenario"])))
    assert any(
        p.message == "no 'scenario' sheet" and p.file == "t.xlsx" and p.severity == "error" for p in loaded.problems
    )
    missing = read_workbook(tmp_path / "absent.xlsx")
    assert missing.scenario is None and missing.problems[0].message == "no such file"
