"""Monte Carlo statistics from per-sample records (pure; every figure with its error).

Records are one row per world (see :func:`record`); every statistic here is recomputed from
them, so a stored run can be re-analysed. Estimators (docs/analysis.md):

* fill probability of line l at D+d: the weighted share of worlds in which it is filled,
  ``p = sum_i w_i f_i``; standard error ``sqrt(p (1 - p) / N)`` for N sampled worlds (the iid
  formula; for Latin hypercube and scrambled Sobol designs it is an upper estimate for the
  additive part of the response), ``0`` for an exact enumeration;
* expected shortfall: weighted mean, se = sample standard deviation / sqrt(N);
* P90 shortfall: the 0.9 empirical quantile with a distribution-free 95 % confidence interval
  from order statistics (binomial ranks);
* coverage distribution: quantiles and a 10-point histogram of (essential) coverage %;
* convergence: the running estimates with their errors at N = 10, 20, 50, 100, ...
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from coalition.analysis.evaluate import DAYS, Context, Outcome
from coalition.analysis.sampling import World

SCHEMA_VERSION = 1


def record(world: World, outcome: Outcome, ctx: Context) -> dict[str, Any]:
    """One flat row: the world's inputs, its outcome, the fill of every line at every day."""
    row: dict[str, Any] = {
        "sample": world.index,
        "weight": world.weight,
        "status": outcome.status,
        "coverage_pct": outcome.coverage_pct,
        "essential_coverage_pct": outcome.essential_coverage_pct,
        "shortfall": outcome.shortfall_unit_days,
        "solve_seconds": outcome.solve_seconds,
        "overhead_seconds": outcome.overhead_seconds,
        "start_seconds": float(outcome.extra.get("start_seconds", 0.0)),
        "objective": float(outcome.extra.get("objective", float("nan"))),
        "gap": float(outcome.extra.get("gap", float("nan"))),
    }
    for name, v in world.holds:
        row[f"c:{name}"] = bool(v)
    for name, d in world.dates:
        row[f"date:{name}"] = d.isoformat()
    for nation, s in world.shares:
        row[f"share:{nation}"] = float(s)
    for li, lid in enumerate(ctx.lines):
        for j, day in enumerate(DAYS):
            row[f"fill:{lid}:{day}"] = int(outcome.fill[li, j])
        row[f"short:{lid}"] = float(outcome.line_shortfall[li])
    return row


def wilson(p: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's 95 % score interval for a proportion (honest where p is 0 or 1 and se is 0)."""
    if n == 0:
        return 0.0, 1.0
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def _mean_se(x: np.ndarray, w: np.ndarray, exact: bool) -> tuple[float, float]:
    if x.size == 0:
        return float("nan"), float("nan")
    wn = w / w.sum()
    m = float((wn * x).sum())
    if exact or x.size < 2:
        return m, 0.0 if exact else float("nan")
    return m, float(np.std(x, ddof=1) / math.sqrt(x.size))


QUANTILE_DIGITS = 3  # decimals of a quantile in the summary (unit-days: sums of floats)


def _min_samples(q: float, level: float, upper: bool) -> int:
    """Fewest samples for which the order-statistic interval of the q-quantile has its lower
    (``upper=False``) or upper bound: the bound's rank must fall inside the sample."""
    from scipy.stats import binom

    a = (1 - level) / 2
    n = 1
    while n < 10**6:
        if upper and int(binom.ppf(1 - a, n, q)) < n:
            return n
        if not upper and int(binom.ppf(a, n, q)) >= 1:
            return n
        n += 1
    return n


def quantile_ci(x: np.ndarray, q: float, level: float = 0.95) -> dict[str, Any]:
    """The q-quantile of x with a distribution-free CI from order statistics.

    Values are rounded to :data:`QUANTILE_DIGITS` decimals. A bound the sample is too small to
    give is ``None`` and ``note`` says why (and how many samples it would take)."""
    from scipy.stats import binom

    n = x.size
    if n == 0:
        return {"value": None, "lo": None, "hi": None, "note": "no samples"}
    s = np.sort(x)
    a = (1 - level) / 2
    lo_rank = int(binom.ppf(a, n, q))  # ranks are 0-based below
    hi_rank = int(binom.ppf(1 - a, n, q))
    value = round(float(np.quantile(s, q, method="inverted_cdf")), QUANTILE_DIGITS)
    lo = round(float(s[max(lo_rank - 1, 0)]), QUANTILE_DIGITS) if lo_rank >= 1 else None
    hi = round(float(s[hi_rank]), QUANTILE_DIGITS) if hi_rank < n else None
    out: dict[str, Any] = {"value": value, "lo": lo, "hi": hi}
    missing = [
        (side, _min_samples(q, level, side == "upper")) for side, b in (("lower", lo), ("upper", hi)) if b is None
    ]
    if missing:
        out["note"] = "; ".join(
            f"no distribution-free {level:.0%} {side} bound for the {q:g} quantile from {n} "
            f"sample(s): it needs at least {need}"
            for side, need in missing
        )
    return out


def exact_quantile(x: np.ndarray, w: np.ndarray, q: float) -> dict[str, Any]:
    """The q-quantile of an enumerated (weighted) distribution: exact, so its interval is the
    value itself."""
    if x.size == 0:
        return {"value": None, "lo": None, "hi": None, "note": "no outcomes"}
    v = round(_weighted_quantile(x, w, q), QUANTILE_DIGITS)
    return {"value": v, "lo": v, "hi": v, "note": "exact enumeration: no sampling error"}


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    o = np.argsort(x, kind="stable")
    c = np.cumsum(w[o]) / w.sum()
    return float(x[o][min(int(np.searchsorted(c, q - 1e-12)), x.size - 1)])


def line_probabilities(rows: Sequence[dict[str, Any]], lines: Sequence[str], exact: bool) -> list[dict[str, Any]]:
    """Per line ``{"line", "by_day": {"30": {"p", "se"}, ...}}``; p is null where not needed."""
    w = np.array([r["weight"] for r in rows], dtype=float)
    out = []
    for lid in lines:
        by_day: dict[str, dict[str, Any]] = {}
        for d in DAYS:
            f = np.array([r[f"fill:{lid}:{d}"] for r in rows], dtype=float)
            if f.size == 0 or (f < 0).all():
                by_day[str(d)] = {"p": None, "se": None, "needed": False}
                continue
            p = float((w * (f > 0)).sum() / w.sum())
            se = 0.0 if exact else math.sqrt(max(p * (1 - p), 0.0) / f.size)
            ci = (p, p) if exact else wilson(p, f.size)
            by_day[str(d)] = {
                "p": round(p, 6),
                "se": round(se, 6),
                "needed": True,
                "ci95": [round(ci[0], 6), round(ci[1], 6)],
            }
        sh = np.array([r[f"short:{lid}"] for r in rows], dtype=float)
        m, se = _mean_se(sh, w, exact)
        out.append({"line": lid, "by_day": by_day, "expected_shortfall": {"mean": round(m, 3), "se": round(se, 3)}})
    return out


def convergence(x: np.ndarray, w: np.ndarray, exact: bool) -> list[dict[str, Any]]:
    n = x.size
    if exact or n == 0:
        m, _ = _mean_se(x, w, True)
        return [{"n": n, "mean": round(m, 4), "se": 0.0}]
    points: list[dict[str, Any]] = []
    ladder = [b * 10**e for e in range(1, 9) for b in (1, 2, 5)]
    steps = sorted({s for s in ladder if s < n} | {n})
    for s in steps:
        m, se = _mean_se(x[:s], np.ones(s), False)
        points.append({"n": int(s), "mean": round(m, 4), "se": None if math.isnan(se) else round(se, 4)})
    return points


def summarise(rows: Sequence[dict[str, Any]], ctx: Context, *, exact: bool, meta: dict[str, Any]) -> dict[str, Any]:
    """The summary JSON of a Monte Carlo run (aggregate only: releasable to every nation)."""
    rows = sorted(rows, key=lambda r: r["sample"])
    ok = [r for r in rows if r["status"] in ("optimal", "quick", "time-limit")]
    failed = len(rows) - len(ok)
    w = np.array([r["weight"] for r in ok], dtype=float)
    short = np.array([r["shortfall"] for r in ok], dtype=float)
    cov = np.array([r["coverage_pct"] for r in ok], dtype=float)
    cov_e = np.array([r["essential_coverage_pct"] for r in ok], dtype=float)
    m_s, se_s = _mean_se(short, w, exact)
    p90 = exact_quantile(short, w, 0.9) if exact else quantile_ci(short, 0.9)

    def dist(x: np.ndarray) -> dict[str, Any]:
        if x.size == 0:
            return {}
        m, se = _mean_se(x, w, exact)
        hist, edges = np.histogram(x, bins=10, range=(0, 100), weights=w / w.sum())
        return {
            "mean": round(m, 3),
            "se": round(se, 3),
            "quantiles": {
                str(q): round(_weighted_quantile(x, w, q), 3) for q in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
            },
            "histogram": [
                {"from": float(edges[i]), "to": float(edges[i + 1]), "share": round(float(hist[i]), 6)}
                for i in range(10)
            ],
            "p_below_80": round(float((w * (x < 80)).sum() / w.sum()), 6),
        }

    solve = np.array([r["solve_seconds"] for r in rows], dtype=float)
    over = np.array([r["overhead_seconds"] for r in rows], dtype=float)
    start = np.array([r.get("start_seconds", 0.0) for r in rows], dtype=float)
    cpu = np.array([r.get("cpu_seconds", float("nan")) for r in rows], dtype=float)
    gaps = np.array([r.get("gap", float("nan")) for r in rows], dtype=float)
    limited = sum(1 for r in rows if r["status"] == "time-limit")
    return {
        "version": SCHEMA_VERSION,
        **meta,
        "samples": len(rows),
        "failed_samples": failed,
        "time_limited_samples": limited,
        "exact": exact,
        "lines": line_probabilities(ok, ctx.lines, exact),
        "shortfall": {
            "unit": meta.get("shortfall_unit", "unit-days"),
            "expected": {"mean": round(m_s, 3), "se": round(se_s, 3)},
            "p90": p90,
        },
        "coverage": {"all": dist(cov), "essential": dist(cov_e)},
        "convergence": {
            "essential_coverage_pct": convergence(cov_e, w, exact),
            "shortfall": convergence(short, w, exact),
        },
        "timing": {
            "solve_seconds_mean": round(float(solve.mean()), 4) if rows else None,
            "overhead_seconds_mean": round(float(over.mean()), 4) if rows else None,
            "start_seconds_mean": round(float(start.mean()), 4) if rows else None,
            "cpu_seconds_mean": (round(float(np.nanmean(cpu)), 4) if np.isfinite(cpu).any() else None),
        },
        "solver_gap_max": None if not np.isfinite(gaps).any() else round(float(np.nanmax(gaps)), 6),
    }


def evaluate_serial(ctx: Context, evaluator: Any, worlds: Iterable[World]) -> list[dict[str, Any]]:
    """The records of ``worlds`` evaluated one after the other in this process."""
    return [record(wd, evaluator.evaluate(wd), ctx) for wd in worlds]
