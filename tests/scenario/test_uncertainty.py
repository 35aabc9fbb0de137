"""The uncertainty: section: field rules, cross-checks with file/row/field, the embedded set."""

from __future__ import annotations

from pathlib import Path

import yaml

from coalition.scenario.uncertainty import Uncertainty, driver_cycles, topological_order
from coalition.scenario.service import load_scenario, save_scenario, validate_path
from tests.analysis.factory import either_fills


def _write(tmp_path: Path, edit) -> Path:
    data = either_fills().model_dump(mode="json", exclude_none=True)
    edit(data["uncertainty"])
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _problems(path: Path):
    report = validate_path(path)
    return [p for p in report.problems if p.severity == "error"]


def test_probability_outside_0_1_names_file_row_field(tmp_path):
    path = _write(tmp_path, lambda u: u["conditions"][1].update(probability=1.5))
    probs = _problems(path)
    assert len(probs) == 1
    p = probs[0]
    assert p.file == "tiny.yaml" and p.field == "uncertainty.conditions[1].probability"
    lines = path.read_text().splitlines()
    assert p.row is not None and "1.5" in "".join(lines[p.row - 1 : p.row + 3])


def test_unknown_condition_with_hint(tmp_path):
    path = _write(tmp_path, lambda u: u["conditions"][0].update(condition="c3"))
    [p] = _problems(path)
    assert p.field == "uncertainty.conditions[0].condition" and "unknown condition 'c3'" in p.message
    assert p.row is not None and "did you mean" in (p.hint or "")


def test_cyclic_drivers_named(tmp_path):
    def edit(u):
        u["conditions"][0].update(driver="c2", probability_if_not=0.1)
        u["conditions"][1].update(driver="c1", probability_if_not=0.2)
    probs = _problems(_write(tmp_path, edit))
    assert [p.message for p in probs] == ["cyclic drivers: c1 -> c2 -> c1"]
    assert probs[0].field == "uncertainty.conditions[0].driver" and probs[0].row is not None


def test_impossible_date_range(tmp_path):
    def edit(u):
        u["conditions"][0]["date"] = {"distribution": "triangular", "earliest": "2026-09-01",
                                      "mode": "2026-10-01", "latest": "2026-08-01"}
    probs = _problems(_write(tmp_path, edit))
    fields = sorted(p.field for p in probs)
    assert fields == ["uncertainty.conditions[0].date.latest", "uncertainty.conditions[0].date.mode"]
    assert all("impossible date range" in p.message for p in probs)


def test_driver_needs_probability_if_not_and_must_exist(tmp_path):
    probs = _problems(_write(tmp_path, lambda u: u["conditions"][0].update(driver="nope")))
    msgs = sorted(p.message for p in probs)
    assert msgs == ["a row driven by 'nope' needs 'probability_if_not'", "unknown driver 'nope'"]


def test_ceasefire_must_hold_and_participation_nation_known(tmp_path):
    def edit(u):
        u["conditions"].append({"condition": "ceasefire", "probability": 0.5, "source": "t"})
        u["participation"] = [{"nation": "ZZZ", "distribution": "fixed", "share": 0.5, "source": "t"}]
    msgs = sorted(p.message for p in _problems(_write(tmp_path, edit)))
    assert msgs[0].startswith("nation ZZZ pledges nothing")
    assert "conditional on a ceasefire" in msgs[1]


def test_good_section_validates_and_round_trips(tmp_path):
    assert _problems(_write(tmp_path, lambda u: None)) == []
    sc = either_fills()
    save_scenario(sc, tmp_path / "folder")
    again = load_scenario(tmp_path / "folder")
    assert again.uncertainty == sc.uncertainty


def test_embedded_set_is_illustrative_and_sourced():
    sc = load_scenario()
    u = sc.uncertainty
    assert u is not None and u.illustrative and "ILLUSTRATIVE" in u.description
    rows = list(u.conditions) + list(u.drivers) + list(u.participation)
    assert rows and all(r.source.strip() and r.evidence in "RAUI" for r in rows)
    report = validate_path(None)
    assert report.ok, report.problems
    # us_backstop drives parliament.DEU (the correlated group of the issue)
    assert u.condition("parliament.DEU").driver == "us_backstop"


def test_driver_cycles_and_order():
    assert driver_cycles({"a": "b", "b": "c", "c": "a", "d": None}) == [("a", "b", "c", "a")]
    assert driver_cycles({"a": None, "b": "a"}) == []
    u = Uncertainty.model_validate({
        "drivers": [{"name": "z", "probability": 0.5}],
        "conditions": [{"condition": "b", "probability": 0.5, "driver": "a", "probability_if_not": 0},
                       {"condition": "a", "probability": 0.5, "driver": "z", "probability_if_not": 0}]})
    order = topological_order(u)
    assert order.index("z") < order.index("a") < order.index("b")
