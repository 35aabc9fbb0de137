"""PRIM scenario discovery finds a planted rule and states it in words."""

from __future__ import annotations

import numpy as np

from coalition.analysis.discover import discover, factors_from_records, prim


def _rows(n=400, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a, b, c = (bool(x) for x in rng.random(3) < [0.5, 0.6, 0.5])
        share = float(rng.random())
        bad = (not a and not b) or share < 0.1
        rows.append({"sample": i, "c:us_backstop": a, "c:parliament.DEU": b, "c:noise": c,
                     "share:ITA": share, "essential_coverage_pct": 60.0 if bad else 95.0})
    return rows


def test_planted_rule_is_found_and_stated():
    res = discover(_rows(), threshold=80)
    first = res["boxes"][0]
    assert first["density"] == 1.0
    assert first["statement"].startswith("when parliament.DEU is false and us_backstop is false: 100% of samples")
    assert {lim["factor"] for lim in first["limits"]} == {"us_backstop", "parliament.DEU"}
    # the second box, after covering, is the low-participation rule
    second = res["boxes"][1]
    assert [lim["factor"] for lim in second["limits"]] == ["ITA"]
    assert second["limits"][0]["hi"] is not None and second["limits"][0]["hi"] < 0.15
    assert "ITA deploys at most" in second["statement"]


def test_no_cases_no_boxes():
    rows = [dict(r, essential_coverage_pct=99.0) for r in _rows(50)]
    res = discover(rows, threshold=80)
    assert res["boxes"] == [] and "no sample" in res["statement"]


def test_trajectory_density_rises_and_support_falls():
    rows = _rows(300, seed=3)
    y = np.array([r["essential_coverage_pct"] < 80 for r in rows], dtype=float)
    _, traj = prim(y, factors_from_records(rows))
    d = [t["density"] for t in traj]
    s = [t["support"] for t in traj]
    assert d == sorted(d) and s == sorted(s, reverse=True) and s[-1] >= 15
