"""Scenario discovery: under which conditions does essential coverage fall below a threshold?

Our own implementation of PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999),
as popularised for scenario discovery by the EMA Workbench. Written here rather than taken
from ``ema-workbench`` because that package pulls in a large modelling stack for one
function, and the version here works directly on our per-sample records (pure, ~150 lines).

* **Cases of interest**: the samples with essential coverage below the threshold (y = 1).
* **Factors**: every drawn quantity of the records: a condition (true/false), a condition's
  date (days after the earliest date drawn), a nation's participation share.
* **Peeling**: start from the box holding every sample. At each step, for every factor try the
  candidate restrictions that remove about ``alpha`` of the samples still in the box (numeric:
  drop the lowest or highest alpha-quantile; yes/no: keep one value) and take the one with the
  largest gain in the share of cases of interest (*density*) per sample removed (EMA
  Workbench's "lenient1" objective: a small helpful peel beats a large slightly better one).
  Stop when the box would hold fewer
  than ``min_support`` samples. The sequence of boxes is the *peeling trajectory*.
* **Choice**: the box of highest density among those that still hold at least ``min_coverage``
  of all cases of interest (*coverage*); restrictions whose removal changes the density by
  less than half a point are dropped (the box is stated with as few conditions as possible).
* **Several boxes**: the cases inside a chosen box are set aside and PRIM runs again (covering),
  up to ``max_boxes``.

Each box comes with its density (and a Wilson 95 % interval), its coverage, its support and a
sentence, e.g. "when us_backstop is false and parliament.DEU is false: 82% of samples below
80% (N of M samples; 64% of all samples below 80%)".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict

import numpy as np

from coalition.analysis.montecarlo import wilson


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    kind: str  # "bool" | "date" | "share"
    values: np.ndarray  # float; NaN where not drawn (a date of a condition that does not hold)
    origin: date | None = None  # for dates: the day 0 of values


@dataclass(frozen=True, slots=True)
class Limit:
    factor: str
    kind: str
    lo: float | None = None
    hi: float | None = None
    value: bool | None = None

    def mask(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "bool":
            eq: np.ndarray = x == (1.0 if self.value else 0.0)
            return eq
        ok: np.ndarray = ~np.isnan(x)
        if self.lo is not None:
            ok &= x >= self.lo
        if self.hi is not None:
            ok &= x <= self.hi
        return ok


def factors_from_records(rows: Sequence[dict[str, Any]]) -> list[Factor]:
    keys = sorted({k for r in rows for k in r if k.startswith(("c:", "date:", "share:"))})
    out = []
    for k in keys:
        kind, name = k.split(":", 1)
        if kind == "c":
            v = np.array([1.0 if r.get(k) else 0.0 if r.get(k) is not None else np.nan for r in rows])
            if np.nanmin(v) != np.nanmax(v):
                out.append(Factor(name, "bool", v))
        elif kind == "date":
            ds = [date.fromisoformat(r[k]) if r.get(k) else None for r in rows]
            known = [d for d in ds if d is not None]
            if not known:
                continue
            origin = min(known)
            v = np.array([(d - origin).days if d is not None else np.nan for d in ds], dtype=float)
            out.append(Factor(name, "date", v, origin))
        else:
            v = np.array([float(r[k]) if r.get(k) is not None else np.nan for r in rows])
            if np.nanmin(v) != np.nanmax(v):
                out.append(Factor(name, "share", v))
    return out


def _candidates(f: Factor, inside: np.ndarray, alpha: float) -> list[Limit]:
    x = f.values[inside]
    if f.kind == "bool":
        return [Limit(f.name, "bool", value=True), Limit(f.name, "bool", value=False)]
    x = x[~np.isnan(x)]
    if x.size < 2:
        return []
    lo, hi = np.quantile(x, alpha), np.quantile(x, 1 - alpha)
    return [Limit(f.name, f.kind, lo=float(lo)), Limit(f.name, f.kind, hi=float(hi))]


def _box_mask(limits: dict[str, Limit], fac: dict[str, Factor], n: int) -> np.ndarray:
    m = np.ones(n, dtype=bool)
    for lim in limits.values():
        m &= lim.mask(fac[lim.factor].values)
    return m


def _merge(old: Limit | None, new: Limit) -> Limit:
    if old is None or new.kind == "bool":
        return new
    lo = new.lo if new.lo is not None else old.lo
    hi = new.hi if new.hi is not None else old.hi
    if old.lo is not None and new.lo is not None:
        lo = max(old.lo, new.lo)
    if old.hi is not None and new.hi is not None:
        hi = min(old.hi, new.hi)
    return Limit(new.factor, new.kind, lo=lo, hi=hi)


class _Box(TypedDict):
    """One box of the peeling trajectory."""

    coverage: float
    density: float
    support: int
    limits: dict[str, Limit]


def prim(
    y: np.ndarray,
    factors: Sequence[Factor],
    *,
    alpha: float = 0.05,
    min_support: float = 0.05,
    min_coverage: float = 0.3,
    pool: np.ndarray | None = None,
) -> tuple[dict[str, Limit], list[dict[str, float]]]:
    """One PRIM box over the samples in ``pool`` (default: all). Returns its limits and the
    peeling trajectory (coverage, density, support of each box)."""
    n = y.size
    pool = np.ones(n, dtype=bool) if pool is None else pool
    fac = {f.name: f for f in factors}
    total = y[pool].sum()
    limits: dict[str, Limit] = {}
    inside = pool.copy()
    traj: list[_Box] = [
        {"coverage": 1.0, "density": float(y[inside].mean()), "support": int(inside.sum()), "limits": dict(limits)}
    ]
    floor = max(2, int(math.ceil(min_support * pool.sum())))
    while True:
        best: tuple[tuple[float, int], dict[str, Limit], np.ndarray] | None = None
        for f in factors:
            for cand in _candidates(f, inside, alpha):
                new = dict(limits)
                new[f.name] = _merge(limits.get(f.name), cand)
                m = _box_mask(new, fac, n) & pool
                k = int(m.sum())
                if k < floor or k >= inside.sum():
                    continue
                dens = float(y[m].mean())
                # gain in density per sample peeled off (EMA Workbench's "lenient1"): small
                # peels that help beat large ones that help a little more
                gain = (dens - traj[-1]["density"]) / (int(inside.sum()) - k)
                key = (gain, k)  # ties: the larger box
                if best is None or key > best[0]:
                    best = (key, new, m)
        if best is None or best[0][0] <= 1e-12:
            break
        limits, inside = best[1], best[2]
        traj.append(
            {
                "coverage": float(y[inside].sum() / total) if total else 0.0,
                "density": float(y[inside].mean()),
                "support": int(inside.sum()),
                "limits": dict(limits),
            }
        )
    ok = [t for t in traj if t["coverage"] >= min_coverage]
    chosen = max(ok or traj[:1], key=lambda t: (t["density"], t["coverage"]))
    lim = dict(chosen["limits"])
    # drop restrictions that do not matter
    base = chosen["density"]
    for name in sorted(lim):
        trial = {k: v for k, v in lim.items() if k != name}
        m = _box_mask(trial, fac, n) & pool
        if m.sum() and float(y[m].mean()) >= base - 0.005:
            lim = trial
    return lim, [{"coverage": t["coverage"], "density": t["density"], "support": t["support"]} for t in traj]


def _words(lim: Limit, fac: Factor) -> str:
    if lim.kind == "bool":
        return f"{lim.factor} is {'true' if lim.value else 'false'}"
    if lim.kind == "date":
        assert fac.origin is not None
        from datetime import timedelta

        parts = []
        if lim.lo is not None:
            parts.append(f"on or after {(fac.origin + timedelta(days=int(math.ceil(lim.lo)))).isoformat()}")
        if lim.hi is not None:
            parts.append(f"on or before {(fac.origin + timedelta(days=int(lim.hi))).isoformat()}")
        return f"{lim.factor} comes {' and '.join(parts)}"
    parts = []
    if lim.lo is not None:
        parts.append(f"at least {lim.lo:.0%}")
    if lim.hi is not None:
        parts.append(f"at most {lim.hi:.0%}")
    return f"{lim.factor} deploys {' and '.join(parts)} of its pledges"


def discover(
    rows: Sequence[dict[str, Any]],
    *,
    threshold: float = 80.0,
    metric: str = "essential_coverage_pct",
    max_boxes: int = 3,
    alpha: float = 0.05,
    min_support: float = 0.05,
    min_coverage: float = 0.3,
) -> dict[str, Any]:
    """PRIM boxes where ``metric`` < ``threshold``, each stated in plain words."""
    rows = [r for r in rows if r.get(metric) is not None and not math.isnan(r[metric])]
    n = len(rows)
    y = np.array([1.0 if r[metric] < threshold else 0.0 for r in rows])
    factors = factors_from_records(rows)
    fac = {f.name: f for f in factors}
    total = int(y.sum())
    result: dict[str, Any] = {
        "samples": n,
        "threshold": threshold,
        "metric": metric,
        "cases": total,
        "base_rate": round(float(y.mean()), 6) if n else None,
        "boxes": [],
        "factors": [f.name for f in factors],
    }
    if n == 0 or total == 0 or not factors:
        result["statement"] = f"no sample has {metric} below {threshold:g}" if n else "no samples"
        return result
    pool = np.ones(n, dtype=bool)
    for _ in range(max_boxes):
        if y[pool].sum() == 0:
            break
        lim, traj = prim(y, factors, alpha=alpha, min_support=min_support, min_coverage=min_coverage, pool=pool)
        if not lim:
            break
        m = _box_mask(lim, fac, n) & pool
        k = int(m.sum())
        dens = float(y[m].mean())
        if dens <= float(y[pool].mean()) + 1e-9:
            break
        cov = float(y[m].sum() / total)
        lo, hi = wilson(dens, k)
        words = " and ".join(_words(v, fac[name]) for name, v in sorted(lim.items()))
        label = "essential coverage" if metric == "essential_coverage_pct" else metric
        sentence = (
            f"when {words}: {dens:.0%} of samples have {label} below {threshold:g}% "
            f"({int(y[m].sum())} of {k} samples; {cov:.0%} of all such samples)"
        )
        result["boxes"].append(
            {
                "limits": [
                    {"factor": v.factor, "kind": v.kind, "lo": v.lo, "hi": v.hi, "value": v.value}
                    for _, v in sorted(lim.items())
                ],
                "density": round(dens, 6),
                "density_ci95": [round(lo, 6), round(hi, 6)],
                "coverage": round(cov, 6),
                "support": k,
                "statement": sentence,
                "trajectory": traj,
            }
        )
        pool &= ~m
    result["statement"] = "; ".join(b["statement"] for b in result["boxes"]) or (
        f"no box of conditions concentrates the samples below {threshold:g}%"
    )
    return result
