"""The README's first two commands: `make demo` runs the main job, `make test` the suite.

The demo's recipe is read from the Makefile and run as it stands (in a subprocess, from a
temporary folder), so the README, the Makefile and the main job cannot drift apart silently.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _recipe(target: str) -> list[str]:
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if re.match(rf"^{target}\s*:", ln))
    body = []
    for ln in lines[start + 1 :]:
        if not ln.startswith("\t"):
            break
        body.append(ln.strip().lstrip("@"))
    return body


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split("```", 2)[1]
    commands = [ln.split("#")[0].strip() for ln in block.splitlines()[1:] if ln.strip()]
    assert commands == ["make demo", "make test"]


def test_make_demo_main_job_runs_on_the_embedded_scenario(tmp_path: Path) -> None:
    recipe = [ln for ln in _recipe("demo") if "coalition" in ln]
    assert len(recipe) == 1, recipe
    bin_dir = Path(sys.executable).parent
    argv = shlex.split(recipe[0].replace("$(BIN)", str(bin_dir)))
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    # the activation picture, the force generated per option with named gaps, and the plan
    assert "Which pledges activate" in out
    assert "ILLUSTRATIVE" in out
    from coalition.planner.check import check_plan
    from coalition.planner.schemas import Plan
    from coalition.scenario.service import load_scenario

    scenario = load_scenario(None)
    for option in ("small", "medium", "large"):
        assert f"Force option '{option}'" in out
        plan = json.loads((tmp_path / "out" / f"plan-{option}.json").read_text())
        assert plan["option"] == option
        # every demo plan passes the independent checker (`coalition plan check`)
        report = check_plan(scenario, Plan.model_validate(plan))
        assert report.ok, report.violations[:5]
    assert re.search(r"unknown:parliament\.GBR|inactive:", out), "gap reasons should name conditions"
