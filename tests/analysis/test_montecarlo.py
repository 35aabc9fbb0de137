"""Hand-computable fill probabilities: exact enumeration, Monte Carlo within 3 SE, seeds."""

from __future__ import annotations

import pytest

from coalition.analysis.evaluate import Context, make_evaluator
from coalition.analysis.montecarlo import evaluate_serial, quantile_ci, summarise
from coalition.analysis.sampling import Method, enumerate_worlds, sample_worlds
from tests.analysis.factory import either_fills, with_participation


def _run(sc, *, quick: bool, exact: bool, n: int = 0, method=Method.MC, seed: int = 0):
    ctx = Context(sc, "opt")
    ev = make_evaluator(ctx, quick)
    worlds = list(enumerate_worlds(ctx.uncertainty)) if exact else sample_worlds(
        ctx.uncertainty, n, method, seed)
    return summarise(evaluate_serial(ctx, ev, worlds), ctx, exact=exact, meta={})


@pytest.mark.parametrize("quick", [False, True], ids=["planner", "quick"])
def test_either_of_two_pledges_exact_is_0_9(quick):
    s = _run(either_fills(0.5, 0.8), quick=quick, exact=True)
    [line] = s["lines"]
    for d in ("30", "60", "90"):
        assert line["by_day"][d] == {"p": 0.9, "se": 0.0, "needed": True, "ci95": [0.9, 0.9]}


@pytest.mark.parametrize("quick", [False, True], ids=["planner", "quick"])
@pytest.mark.parametrize("method", list(Method))
def test_monte_carlo_within_3_se(quick, method):
    s = _run(either_fills(0.5, 0.8), quick=quick, exact=False, n=300 if quick else 120,
             method=method, seed=7)
    got = s["lines"][0]["by_day"]["60"]
    assert got["se"] > 0
    assert abs(got["p"] - 0.9) <= 3 * got["se"]


@pytest.mark.parametrize("p1,p2", [(0.0, 0.0), (1.0, 0.3), (0.25, 0.6)])
def test_exact_matches_formula_for_other_probabilities(p1, p2):
    s = _run(either_fills(p1, p2), quick=True, exact=True)
    assert s["lines"][0]["by_day"]["30"]["p"] == pytest.approx(1 - (1 - p1) * (1 - p2), abs=1e-9)


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = _run(either_fills(), quick=False, exact=False, n=60, seed=3)
    b = _run(either_fills(), quick=False, exact=False, n=60, seed=3)
    c = _run(either_fills(), quick=False, exact=False, n=60, seed=4)
    strip = lambda s: {k: v for k, v in s.items() if k != "timing"}  # noqa: E731
    assert strip(a) == strip(b)
    assert a["lines"] != c["lines"] or a["shortfall"] != c["shortfall"]


def test_participation_share_rounds_units():
    # AAA deploys 0 of its 1 unit with probability 0.5 (share 0.4 rounds to 0): the line is
    # then filled only through c2 -> P = 0.5*(0.5 + 0.5*0.8) + 0.5*0.8 = 0.85
    sc = with_participation(either_fills(0.5, 0.8), "AAA", (0.4, 1.0), (1.0, 1.0))
    s = _run(sc, quick=False, exact=True)
    assert s["lines"][0]["by_day"]["30"]["p"] == pytest.approx(0.85, abs=1e-9)


def test_shortfall_and_coverage_statistics():
    s = _run(either_fills(0.5, 0.8), quick=False, exact=True)
    # the line needs 1 unit on days 5..119 (115 unit-days): missing in 10% of worlds
    assert s["shortfall"]["expected"]["mean"] == pytest.approx(11.5, abs=1e-6)
    assert s["shortfall"]["p90"]["value"] == pytest.approx(0.0, abs=1e-6)
    ess = s["coverage"]["essential"]
    assert ess["mean"] == pytest.approx(90.0, abs=1e-6)
    assert ess["p_below_80"] == pytest.approx(0.1, abs=1e-9)
    assert sum(h["share"] for h in ess["histogram"]) == pytest.approx(1.0)


def test_quantile_ci_brackets_the_quantile():
    import numpy as np

    x = np.arange(1, 1001, dtype=float)
    q = quantile_ci(x, 0.9)
    assert q["lo"] <= q["value"] <= q["hi"] and q["lo"] < 900 < q["hi"]


def test_convergence_ends_at_n():
    s = _run(either_fills(), quick=True, exact=False, n=120)
    pts = s["convergence"]["essential_coverage_pct"]
    assert [p["n"] for p in pts] == [10, 20, 50, 100, 120]


def test_wilson_interval_is_not_degenerate_at_1():
    from coalition.analysis.montecarlo import wilson

    lo, hi = wilson(1.0, 40)
    assert 0.85 < lo < 0.95 and hi == 1.0


def test_quantile_is_rounded_not_a_float_sum_artefact():
    import numpy as np

    # sums of unit-day floats land next to the integer (the 32071.00000000007 of issue 14)
    x = np.full(50, 32071.0) + np.linspace(0, 1, 50) * 1e-10
    q = quantile_ci(x, 0.9)
    assert q["value"] == 32071.0 and q["lo"] == 32071.0 and q["hi"] == 32071.0
    assert "note" not in q


def test_quantile_undefined_bound_says_why_and_the_count_is_right():
    import numpy as np

    # the distribution-free upper bound of the 0.9 quantile at 95 % needs 0.9^n <= 0.025, n >= 36
    few = quantile_ci(np.arange(35, dtype=float), 0.9)
    enough = quantile_ci(np.arange(36, dtype=float), 0.9)
    assert few["hi"] is None and few["lo"] is not None
    assert "upper bound" in few["note"] and "at least 36" in few["note"] and "35 sample" in few["note"]
    assert enough["hi"] is not None and "note" not in enough
    one = quantile_ci(np.array([5.0]), 0.9)
    assert one["lo"] is None and one["hi"] is None
    assert "lower bound" in one["note"] and "upper bound" in one["note"]


def test_exact_p90_is_its_own_interval():
    s = _run(either_fills(0.5, 0.8), quick=True, exact=True)
    p90 = s["shortfall"]["p90"]
    assert p90["lo"] == p90["hi"] == p90["value"] and "exact" in p90["note"]
