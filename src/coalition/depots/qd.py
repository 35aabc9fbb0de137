"""Quantity-distance: required distances, licence quantities and site geometry (numpy, pure).

One rounding rule everywhere (rulebook ``rounding.ceil-metre``): the exact formula value is taken
as the larger of the blast formula and any fixed minimum, then rounded UP to the next whole metre;
a pair complies when ``actual >= required``. Tabulated (fragment) distances use the 'not over'
row and are never interpolated. The licence quantity inverts the same rule, so a storehouse filled
to its computed Q_max always passes the Q-D check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from coalition.depots.rulebook import CurveRule, DistanceRule, Resolved, RuleBook, load_rulebook
from coalition.errors import InputError, Problem

_EPS = 1e-9  # absorbs floating error before rounding up (e.g. 1.8·cbrt(27000) = 54.000000001)


def round_up_metres(exact: np.ndarray | float) -> np.ndarray | float:
    """The one documented rounding rule: up to the next whole metre."""
    return np.ceil(np.asarray(exact, dtype=float) - _EPS) if isinstance(exact, np.ndarray) else float(
        math.ceil(exact - _EPS)
    )


def formula_distance(rule: DistanceRule, q: np.ndarray) -> np.ndarray:
    """Exact formula distance for NEQ ``q`` (kg); inf where the rule has no row for that NEQ."""
    q = np.asarray(q, dtype=float)
    if rule.formula == "cube_root":
        d = rule.k_si * np.cbrt(q)
    elif rule.formula == "sqrt":
        d = rule.k_si * np.sqrt(q)
    elif rule.formula == "table":
        row_q = np.array([r[0] for r in rule.rows])
        row_d = np.array([r[1] for r in rule.rows] + [np.inf])
        d = row_d[np.searchsorted(row_q, q, side="left")]
    elif rule.formula == "fixed":
        d = np.full_like(q, float(rule.min_m))
    else:
        d = np.zeros_like(q)
    return np.where(q > 0, d, 0.0)


def formula_qmax(rule: DistanceRule, d: np.ndarray) -> np.ndarray:
    """Largest NEQ whose rounded-up formula distance fits within whole metres ``d``."""
    d = np.asarray(d, dtype=float)
    if rule.formula == "cube_root":
        q = (d / rule.k_si) ** 3
    elif rule.formula == "sqrt":
        q = (d / rule.k_si) ** 2
    elif rule.formula == "table":
        row_q = np.array([0.0] + [r[0] for r in rule.rows])
        row_d = np.array([r[1] for r in rule.rows])
        q = row_q[np.searchsorted(row_d, d, side="right")]
    elif rule.formula == "fixed":
        q = np.where(d >= float(rule.min_m), np.inf, 0.0)
    else:
        q = np.full_like(d, np.inf)
    if rule.valid_max_kg is not None:
        q = np.minimum(q, rule.valid_max_kg)
    return q


def three_piece_distance(curve: CurveRule, q: np.ndarray | float) -> np.ndarray:
    """The sourced small-NEQ curve (a·Q^2/3, b·Q^1/2, k·Q^1/3); not bound to a relation by default."""
    q = np.asarray(q, dtype=float)
    return np.where(
        q < curve.q1,
        curve.a * q ** (2.0 / 3.0),
        np.where(q < curve.q2, curve.b * np.sqrt(q), curve.k * np.cbrt(q)),
    )


# ---------------------------------------------------------------------------------------------
# One required distance, with its basis (used by `coalition depots qd` and the tests)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    hd: str
    relation: str
    neq_kg: float
    profile: str
    formula_m: float
    minimum_m: float
    exact_m: float
    required_m: float
    governs: str  # "formula", "minimum" or "none"
    formula: str
    k: float | None
    rule: str
    minimum_rule: str | None
    statuses: dict[str, str] = field(default_factory=dict)
    unverified: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "hd": self.hd,
            "relation": self.relation,
            "neq_kg": self.neq_kg,
            "profile": self.profile,
            "required_m": self.required_m if math.isfinite(self.required_m) else None,
            "exact_m": round(self.exact_m, 3) if math.isfinite(self.exact_m) else None,
            "formula_m": round(self.formula_m, 3) if math.isfinite(self.formula_m) else None,
            "minimum_m": self.minimum_m,
            "governs": self.governs,
            "formula": self.formula,
            "k": self.k,
            "rule": self.rule,
            "minimum_rule": self.minimum_rule,
            "statuses": self.statuses,
            "unverified": list(self.unverified),
            "notes": list(self.notes),
        }


HD_TO_CLASS = {"1.1": "1.1", "1.2": "1.2", "1.3": "1.3", "1.4": "1.4", "1.5": "1.1", "1.6": "1.1"}


def required_distance(
    hd: str,
    neq_kg: float,
    relation: str,
    *,
    profile: str = "iatg",
    pes_kind: str = "*",
    pes_face: str = "*",
    es_kind: str = "*",
    traversed: bool = False,
    heavy_case: bool = False,
    cg: str | None = None,
    book: RuleBook | None = None,
) -> Requirement:
    """The distance a PES holding ``neq_kg`` of one HD needs from one exposed site."""
    book = book or load_rulebook()
    problems: list[Problem] = []
    if not math.isfinite(neq_kg) or neq_kg < 0:
        problems.append(Problem(f"NEQ must be a non-negative number of kg, got {neq_kg}", field="neq"))
    if relation not in ("IMD", "PBD", "PTRD", "IBD", "VBD"):
        problems.append(Problem(f"unknown relation '{relation}'", field="relation",
                                hint="valid: IMD, PBD, PTRD, IBD, VBD"))
    if hd not in HD_TO_CLASS:
        problems.append(Problem(f"unknown hazard division '{hd}'", field="hd",
                                hint="valid: 1.1 1.2 1.3 1.4 1.5 1.6"))
    if problems:
        raise InputError(problems)
    notes: list[str] = []
    unverified: list[str] = []
    statuses: dict[str, str] = {}
    cls = HD_TO_CLASS[hd]
    if hd in ("1.5", "1.6"):
        agg = next(
            (r for r in book.aggregation_rules(profile).get("treat-as-1.1", []) if r.record.hd == hd),
            None,
        )
        if agg is not None:
            notes.append(f"HD {hd} treated as 1.1 ({agg.label})")
            statuses[agg.record.id] = agg.record.status.value
            if agg.unverified:
                unverified.append(agg.label)
    if cls == "1.4" and (cg or "").upper() == "S":
        cls = "1.4S"
    resolved = book.distance_rule(profile, cls, relation, pes_kind, pes_face, es_kind, traversed)
    if resolved is None:
        raise InputError([Problem(
            f"the {profile} rulebook has no distance for HD {cls} {relation}", field="relation")])
    rule = resolved.record
    statuses[rule.id] = "U" if resolved.borrowed else rule.status.value
    if resolved.unverified:
        unverified.append(resolved.label)
    f_m = float(formula_distance(rule, np.array([neq_kg]))[0])
    if rule.valid_max_kg is not None and neq_kg > rule.valid_max_kg:
        notes.append(
            f"NEQ above {rule.valid_max_kg:g} kg is outside the range of {rule.id}; "
            "the profile's larger-quantity law is not encoded (unverified)"
        )
        unverified.append(f"{rule.id} (beyond {rule.valid_max_kg:g} kg)")
    if not math.isfinite(f_m):
        notes.append(f"NEQ {neq_kg:g} kg is above the last row of {rule.id}: no rule covers it")
    mres = book.minimum(profile, cls, relation, pes_kind, heavy_case) if neq_kg > 0 and rule.formula != "none" else None
    min_m = mres.record.metres if mres else 0.0
    if mres:
        statuses[mres.record.id] = "U" if mres.borrowed else mres.record.status.value
        if mres.unverified:
            unverified.append(mres.label)
    exact = max(f_m, min_m)
    required = float(round_up_metres(exact)) if math.isfinite(exact) else math.inf
    governs = "none" if exact == 0 else ("minimum" if min_m > f_m else "formula")
    return Requirement(
        hd=hd, relation=relation, neq_kg=neq_kg, profile=profile, formula_m=f_m, minimum_m=min_m,
        exact_m=exact, required_m=required, governs=governs, formula=rule.describe(),
        k=rule.k_si, rule=rule.id, minimum_rule=mres.record.id if mres else None,
        statuses=statuses, unverified=tuple(dict.fromkeys(unverified)), notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------


def nearest_points(
    px: np.ndarray, py: np.ndarray, polylines: list[tuple[tuple[float, float], ...]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance (n_pes, n_sites) from each point to each polyline, and the nearest points' x, y."""
    n, m = len(px), len(polylines)
    dist = np.full((n, m), np.inf)
    nx = np.zeros((n, m))
    ny = np.zeros((n, m))
    if n == 0 or m == 0:
        return dist, nx, ny
    ax, ay, bx, by, owner = [], [], [], [], []
    for j, pts in enumerate(polylines):
        segs = list(zip(pts, pts[1:])) or [(pts[0], pts[0])]
        for (x0, y0), (x1, y1) in segs:
            ax.append(x0), ay.append(y0), bx.append(x1), by.append(y1), owner.append(j)
    ax_, ay_, bx_, by_ = (np.asarray(v, dtype=float) for v in (ax, ay, bx, by))
    owner_ = np.asarray(owner)
    if len(owner_) == m:  # every site is one segment or a point: one dense pass
        dist, nx, ny = _to_segments(px, py, ax_, ay_, bx_, by_)
        return dist, nx, ny
    d_all, x_all, y_all = _to_segments(px, py, ax_, ay_, bx_, by_)
    for j in range(m):
        cols = np.nonzero(owner_ == j)[0]
        best = cols[np.argmin(d_all[:, cols], axis=1)]
        rows = np.arange(n)
        dist[:, j] = d_all[rows, best]
        nx[:, j] = x_all[rows, best]
        ny[:, j] = y_all[rows, best]
    return dist, nx, ny


def _to_segments(px, py, ax, ay, bx, by):  # type: ignore[no-untyped-def]
    px = px[:, None]
    py = py[:, None]
    vx, vy = bx - ax, by - ay
    length2 = vx * vx + vy * vy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - ax) * vx + (py - ay) * vy) / np.where(length2 > 0, length2, 1.0)
    t = np.clip(np.where(length2 > 0, t, 0.0), 0.0, 1.0)
    cx = ax + t * vx
    cy = ay + t * vy
    return np.hypot(px - cx, py - cy), cx, cy


FACE_CODES = {"*": 0, "front": 1, "side": 2, "rear": 3}
FACE_NAMES = ("*", "front", "side", "rear")


def faces(
    orientation_deg: np.ndarray, sx: np.ndarray, sy: np.ndarray, tx: np.ndarray, ty: np.ndarray,
    front_half_angle: float,
) -> np.ndarray:
    """Face code (1 front, 2 side, 3 rear) of a PES at (sx, sy) toward targets (tx, ty)."""
    bearing = np.degrees(np.arctan2(tx - sx[:, None], ty - sy[:, None])) % 360.0
    diff = np.abs((bearing - orientation_deg[:, None] + 180.0) % 360.0 - 180.0)
    return np.where(diff <= front_half_angle, 1, np.where(diff >= 180.0 - front_half_angle, 3, 2))


def resolve_or_fail(
    book: RuleBook, profile: str, hd: str, relation: str, pes_kind: str, face: str, es_kind: str,
    traversed: bool,
) -> Resolved:
    found = book.distance_rule(profile, hd, relation, pes_kind, face, es_kind, traversed)
    if found is None:
        raise InputError([Problem(f"rulebook profile {profile} has no rule for HD {hd} {relation}")])
    return found
