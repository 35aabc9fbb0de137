"""The scenario's sustainment data: every bad input is a named error, and it round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from coalition.scenario.service import export_xlsx, init_folder, load_scenario, read_xlsx, save_scenario, validate_path


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    f = tmp_path / "sc"
    init_folder(f)
    return f


def _edit(folder: Path, old: str, new: str) -> None:
    p = folder / "scenario.yaml"
    text = p.read_text()
    assert old in text, old
    p.write_text(text.replace(old, new, 1))


def _errors(folder: Path) -> list:  # type: ignore[type-arg]
    rep = validate_path(folder)
    return [p for p in rep.problems if p.severity == "error"]


def test_embedded_has_sustainment_data() -> None:
    s = load_scenario().sustainment
    assert s.climate == "temperate" and s.ration_cycle == "2ugr_1mre"
    assert s.medevac and all(m.base for m in s.medevac)
    assert {c for c in ("III(B)", "V", "VIII", "IX")} <= {f.supply_class.value for f in s.factors}
    assert all(f.evidence.value == "I" for f in s.factors)  # every per-capability factor is illustrative


def test_medevac_pledge_without_base(folder: Path) -> None:
    _edit(folder, "base: UA-VINNYTSIA\n", "base: null\n")
    (p,) = _errors(folder)
    assert p.field == "sustainment.medevac[0].base" and "has no base" in p.message


def test_dos_minimum_above_target(folder: Path) -> None:
    _edit(folder, "min_days: 3\n    target_days: 7\n", "min_days: 9\n    target_days: 7\n")
    (p,) = _errors(folder)
    assert p.file == "scenario.yaml" and "sustainment.policies[0]" in (p.field or "")
    assert "DOS minimum 9 days is above the target 7 days" in p.message


def test_negative_factor_and_unknown_class(folder: Path) -> None:
    _edit(folder, "per_person_day: 15.0\n", "per_person_day: -15.0\n")
    _edit(folder, "supply_class: VIII\n", "supply_class: VII\n")
    errs = _errors(folder)
    fields = sorted(p.field or "" for p in errs)
    assert any(f.endswith(".per_person_day") for f in fields), errs
    unknown = next(p for p in errs if (p.field or "").endswith(".supply_class"))
    assert "III(B)" in f"{unknown.message} {unknown.hint}"


def test_hub_without_coordinates(folder: Path) -> None:
    hubs = folder / "hubs.csv"
    lines = hubs.read_text().splitlines()
    head = lines[0].split(",")
    i = head.index("lat")
    cells = lines[2].split(",")
    cells[i] = ""
    lines[2] = ",".join(cells)
    hubs.write_text("\n".join(lines) + "\n")
    errs = _errors(folder)
    assert any(p.file == "hubs.csv" and p.row == 2 and p.field == "lat" for p in errs), errs


def test_unknown_references(folder: Path) -> None:
    _edit(folder, "- capability: med_r2\n", "- capability: med_r9\n")
    _edit(folder, "base: UA-VINNYTSIA\n", "base: UA-VINYTSIA\n")
    errs = _errors(folder)
    msgs = {p.message: p.hint for p in errs}
    assert msgs.get("unknown capability 'med_r9'") == "did you mean 'med_r3'?"  # closest by edit distance
    assert msgs.get("unknown MEDEVAC base 'UA-VINYTSIA'") == "did you mean 'UA-VINNYTSIA'?"


def test_round_trip_folder_and_workbook(tmp_path: Path) -> None:
    sc = load_scenario()
    save_scenario(sc, tmp_path / "copy")
    assert load_scenario(tmp_path / "copy").sustainment == sc.sustainment
    export_xlsx(sc, tmp_path / "s.xlsx")
    assert read_xlsx(tmp_path / "s.xlsx").sustainment == sc.sustainment
