"""`coalition sustain` through Typer's CliRunner, on the embedded scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from coalition.cli.main import app

runner = CliRunner()
ASSUME = ("--assume", "ceasefire=2026-06-01")
UNITS = {"I": "kg", "water": "l", "II": "kg", "III(B)": "l", "III(P)": "kg", "IV": "kg", "V": "kg", "VI": "kg",
         "VIII": "kg", "IX": "kg"}


# A generous limit: the solve then stops at its gap, not at the clock, so plans are the same on a
# loaded machine too (a clock stop would make them differ).
LIMIT = ("--time-limit", "600")


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`coalition plan --json` of the small option, solved once for the module: the tests of the
    report's content read it with --plan; test_sustain_reads_the_same_plan_coalition_plan_gives
    shows that `sustain` planning by itself gives the same report."""
    plan = tmp_path_factory.mktemp("sustain") / "plan.json"
    r = run("plan", "--option", "small", *ASSUME, *LIMIT, "--no-live", "--json", str(plan))
    assert r.exit_code == 0, r.output
    return plan


def test_sustain_small_json_shape_and_content(small_plan: Path) -> None:
    r = run("sustain", "--option", "small", *ASSUME, "--plan", str(small_plan), "--json", "-")
    assert r.exit_code == 0, r.output
    j = json.loads(r.stdout)
    assert j["assumed"] == {"climate": "temperate", "ration_cycle": "2ugr_1mre", "activity": "static"}
    hubs = {h["hub"]: h for h in j["hubs"]}
    assert hubs, "the plan staffs hubs"
    for h in hubs.values():
        assert "legal_class_v_days" in h and h["ranges"]
        for rng in h["ranges"]:
            assert rng["personnel"] > 0 and rng["start_day"] <= rng["end_day"]
            for cls, unit in UNITS.items():
                cell = rng["classes"][cls]
                assert f"demand_{unit}" in cell and "dos_on_hand" in cell
        assert {s["class"] for s in h["stock"]} == set(UNITS)
    # Vinnytsia has the licensed depot; Lviv none
    vin = hubs["UA-VINNYTSIA"]
    assert vin["legal_class_v_days"] > 0 and vin["limiting"] and vin["raise_by"]
    if "UA-LVIV" in hubs:
        assert hubs["UA-LVIV"]["legal_class_v_days"] == 0
    med = j["medical"]
    assert {"share_within_1h", "share_within_2h", "ranges", "uncovered"} <= set(med)
    assert all({"hub", "start_day", "end_day", "reason"} <= set(u) for u in med["uncovered"])
    assert "illustrative" in j["flags"]  # III(B), V, VIII, IX factors are illustrative


def test_sustain_reads_the_same_plan_coalition_plan_gives(small_plan: Path) -> None:
    # the same generous limit on both solves (LIMIT): each stops at its gap
    a = run("sustain", "--option", "small", *ASSUME, "--plan", str(small_plan), "--json", "-")
    b = run("sustain", "--option", "small", *ASSUME, *LIMIT, "--json", "-")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert ja["hubs"] == jb["hubs"] and ja["medical"] == jb["medical"]


def test_csv_and_xlsx_exports(tmp_path: Path, small_plan: Path) -> None:
    r = run("sustain", "--option", "small", *ASSUME, "--plan", str(small_plan), "--csv", str(tmp_path / "csv"),
            "--xlsx", str(tmp_path / "s.xlsx"))
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert names == sorted(f"sustain-{n}-small.csv" for n in
                           ("demand", "stock", "class_v", "medical", "uncovered", "precedence"))
    head = (tmp_path / "csv" / "sustain-demand-small.csv").read_text().splitlines()[0]
    assert "I_demand_kg" in head and "water_demand_l" in head and "V_dos_on_hand" in head
    wb = load_workbook(tmp_path / "s.xlsx")
    assert set(wb.sheetnames) == {"demand", "stock", "class_v", "medical", "uncovered", "precedence"}


def test_bad_input_exit_2_and_nothing_written(tmp_path: Path) -> None:
    r = run("sustain", "--option", "smal", *ASSUME)
    assert r.exit_code == 2 and "did you mean 'small'" in r.output
    r = run("sustain", "--option", "small", "--plan", str(tmp_path / "none.json"))
    assert r.exit_code == 2 and "no such file" in r.output
    other = tmp_path / "plan.json"
    other.write_text(json.dumps({"plans": [{"option": "medium", "horizon_days": 10, "unit_lines": []}]}))
    out = tmp_path / "out.json"
    r = run("sustain", "--option", "small", "--plan", str(other), "--json", str(out))
    assert r.exit_code == 2 and "no plan for option 'small'" in r.output and "medium" in r.output
    assert not out.exists()
    r = run("sustain", "--option", "small", "--json", str(tmp_path / "nofolder" / "x.json"))
    assert r.exit_code == 2 and "does not exist" in r.output


def test_medevac_pledge_without_base_stops_the_command(tmp_path: Path) -> None:
    folder = tmp_path / "sc"
    assert run("scenario", "init", str(folder)).exit_code == 0
    text = (folder / "scenario.yaml").read_text()
    assert "pledge: GBR-14" in text
    (folder / "scenario.yaml").write_text(text.replace("pledge: GBR-14", "pledge: GBR-13"))
    r = run("sustain", "-s", str(folder), "--option", "small", *ASSUME)
    assert r.exit_code == 2
    assert "MEDEVAC pledge 'GBR-14' has no base" in " ".join(r.output.split())


def test_inventory_flag_reads_class_v_from_the_store(tmp_path: Path) -> None:
    from coalition.ledger import service as ledger_service
    from coalition.ledger.keys import KeyRing
    from coalition.ledger.sample import SAMPLE_NATIONS, load_sample
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    upgrade(engine)
    keyring = KeyRing.generate(tmp_path / "keys", SAMPLE_NATIONS)
    with transaction(session_factory(engine)) as s:
        ledger_service.register_keys(s, keyring=keyring)
        load_sample(s, keyring=keyring, safety=None)
    engine.dispose()
    # a plan that staffs Lviv, where the sample's depot is (the optimiser's plan need not: under
    # 10-1-2 the embedded scenario has no Role 2 within 2 h of Lviv, so no infantry goes there)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"scenario": "paris-2026", "option": "small", "horizon_days": 728,
                                     "unit_lines": [{"uln": "U1", "capability": "log_bn", "hub": "UA-LVIV",
                                                     "personnel": 500, "arrival_day": 10,
                                                     "tour_end_day": 190}]}))
    r = runner.invoke(app, ["sustain", "--option", "small", *ASSUME, "--plan", str(plan_file), "--inventory",
                            "--json", "-"], env={"COLUMNS": "200", "COALITION_DATABASE_URL": url})
    assert r.exit_code == 0, r.output
    j = json.loads(r.stdout)
    lviv = next(h for h in j["hubs"] if h["hub"] == "UA-LVIV")  # the sample's depot is at the Lviv hub
    v = next(s for s in lviv["stock"] if s["class"] == "V")
    assert v["on_hand_source"] == "inventory" and v["on_hand_kg"] > 0
    # an empty store is a named error, not a traceback
    r = runner.invoke(app, ["sustain", "--option", "small", *ASSUME, "--inventory"],
                      env={"COLUMNS": "200", "COALITION_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert r.exit_code == 2 and "cannot read the custody inventory" in " ".join(r.output.split())


def test_fill_measures_side_by_side(small_plan: Path) -> None:
    # the first run plans by itself as of --at; the table's run reads the module's plan
    r = run("sustain", "--option", "small", *ASSUME, "--at", "2026-09-01", "--fill", "--json", "-")
    assert r.exit_code == 0, r.output
    f = json.loads(r.stdout)["fill"]
    assert f["at"] == "2026-09-01" and f["at_day"] == 92
    assert set(f["definitions"]) == {"static_fill", "lines_filled", "static_fill_plan", "time_weighted_coverage"}
    ess = f["by_priority"]["essential"]
    assert 0 <= ess["lines_filled"] <= ess["lines"] and ess["time_weighted_coverage"] is not None
    r = run("sustain", "--option", "small", *ASSUME, "--at", "2026-09-01", "--plan", str(small_plan), "--fill")
    assert r.exit_code == 0, r.output
    assert "Fill, two measures" in r.output
