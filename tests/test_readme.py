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


def _cli_leaves() -> dict[str, set[str]]:
    from typer.main import get_command

    from coalition.cli.main import app

    out: dict[str, set[str]] = {}

    def walk(cmd, path: list[str]) -> None:  # type: ignore[no-untyped-def]
        if path:
            out[" ".join(path)] = {o for p in cmd.params for o in getattr(p, "opts", [])}
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return out


def _named(sentence: str) -> set[str]:
    """Commands a README sentence names: `a`, `b|c` forms and 'every `x` command'."""
    leaves = _cli_leaves()
    names: set[str] = set()
    for group, subs in re.findall(r"`([a-z]+) ([a-z|]+)`", sentence):
        names |= {f"{group} {s}" for s in subs.split("|")}
    every = set(re.findall(r"every `([a-z]+)` command", sentence))
    for word in every:
        names |= {n for n in leaves if n.startswith(word + " ")}
    names |= {w for w in re.findall(r"`([a-z]+)`", sentence) if w in leaves and w not in every}
    return names


def test_readme_says_exactly_which_commands_take_scenario_and_json() -> None:
    text = " ".join((ROOT / "README.md").read_text().split())
    scen = text.split("the same one the API serves):", 1)[1].split(". These take", 1)[0]
    json_ = text.split("for machines:", 1)[1].split(". The JSON shapes", 1)[0]
    leaves = _cli_leaves()
    assert _named(scen) == {n for n, opts in leaves.items() if "--scenario" in opts}
    assert _named(json_) == {n for n, opts in leaves.items() if "--json" in opts}


def test_readme_lists_every_plan_output_table() -> None:
    from coalition.planner.export import tables_of

    import inspect

    text = (ROOT / "README.md").read_text()
    names = re.findall(r'"([a-z_]+)": ', inspect.getsource(tables_of))
    assert len(names) >= 6
    for name in names:
        assert f"`{name}-" in text, f"README omits {name}-<option>.csv"
