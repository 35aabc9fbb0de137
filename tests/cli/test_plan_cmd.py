"""`coalition plan` and `coalition scenario generate` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.errors import InputError
from coalition.planner.schemas import Plan

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_plan_embedded_smallest_option(tmp_path: Path) -> None:
    out = tmp_path / "out"
    js = tmp_path / "plan.json"
    r = run("plan", "--option", "small", "--time-limit", "5", "--no-live", "--out", str(out),
            "--json", str(js))
    assert r.exit_code == 0, r.output
    # activation, force generation with gaps, and the optimised plan are all shown
    assert "ILLUSTRATIVE C-day" in r.output
    assert "Which pledges activate" in r.output
    assert "force generated and gaps" in r.output
    assert "optimised plan" in r.output and "Unit lines" in r.output and "Rotations" in r.output
    data = json.loads(js.read_text())
    (plan,) = [Plan.model_validate(p) for p in data["plans"]]
    assert plan.option == "small" and plan.c_day_assumed and plan.unit_lines
    assert plan.solve.objective <= plan.baseline.objective + 1e-6
    # every gap names a reason; dates are calendar dates because a C-day is assumed
    assert all(g.reasons for g in plan.gaps)
    assert plan.unit_lines[0].arrival_date is not None
    names = {p.name for p in out.iterdir()}
    assert {"plan-small.json", "plan-small.xlsx", "unit_lines-small.csv", "gap-report-small.json"} <= names
    wb = load_workbook(out / "plan-small.xlsx")
    assert {"summary", "unit_lines", "rotations", "fill", "gaps", "assignments"} <= set(wb.sheetnames)
    assert wb["unit_lines"].max_row == len(plan.unit_lines) + 1
    report = json.loads((out / "gap-report-small.json").read_text())
    assert report["force_generation"]["option"] == "small" and report["plan_gaps"]
    # the independent checker accepts both the plan set and the single-plan file (exit 0) ...
    sc_dir = Path(__file__).resolve().parents[2] / "src" / "coalition" / "scenario" / "data" / "paris-2026"
    for f in (js, out / "plan-small.json"):
        r = run("plan", "check", str(sc_dir), str(f))
        assert r.exit_code == 0, r.output
        assert "no violation" in r.output
    # ... and names the rule of a broken one (exit 1): a unit line sent back 30 days early
    bad = json.loads(js.read_text())
    ul = bad["plans"][0]["unit_lines"][0]
    ul["departure_day"] -= 30
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    r = run("plan", "check", str(sc_dir), str(tmp_path / "bad.json"), "--json")
    assert r.exit_code == 1, r.output
    found = {v["rule"] for v in json.loads(r.output)[0]["violations"]}
    assert "transit" in found
    # unreadable plan file: an InputError naming the file (the CLI's exit 2)
    (tmp_path / "junk.json").write_text("{not json")
    r = run("plan", "check", str(sc_dir), str(tmp_path / "junk.json"))
    assert isinstance(r.exception, InputError)
    assert r.exception.problems[0].file.endswith("junk.json")


def test_plan_with_assumed_ceasefire_uses_it(tmp_path: Path) -> None:
    js = tmp_path / "p.json"
    r = run("plan", "-o", "small", "--assume", "ceasefire=2026-06-01", "--time-limit", "5",
            "--no-live", "--json", str(js), "--show-units", "0")
    assert r.exit_code == 0, r.output
    plan = Plan.model_validate(json.loads(js.read_text())["plans"][0])
    assert plan.c_day.isoformat() == "2026-06-01" and not plan.c_day_assumed


@pytest.mark.parametrize(
    "args, field",
    [
        (["--option", "smal"], "--option"),
        (["--assume", "ceasfire=2026-06-01"], "--assume"),
        (["--at", "2026-13-01"], "--at"),
    ],
)
def test_plan_bad_input_is_a_clean_error(args: list[str], field: str) -> None:
    r = run("plan", "--no-live", "--time-limit", "1", *args)
    assert isinstance(r.exception, InputError)
    assert any(p.field == field for p in r.exception.problems)


def test_scenario_generate_writes_a_loadable_scenario(tmp_path: Path) -> None:
    from coalition.scenario.service import load_scenario

    folder = tmp_path / "gen"
    r = run("scenario", "generate", "--size", "S", "--seed", "5", str(folder))
    assert r.exit_code == 0, r.output
    sc = load_scenario(folder)
    assert len({p.nation for p in sc.pledges}) == 12 and sum(p.units for p in sc.pledges) == 60
    r2 = run("plan", "-s", str(folder), "--time-limit", "5", "--no-live", "--show-units", "3")
    assert r2.exit_code == 0, r2.output
    assert "optimised plan" in r2.output
    r3 = run("scenario", "generate", "--size", "XL", str(tmp_path / "x"))
    assert isinstance(r3.exception, InputError)


def test_plan_name_and_pin_as_the_tokens_user(tmp_path: Path) -> None:
    """`plan name` / `plan pin` go through the same service, rules and audit as the API."""
    from api.harness import build_service
    from api.resources import audit_entries

    url = f"sqlite:///{tmp_path / 'c.db'}"
    s = build_service(url, tmp_path / "data")
    try:
        job = s.client("gbr-planner").post("/api/plans", json={"option": "small", "time_limit": 1}).json()["id"]
        env = {"COLUMNS": "200", "COALITION_DATABASE_URL": url}

        def cli(*args: str, user: str = "gbr-planner"):  # type: ignore[no-untyped-def]
            return runner.invoke(app, ["plan", *args], env={**env, "COALITION_TOKEN": s.tokens[user]})

        r = cli("name", str(job), "  Commons vote  ")
        assert r.exit_code == 0 and "'Commons vote'" in r.output, r.output
        r = cli("pin", str(job))
        assert r.exit_code == 0 and "pinned" in r.output, r.output
        seen = s.client("gbr-planner").get(f"/api/plans/{job}").json()
        assert (seen["name"], seen["pinned"], seen["pinned_by"]) == ("Commons vote", True, "gbr-planner")
        actions = [e["action"] for e in audit_entries(s, object_type="plan", object_id=str(job))]
        assert actions[:2] == ["pin", "rename"]  # newest first
        # bad input and refusals: exit 2 with a message naming the argument or the rule
        for args, user, words in (
            (("name", str(job), "   "), "gbr-planner", "TEXT"),
            (("name", str(job), "x" * 121), "gbr-planner", "121 characters"),
            (("name", str(job)), "gbr-planner", "--clear"),
            (("pin", str(job)), "fra-planner", "only that nation or HQ"),
            (("pin", str(job)), "gbr-depot", "plan.run"),
            (("pin", "999999"), "gbr-planner", "not found"),
        ):
            r = cli(*args, user=user)
            assert r.exit_code == 2 and words in r.output, (args, r.output)
        assert cli("pin", str(job), "--unpin").exit_code == 0
        assert cli("name", str(job), "--clear").exit_code == 0
        seen = s.client("gbr-planner").get(f"/api/plans/{job}").json()
        assert seen["name"] is None and seen["pinned"] is False
    finally:
        s.app.state.coalition.runs.shutdown()
        s.app.state.coalition.engine.dispose()
