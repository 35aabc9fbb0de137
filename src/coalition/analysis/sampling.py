"""Experiment design: joint scenarios drawn from the uncertainty section (pure).

A *world* is one joint outcome: which uncertain conditions hold (and from which date), and the
participation share of each nation. Worlds come from unit-cube points ``U in [0,1)^d``, one
dimension per random quantity, in a fixed order (:func:`dimensions`):

* one per driver / condition row, in driver order (:func:`topological_order`): the row holds
  iff ``u < p``, with ``p`` = ``probability`` or ``probability_if_not`` by its driver's value.
  One draw of a driver therefore moves every row it drives: correlated groups;
* one per condition with a date distribution: the date is the inverse CDF at ``u``;
* one per nation with a non-fixed participation distribution: the share is the inverse CDF.

Point sets (``scipy.stats.qmc``): ``mc`` plain Monte Carlo (numpy's PCG64), ``lhs`` Latin
hypercube, ``sobol`` scrambled Sobol. Same seed, same points, same worlds.

:func:`enumerate_worlds` lists every joint outcome with its probability when all random
quantities are discrete (``--exact``).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import numpy as np

from coalition.errors import InputError, Problem
from coalition.scenario.uncertainty import (
    ConditionUncertainty,
    DateDistribution,
    Driver,
    Participation,
    Uncertainty,
    topological_order,
)


class Method(StrEnum):
    MC = "mc"
    LHS = "lhs"
    SOBOL = "sobol"


#: Most joint outcomes ``--exact`` enumerates.
EXACT_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class World:
    """One joint scenario. ``holds`` has every driver and condition row; ``dates`` the date
    drawn for a row with a date distribution that holds; ``shares`` a nation's participation."""

    index: int
    weight: float  # 1/N for sampled worlds, the probability for enumerated ones
    holds: tuple[tuple[str, bool], ...]
    dates: tuple[tuple[str, date], ...]
    shares: tuple[tuple[str, float], ...]

    def holds_map(self) -> dict[str, bool]:
        return dict(self.holds)

    def dates_map(self) -> dict[str, date]:
        return dict(self.dates)

    def shares_map(self) -> dict[str, float]:
        return dict(self.shares)


def _rows(u: Uncertainty) -> dict[str, ConditionUncertainty | Driver]:
    return {d.name: d for d in u.drivers} | {c.condition: c for c in u.conditions}


def dimensions(u: Uncertainty) -> list[tuple[str, str]]:
    """The random quantities in point order: ``("holds", name)``, ``("date", condition)``,
    ``("share", nation)``."""
    dims = [("holds", n) for n in topological_order(u)]
    dims += [("date", c.condition) for c in u.conditions if c.date is not None]
    dims += [("share", p.nation) for p in u.participation if p.distribution != "fixed"]
    return dims


def unit_points(n: int, d: int, method: Method, seed: int) -> np.ndarray:
    """``n`` points in ``[0,1)^d``, deterministic in ``seed``."""
    from scipy.stats import qmc

    if d == 0:
        return np.zeros((n, 0))
    if method == Method.MC:
        return np.random.default_rng(seed).random((n, d))
    if method == Method.LHS:
        return qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(n)
    with warnings.catch_warnings():  # balance needs n = 2^m; any n is still a valid design
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d=d, scramble=True, seed=np.random.default_rng(seed)).random(n)


def _p(row: ConditionUncertainty | Driver, values: dict[str, bool]) -> float:
    if row.driver is None:
        return row.probability
    assert row.probability_if_not is not None
    return row.probability if values[row.driver] else row.probability_if_not


def date_at(d: DateDistribution, q: float) -> date:
    """Inverse CDF of a date distribution at ``q`` in [0, 1)."""
    if d.distribution == "empirical":
        w = np.asarray(d.weights if d.weights else [1.0] * len(d.dates), dtype=float)
        c = np.cumsum(w) / w.sum()
        return d.dates[min(int(np.searchsorted(c, q, side="right")), len(d.dates) - 1)]
    assert d.earliest is not None and d.latest is not None
    span = (d.latest - d.earliest).days
    if d.distribution == "uniform":
        x = q * span
    else:
        assert d.mode is not None
        m = (d.mode - d.earliest).days
        fc = m / span
        x = math.sqrt(q * span * m) if q < fc else span - math.sqrt((1 - q) * span * (span - m))
    return d.earliest + timedelta(days=min(int(math.floor(x)), span))


def share_at(p: Participation, q: float) -> float:
    """Inverse CDF of a participation distribution at ``q`` in [0, 1)."""
    if p.distribution == "fixed":
        assert p.share is not None
        return p.share
    if p.distribution == "discrete":
        w = np.asarray(p.weights if p.weights else [1.0] * len(p.values), dtype=float)
        c = np.cumsum(w) / w.sum()
        return p.values[min(int(np.searchsorted(c, q, side="right")), len(p.values) - 1)]
    assert p.low is not None and p.high is not None
    lo, hi = p.low, p.high
    if p.distribution == "uniform":
        return lo + q * (hi - lo)
    assert p.mode is not None
    if hi == lo:
        return lo
    fc = (p.mode - lo) / (hi - lo)
    if q < fc:
        return lo + math.sqrt(q * (hi - lo) * (p.mode - lo))
    return hi - math.sqrt((1 - q) * (hi - lo) * (hi - p.mode))


def world_from_point(u: Uncertainty, point: np.ndarray, index: int, weight: float) -> World:
    rows = _rows(u)
    dims = dimensions(u)
    values: dict[str, bool] = {}
    dates: dict[str, date] = {}
    shares: dict[str, float] = {
        p.nation: p.share for p in u.participation if p.distribution == "fixed" and p.share is not None
    }
    parts = {p.nation: p for p in u.participation}
    for (kind, name), q in zip(dims, point, strict=True):
        if kind == "holds":
            values[name] = bool(q < _p(rows[name], values))
        elif kind == "date":
            c = rows[name]
            assert isinstance(c, ConditionUncertainty) and c.date is not None
            if values.get(name, True):
                dates[name] = date_at(c.date, float(q))
        else:
            shares[name] = share_at(parts[name], float(q))
    return World(
        index, weight, tuple(sorted(values.items())), tuple(sorted(dates.items())), tuple(sorted(shares.items()))
    )


def sample_worlds(u: Uncertainty, n: int, method: Method = Method.LHS, seed: int = 0) -> list[World]:
    """``n`` worlds, each of weight 1/n."""
    pts = unit_points(n, len(dimensions(u)), method, seed)
    return [world_from_point(u, pts[i], i, 1.0 / n) for i in range(n)]


def _discrete_choices(u: Uncertainty) -> list[tuple[str, str, list[tuple[object, float | None]]]]:
    """Per random quantity its outcomes; probabilities of 'holds' depend on drivers (None)."""
    out: list[tuple[str, str, list[tuple[object, float | None]]]] = []
    problems: list[Problem] = []
    for kind, name in dimensions(u):
        if kind == "holds":
            out.append((kind, name, [(True, None), (False, None)]))
        elif kind == "date":
            c = u.condition(name)
            assert c is not None and c.date is not None
            if c.date.distribution != "empirical":
                problems.append(
                    Problem(
                        f"condition {name!r} has a {c.date.distribution} date: not enumerable",
                        field="--exact",
                        hint="give it an empirical date distribution, or sample",
                    )
                )
                continue
            w = list(c.date.weights or [1.0] * len(c.date.dates))
            out.append((kind, name, [(d, wi / sum(w)) for d, wi in zip(c.date.dates, w, strict=True)]))
        else:
            p = next(x for x in u.participation if x.nation == name)
            if p.distribution != "discrete":
                problems.append(
                    Problem(
                        f"nation {name}'s participation is {p.distribution}: not enumerable",
                        field="--exact",
                        hint="give it a discrete distribution, or sample",
                    )
                )
                continue
            w = list(p.weights or [1.0] * len(p.values))
            out.append((kind, name, [(v, wi / sum(w)) for v, wi in zip(p.values, w, strict=True)]))
    if problems:
        raise InputError(problems)
    return out


def count_outcomes(u: Uncertainty) -> int:
    return math.prod(len(c[2]) for c in _discrete_choices(u))


def enumerate_worlds(u: Uncertainty, limit: int = EXACT_LIMIT) -> Iterator[World]:
    """Every joint outcome with its exact probability (outcomes of probability 0 skipped)."""
    choices = _discrete_choices(u)
    total = math.prod(len(c[2]) for c in choices)
    if total > limit:
        raise InputError(
            [
                Problem(
                    f"{total} joint outcomes are too many to enumerate (limit {limit})",
                    field="--exact",
                    hint="sample instead: drop --exact and give --samples",
                )
            ]
        )
    rows = _rows(u)
    fixed = {p.nation: p.share for p in u.participation if p.distribution == "fixed" and p.share is not None}
    index = 0
    for combo in itertools.product(*[c[2] for c in choices]):
        prob = 1.0
        values: dict[str, bool] = {}
        dates: dict[str, date] = {}
        shares = dict(fixed)
        for (kind, name, _), (val, w) in zip(choices, combo, strict=True):
            if kind == "holds":
                p = _p(rows[name], values)
                values[name] = bool(val)
                prob *= p if val else 1.0 - p
            elif kind == "date":
                assert w is not None
                if values.get(name, True):
                    assert isinstance(val, date)  # a date choice's outcomes are dates
                    dates[name] = val
                    prob *= w
                elif val != choices[[c[1] for c in choices].index(name)][2][0][0]:
                    prob = 0.0  # the date of a condition that does not hold: count it once
            else:
                assert w is not None
                assert isinstance(val, int | float)  # a share's outcomes are numbers
                shares[name] = float(val)
                prob *= w
        if prob <= 0.0:
            continue
        yield World(
            index, prob, tuple(sorted(values.items())), tuple(sorted(dates.items())), tuple(sorted(shares.items()))
        )
        index += 1
