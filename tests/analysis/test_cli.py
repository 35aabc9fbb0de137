"""`coalition analyse ...` through Typer's CliRunner: JSON shape, errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.scenario.service import save_scenario_file
from tests.analysis.factory import either_fills

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _tiny(tmp_path: Path) -> str:
    path = tmp_path / "tiny.yaml"
    save_scenario_file(either_fills(0.5, 0.8), path)
    return str(path)


def test_montecarlo_exact_json_to_stdout(tmp_path):
    res = invoke("analyse", "montecarlo", "-s", _tiny(tmp_path), "-o", "opt", "--exact",
                 "--workers", "0", "--json", "-")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    [line] = out["lines"]
    assert line["line"] == "L1"
    assert {k: (v["p"], v["se"]) for k, v in line["by_day"].items()} == {
        "30": (0.9, 0.0), "60": (0.9, 0.0), "90": (0.9, 0.0)}
    assert out["exact"] is True and out["samples"] == 4


def test_montecarlo_prints_table_and_writes_run_folder(tmp_path):
    res = invoke("analyse", "montecarlo", "-s", _tiny(tmp_path), "-o", "opt", "--samples", "30",
                 "--quick", "--workers", "0", "--out", str(tmp_path / "run"), "--seed", "2")
    assert res.exit_code == 0, res.output
    assert "L1" in res.output and "±" in res.output and "convergence" in res.output
    assert (tmp_path / "run" / "summary.json").is_file()
    assert list((tmp_path / "run" / "records").glob("part-*.parquet"))


def test_bad_input_exit_2(tmp_path):
    tiny = _tiny(tmp_path)
    for args, needle in [
        (("-o", "nope"), "unknown force option"),
        (("-o", "opt", "--method", "grid"), "unknown method"),
        (("-o", "opt", "--samples", "0"), "at least one sample"),
        (("-o", "opt", "--assume", "c9=true"), "c9"),
    ]:
        res = invoke("analyse", "montecarlo", "-s", tiny, "--workers", "0", *args)
        assert res.exit_code == 2, (args, res.output)
        assert needle in res.output, (args, res.output)
        assert "Traceback" not in res.output


def test_withdrawal_json_rows(tmp_path):
    from coalition.scenario.service import save_scenario_file
    from tests.analysis.factory import three_nations

    path = tmp_path / "three.yaml"
    save_scenario_file(three_nations(), path)
    res = invoke("analyse", "withdrawal", "-s", str(path), "-o", "opt", "--k", "2", "--shapley", "4",
                 "--workers", "0", "--json", "-")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for row in out["n_1"] + out["n_2"]:
        assert {"nations", "delta_essential_coverage_pct", "lines_broken"} <= set(row)
    assert len(out["n_2"]) == 3 and out["worst_k"]["status"] == "optimal"
    bad = invoke("analyse", "withdrawal", "-s", str(path), "-o", "opt", "--k", "0", "--workers", "0")
    assert bad.exit_code == 2 and "k must be at least 1" in bad.output


def test_hedge_exact_prints_vss_and_evpi(tmp_path):
    res = invoke("analyse", "hedge", "-s", _tiny(tmp_path), "-o", "opt", "--exact", "--mip-gap", "0")
    assert res.exit_code == 0, res.output
    assert "VSS" in res.output and "EVPI" in res.output
    js = invoke("analyse", "hedge", "-s", _tiny(tmp_path), "-o", "opt", "--samples", "8",
                "--out-of-sample", "10", "--json", "-")
    out = json.loads(js.stdout)
    assert out["vss"] >= -1e-6 * abs(out["eev"]) and "out_of_sample" in out
    bad = invoke("analyse", "hedge", "-s", _tiny(tmp_path), "-o", "opt", "--delay", "-1")
    assert bad.exit_code == 2 and "delay" in bad.output


def test_discover_from_a_run_folder(tmp_path):
    tiny = _tiny(tmp_path)
    assert invoke("analyse", "montecarlo", "-s", tiny, "-o", "opt", "--samples", "60", "--quick",
                  "--workers", "0", "--out", str(tmp_path / "run")).exit_code == 0
    res = invoke("analyse", "discover", "--run", str(tmp_path / "run"), "--json", "-")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    [box] = out["boxes"]  # below 80% exactly when neither c1 nor c2 holds
    assert box["density"] == 1.0 and box["coverage"] == 1.0
    assert box["statement"].startswith("when c1 is false and c2 is false")
    bad = invoke("analyse", "discover", "--run", str(tmp_path))
    assert bad.exit_code == 2 and "not a run folder" in bad.output


def test_quantile_text_never_prints_none():
    from coalition.cli.analyse_cmds import quantile_text

    full = quantile_text({"value": 32071.00000000007, "lo": 31000.0, "hi": 33000.25})
    assert full == "32,071.0 (95% CI 31,000.0 .. 33,000.2)"
    half = quantile_text({"value": 7.0, "lo": 3.0, "hi": None,
                          "note": "no distribution-free 95% upper bound ... at least 36"})
    assert "None" not in half and "at least 3.0" in half and "at least 36" in half
    assert "exact" in quantile_text({"value": 1.0, "lo": 1.0, "hi": 1.0})
    assert "None" not in quantile_text({"value": None, "lo": None, "hi": None, "note": "no samples"})


def test_montecarlo_small_run_prints_why_p90_has_no_upper_bound(tmp_path):
    res = invoke("analyse", "montecarlo", "-s", _tiny(tmp_path), "-o", "opt", "--samples", "8",
                 "--workers", "0", "--quick")
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.stdout.splitlines() if "P90" in ln)
    assert "None" not in line and "upper bound" in line and "at least 36" in line


def test_cli_gap_default_is_the_analysis_default():
    import inspect

    from coalition.analysis.evaluate import ANALYSIS_MIP_GAP
    from coalition.cli import analyse_cmds

    for fn in (analyse_cmds.montecarlo, analyse_cmds.withdrawal):
        assert inspect.signature(fn).parameters["mip_gap"].default == ANALYSIS_MIP_GAP


def test_withdrawal_prints_the_rows_not_proven(tmp_path):
    """With a stall of ~0 CPU s some searches stop unproven: the printed summary counts them
    by status, as the JSON rows say; with --stall 0 no row is 'stalled'."""
    from coalition.scenario.service import save_scenario_file
    from tests.analysis.factory import random_coalition

    path = tmp_path / "rand.yaml"
    save_scenario_file(random_coalition(2, nations=5, lines=3), path)
    js = tmp_path / "w.json"
    res = invoke("analyse", "withdrawal", "-s", str(path), "-o", "opt", "--k", "2", "--shapley", "0",
                 "--workers", "0", "--mip-gap", "0.001", "--stall", "1e-9", "--json", str(js))
    assert res.exit_code == 0, res.output
    rows = json.loads(js.read_text())["n_1"] + json.loads(js.read_text())["n_2"]
    stalled = sum(r["status"] == "stalled" for r in rows)
    assert stalled > 0
    text = " ".join(res.output.split())  # Rich wraps long lines
    assert "rows not proven at the MIP gap" in text and f"{stalled} stalled" in text
    off = invoke("analyse", "withdrawal", "-s", str(path), "-o", "opt", "--k", "2", "--shapley", "0",
                 "--workers", "0", "--mip-gap", "0.001", "--stall", "0", "--json", "-")
    assert off.exit_code == 0, off.output
    out = json.loads(off.stdout)
    assert not [r for r in out["n_1"] + out["n_2"] if r["status"] == "stalled"]
