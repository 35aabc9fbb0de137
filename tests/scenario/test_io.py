"""Reading and writing scenario folders and single YAML/JSON files; every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coalition.errors import ScenarioError
from coalition.scenario import io
from coalition.scenario.schemas import Scenario
from coalition.scenario.service import (
    load_scenario,
    save_scenario,
    save_scenario_file,
    validate_path,
)

from .helpers import edit_csv, find


# ---------------------------------------------------------------------------------------------
# The three forms load to the same Scenario
# ---------------------------------------------------------------------------------------------


def test_folder_round_trip(tiny: Scenario, tiny_folder: Path) -> None:
    names = sorted(p.name for p in tiny_folder.iterdir())
    assert names == sorted(["scenario.yaml", "nations.csv", "pledges.csv", "hubs.csv",
                            "rear_nodes.csv", "requirements.csv", "corridors.csv"])
    assert load_scenario(tiny_folder) == tiny


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_single_file_round_trip(tiny: Scenario, tmp_path: Path, suffix: str) -> None:
    file = save_scenario_file(tiny, tmp_path / f"tiny{suffix}")
    assert load_scenario(file) == tiny


def test_caveats_are_flat_columns_with_semicolon_lists(tiny_folder: Path) -> None:
    header, first = (tiny_folder / "pledges.csv").read_text().splitlines()[:2]
    assert "allowed_countries" in header.split(",") and "caveats" not in header
    assert header.split(",")[0] == "id" and header.split(",")[-2:] == ["evidence", "source"]
    text = (tiny_folder / "nations.csv").read_text()
    assert "NATO;EU" in text


def test_instrument_history_in_a_csv_cell(tiny: Scenario, tiny_folder: Path) -> None:
    # Move instruments out of scenario.yaml into instruments.csv (both places are allowed).
    meta = io.load_yaml((tiny_folder / "scenario.yaml").read_text())
    del meta["instruments"]
    (tiny_folder / "scenario.yaml").write_text(io.dump_yaml(meta))
    (tiny_folder / "instruments.csv").write_text(
        "id,kind,title,parties,history\n"
        "doi,declaration-of-intent,Declaration,AAA;UKR,signed=2026-01-06\n"
    )
    assert load_scenario(tiny_folder) == tiny


def test_yaml_on_key_is_not_a_boolean(tiny: Scenario, tmp_path: Path) -> None:
    file = save_scenario_file(tiny, tmp_path / "t.yaml")
    text = file.read_text()
    assert "\n  on: 2026-02-01\n" in text  # bare key, bare date
    file.write_text(text.replace("on: 2026-02-01", "on: '2026-02-01'"))  # quoting is fine too
    assert load_scenario(file).timeline[0].on.isoformat() == "2026-02-01"


def test_save_is_lossless_for_the_embedded_scenario(tmp_path: Path) -> None:
    original = load_scenario()
    assert load_scenario(save_scenario(original, tmp_path / "copy")) == original
    assert load_scenario(save_scenario_file(original, tmp_path / "all.json")) == original


def test_save_replaces_stale_table_files(tiny: Scenario, tiny_folder: Path) -> None:
    (tiny_folder / "instruments.csv").write_text("id,kind,title,parties\n")
    (tiny_folder / "notes.txt").write_text("mine")
    save_scenario(tiny, tiny_folder)
    assert not (tiny_folder / "instruments.csv").exists()  # instruments live in scenario.yaml
    assert (tiny_folder / "notes.txt").read_text() == "mine"  # not ours: untouched
    assert load_scenario(tiny_folder) == tiny


# ---------------------------------------------------------------------------------------------
# Bad input: every problem names file, row (or line), field and what is valid
# ---------------------------------------------------------------------------------------------


def test_malformed_yaml_names_the_line(tiny_folder: Path) -> None:
    path = tiny_folder / "scenario.yaml"
    lines = path.read_text().splitlines()
    lines.insert(3, "name: [unclosed")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tiny_folder)
    p = err.value.problems[0]
    assert p.file == "scenario.yaml" and p.row is not None and p.row >= 4
    assert "malformed YAML" in p.message


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    file = tmp_path / "s.json"
    file.write_text('{\n  "id": "x",\n  "name": "y",,\n}\n')
    p = find(validate_path(file).problems, file="s.json")
    assert p.row == 3 and "malformed JSON" in p.message


def test_bad_csv_cell_names_row_and_column(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 2, "units", "two")
    edit_csv(tiny_folder / "pledges.csv", 1, "lead", "maybe")
    problems = validate_path(tiny_folder).problems
    p = find(problems, file="pledges.csv", row=2, field="units")
    assert "two" in p.message and p.hint == "a whole number"
    p = find(problems, file="pledges.csv", row=1, field="lead")
    assert p.hint == "true or false"


def test_unknown_reference_suggests_the_closest(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 1, "nation", "AAB")
    edit_csv(tiny_folder / "requirements.csv", 1, "hub", "H-WSET")
    edit_csv(tiny_folder / "corridors.csv", 1, "rear_node", "RN-2")
    edit_csv(tiny_folder / "hubs.csv", 2, "host_nation", "UKX")
    problems = validate_path(tiny_folder).problems
    assert find(problems, file="pledges.csv", row=1, field="nation").hint == "did you mean 'AAA'?"
    assert find(problems, file="requirements.csv", row=1, field="hub").hint == "did you mean 'H-WEST'?"
    assert find(problems, file="corridors.csv", row=1, field="rear_node").hint == "did you mean 'RN-1'?"
    assert find(problems, file="hubs.csv", row=2, field="host_nation").hint == "did you mean 'UKR'?"
    with pytest.raises(ScenarioError) as err:
        load_scenario(tiny_folder)
    assert len(err.value.problems) == 4


def test_unknown_region_and_capability(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "requirements.csv", 2, "region", "Wst")
    edit_csv(tiny_folder / "requirements.csv", 2, "capability", "med_r3")
    problems = validate_path(tiny_folder).problems
    assert "West" in find(problems, row=2, field="region").hint
    assert find(problems, row=2, field="capability").hint == "did you mean 'med_r2'?"


def test_duplicate_id_points_at_the_first(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 2, "id", "AAA-1")
    p = find(validate_path(tiny_folder).problems, file="pledges.csv", row=2, field="id")
    assert "duplicate" in p.message and "row 1" in (p.hint or "")


def test_bad_date_in_yaml_names_the_line_and_field(tiny_folder: Path) -> None:
    path = tiny_folder / "scenario.yaml"
    text = path.read_text()
    assert "2026-02-01" in text
    path.write_text(text.replace("2026-02-01", "2026-13-01"))
    lineno = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if "2026-13-01" in line)
    p = find(validate_path(tiny_folder).problems, file="scenario.yaml", field="timeline[0].on")
    assert p.row == lineno and "2026-13-01" in p.message and "YYYY-MM-DD" in (p.hint or "")


def test_bad_date_in_csv(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 2, "expiry_date", "01/01/2027")
    p = find(validate_path(tiny_folder).problems, file="pledges.csv", row=2, field="expiry_date")
    assert "YYYY-MM-DD" in (p.hint or "")


def test_negative_numbers(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "corridors.csv", 1, "transit_days", "-1")
    edit_csv(tiny_folder / "pledges.csv", 1, "min_distance_km", "-5")
    problems = validate_path(tiny_folder).problems
    assert "greater than or equal to 0" in find(problems, file="corridors.csv", field="transit_days").message
    find(problems, file="pledges.csv", row=1, field="min_distance_km")


def test_unknown_condition_in_pledge_expression(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 1, "condition", "all(ready, parlament.AAA)")
    p = find(validate_path(tiny_folder).problems, file="pledges.csv", row=1, field="condition")
    assert "parlament.AAA" in p.message and p.hint == "did you mean 'parliament.AAA'?"


def test_bad_expression_gives_the_position(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 2, "condition", "all(ceasefire")
    p = find(validate_path(tiny_folder).problems, file="pledges.csv", row=2, field="condition")
    assert "position 13" in p.message


def test_unknown_instrument_in_expression(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 2, "condition", "instrument(dio) >= signed")
    p = find(validate_path(tiny_folder).problems, file="pledges.csv", row=2, field="condition")
    assert p.hint == "did you mean 'doi'?"


def test_cyclic_derived_conditions(tiny_folder: Path) -> None:
    path = tiny_folder / "scenario.yaml"
    meta = io.load_yaml(path.read_text())
    meta["conditions"].append({"name": "loop_a", "expression": "all(loop_b, ceasefire)"})
    meta["conditions"].append({"name": "loop_b", "expression": "not(loop_a)"})
    path.write_text(io.dump_yaml(meta))
    p = find(validate_path(tiny_folder).problems, contains="cyclic")
    assert "loop_a -> loop_b -> loop_a" in p.message
    assert p.file == "scenario.yaml" and p.field == "conditions[3].expression" and p.row


def test_event_on_unknown_or_derived_condition(tiny_folder: Path) -> None:
    path = tiny_folder / "scenario.yaml"
    meta = io.load_yaml(path.read_text())
    meta["timeline"].append({"on": "2026-03-01", "condition": "ceasfire"})
    meta["timeline"].append({"on": "2026-03-01", "condition": "ready"})
    path.write_text(io.dump_yaml(meta))
    problems = validate_path(tiny_folder).problems
    assert find(problems, field="timeline[1].condition").hint == "did you mean 'ceasefire'?"
    assert "derived" in find(problems, field="timeline[2].condition").message


def test_unknown_column_and_field(tiny_folder: Path) -> None:
    text = (tiny_folder / "hubs.csv").read_text().replace("personnel_capacity", "personel_capacity", 1)
    (tiny_folder / "hubs.csv").write_text(text)
    path = tiny_folder / "scenario.yaml"
    path.write_text(path.read_text().replace("horizon_days:", "horizon_dayz:"))
    problems = validate_path(tiny_folder).problems
    p = find(problems, file="hubs.csv", row=1, field="personel_capacity")
    assert p.hint == "did you mean 'personnel_capacity'?"
    p = find(problems, file="scenario.yaml", field="horizon_dayz")
    assert p.hint == "did you mean 'horizon_days'?" and p.row is not None


def test_bad_enum_lists_valid_values(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "corridors.csv", 1, "mode", "rial")
    p = find(validate_path(tiny_folder).problems, file="corridors.csv", field="mode")
    assert "road, rail, air, sea" in p.message and p.hint == "did you mean 'rail'?"


def test_model_rule_requirement_hub_and_region(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "requirements.csv", 1, "region", "West")
    p = find(validate_path(tiny_folder).problems, file="requirements.csv", row=1)
    assert "exactly one of 'hub' or 'region'" in p.message


def test_table_given_twice_and_stray_csv(tiny_folder: Path) -> None:
    (tiny_folder / "capabilities.csv").write_text("code,name,domain,personnel,tonnage\n")
    (tiny_folder / "pledge.csv").write_text("id\n")
    problems = validate_path(tiny_folder).problems
    assert "given twice" in find(problems, file="capabilities.csv").message
    p = find(problems, file="pledge.csv")
    assert p.severity == "warning" and p.hint == "did you mean 'pledges.csv'?"


def test_more_cells_than_header(tiny_folder: Path) -> None:
    path = tiny_folder / "rear_nodes.csv"
    lines = path.read_text().splitlines()
    lines[1] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    p = find(validate_path(tiny_folder).problems, file="rear_nodes.csv", row=1)
    assert "more cells" in p.message


def test_missing_folder_file_and_type(tmp_path: Path) -> None:
    assert "no such file" in validate_path(tmp_path / "nope").problems[0].message
    (tmp_path / "empty").mkdir()
    assert "scenario.yaml" in validate_path(tmp_path / "empty").problems[0].message
    (tmp_path / "s.txt").write_text("x")
    assert "unknown scenario file type" in validate_path(tmp_path / "s.txt").problems[0].message
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    assert "one mapping" in validate_path(tmp_path / "list.yaml").problems[0].message


def test_not_utf8(tiny_folder: Path) -> None:
    (tiny_folder / "nations.csv").write_bytes(b"code,name,role\nAAA,\xff\xfe,lead\n")
    assert "UTF-8" in find(validate_path(tiny_folder).problems, file="nations.csv").message


def test_all_problems_at_once_and_nothing_half_loaded(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 1, "units", "-1")
    edit_csv(tiny_folder / "pledges.csv", 1, "capability", "inf_bm")  # same failed row
    edit_csv(tiny_folder / "hubs.csv", 1, "lat", "95")
    edit_csv(tiny_folder / "nations.csv", 2, "role", "leader")
    report = validate_path(tiny_folder)
    assert report.scenario is None and not report.ok
    find(report.problems, file="pledges.csv", row=1, field="units")
    # the failed row's references are still checked
    assert find(report.problems, file="pledges.csv", row=1, field="capability").hint == "did you mean 'inf_bn'?"
    find(report.problems, file="hubs.csv", row=1, field="lat")
    find(report.problems, file="nations.csv", row=2, field="role")
    # the broken nation row's code is known: no cascade of "unknown nation 'BBB'"
    assert not [p for p in report.problems if "unknown nation" in p.message]
    with pytest.raises(ScenarioError) as err:
        load_scenario(tiny_folder)
    assert len(err.value.problems) == len(report.errors)


def test_json_single_file_problems_carry_lines(tiny: Scenario, tmp_path: Path) -> None:
    data = json.loads(json.dumps(tiny.model_dump(mode="json")))
    data["pledges"][1]["units"] = 0
    file = tmp_path / "t.json"
    file.write_text(json.dumps(data, indent=2))
    lineno = next(i for i, line in enumerate(file.read_text().splitlines(), 1) if '"units": 0' in line)
    p = find(validate_path(file).problems, file="t.json", field="pledges[1].units")
    assert p.row == lineno


def test_strict_turns_warnings_into_errors(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "pledges.csv", 1, "units", "500")  # allowed but absurd
    report = validate_path(tiny_folder)
    assert report.ok and find(report.warnings, field="units").severity == "warning"
    assert not validate_path(tiny_folder, strict=True).ok
    with pytest.raises(ScenarioError):
        load_scenario(tiny_folder, strict=True)
    assert load_scenario(tiny_folder).pledges[0].units == 500


def test_duplicate_yaml_key_is_reported(tiny_folder: Path) -> None:
    path = tiny_folder / "scenario.yaml"
    path.write_text(path.read_text().replace("horizon_days: 728", "horizon_days: 728\nhorizon_days: 364"))
    p = find(validate_path(tiny_folder).problems, file="scenario.yaml", contains="given twice")
    assert p.field == "horizon_days" and p.row is not None


def test_json_indented_with_tabs_keeps_line_numbers(tiny: Scenario, tmp_path: Path) -> None:
    data = tiny.model_dump(mode="json")
    data["hubs"][0]["lat"] = 123
    file = tmp_path / "t.json"
    file.write_text(json.dumps(data, indent="\t"))
    lineno = next(i for i, line in enumerate(file.read_text().splitlines(), 1) if '"lat": 123' in line)
    assert find(validate_path(file).problems, field="hubs[0].lat").row == lineno


def test_csv_header_problems_are_reported_once(tiny_folder: Path) -> None:
    path = tiny_folder / "hubs.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("host_nation")
    lines = [",".join(c for j, c in enumerate(line.split(",")) if j != drop) for line in lines]
    lines[0] += ",kind"  # a second 'kind' column (the rows simply have no cell for it)
    path.write_text("\n".join(lines) + "\n")
    problems = validate_path(tiny_folder).problems
    p = find(problems, file="hubs.csv", field="host_nation")
    assert p.row is None and "required column" in p.message  # once, not once per row
    assert "appears twice" in find(problems, file="hubs.csv", field="kind", contains="twice").message


def test_long_values_are_cut_in_messages(tiny_folder: Path) -> None:
    edit_csv(tiny_folder / "nations.csv", 1, "name", "N" * 500)
    edit_csv(tiny_folder / "nations.csv", 2, "role", "R" * 500)
    problems = validate_path(tiny_folder).problems
    p = find(problems, file="nations.csv", row=1, field="name")
    assert "at most 100 characters" in p.message and p.hint
    p = find(problems, file="nations.csv", row=2, field="role")
    assert len(p.message) < 250 and "..." in p.message and "contributor" in p.message


def test_malformed_csv_quotes(tiny_folder: Path) -> None:
    path = tiny_folder / "rear_nodes.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("Rear", '"Rear', 1)  # unclosed quote in data row 1
    path.write_text("\n".join(lines) + "\n")
    problems = validate_path(tiny_folder).problems
    p = find(problems, file="rear_nodes.csv")
    assert "malformed CSV" in p.message and p.row == 1 and "quote" in (p.hint or "")
    assert len(problems) == 1  # no "unknown rear node" for every corridor and pledge
