"""Quantity-distance: required distances, licence quantities and site geometry (numpy, pure).

One rounding rule everywhere (rulebook ``rounding.ceil-metre``): the exact formula value is taken
as the larger of the blast formula and any fixed minimum, then rounded UP to the next whole metre;
a pair complies when ``actual >= required``. Tabulated (fragment) distances use the 'not over'
row and are never interpolated. The licence quantity inverts the same rule, so a storehouse filled
to its computed Q_max always passes the Q-D check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from coalition.depots.rulebook import (
    ANY_SITING,
    FT_TO_M,
    LB,
    CurveRule,
    DistanceRule,
    FragmentFunction,
    MinimumRule,
    Piece,
    Record,
    Resolved,
    RuleBook,
    Siting,
    load_rulebook,
)
from coalition.errors import InputError, IntegrityError, Problem

_EPS = 1e-9  # absorbs floating error before rounding up (e.g. 1.8·cbrt(27000) = 54.000000001)


def round_up_metres(exact: np.ndarray | float) -> np.ndarray | float:
    """The one documented rounding rule: up to the next whole metre."""
    return (
        np.ceil(np.asarray(exact, dtype=float) - _EPS)
        if isinstance(exact, np.ndarray)
        else float(math.ceil(exact - _EPS))
    )


def _given(value: float | None, record: str, what: str) -> float:
    """A coefficient the rulebook's validation guarantees for this formula (never a default)."""
    if value is None:
        raise IntegrityError(f"rulebook record {record} has no {what}")
    return value


def piece_distance(piece: Piece, q: np.ndarray) -> np.ndarray:
    """Exact distance (m) of one piece of a piecewise law."""
    out: np.ndarray
    if piece.formula == "power":
        a, e = _given(piece.a_ft_lb, piece.id, "a_ft_lb"), _given(piece.exponent, piece.id, "exponent")
        out = a * np.power(q / LB, e) * FT_TO_M
    elif piece.formula == "sqrt":
        out = _given(piece.k_si, piece.id, "k") * np.sqrt(q)
    else:
        out = _given(piece.k_si, piece.id, "k") * np.cbrt(q)
    return out


def _piecewise(pieces: tuple[Piece, ...], q: np.ndarray) -> np.ndarray:
    """A piecewise law as a monotone envelope: inside piece k the distance is the larger of piece k
    and every earlier piece at its upper end, so a larger NEQ never needs less at a join (the DESR
    K50 at 250,000 lb is 1.8 ft below the transition's end, for example); inf beyond the last piece."""
    d = np.full(q.shape, np.inf)
    lo, carry = 0.0, 0.0
    for piece in pieces:
        hi = math.inf if piece.to_kg is None else piece.to_kg
        inside = (q > lo) & (q <= hi)
        if inside.any():
            d[inside] = np.maximum(piece_distance(piece, q[inside]), carry)
        if math.isfinite(hi):
            carry = max(carry, float(piece_distance(piece, np.array([hi]))[0]))
        lo = hi
    return d


def formula_distance(rule: DistanceRule, q: np.ndarray) -> np.ndarray:
    """Exact formula distance for NEQ ``q`` (kg); inf where the rule holds for no such NEQ (outside
    its validated range, or above the last table row): never extrapolated."""
    q = np.asarray(q, dtype=float)
    if rule.formula == "cube_root":
        d = rule.k_si * np.cbrt(q)
    elif rule.formula == "sqrt":
        d = rule.k_si * np.sqrt(q)
    elif rule.formula == "table":
        row_q = np.array([r[0] for r in rule.rows])
        row_d = np.array([r[1] for r in rule.rows] + [np.inf])
        d = row_d[np.searchsorted(row_q, q, side="left")]
    elif rule.formula == "piecewise":
        d = _piecewise(rule.pieces, q)
    elif rule.formula == "fixed":
        d = np.full_like(q, _given(rule.min_m, rule.id, "min_m"))
    else:
        d = np.zeros_like(q)
    if rule.valid_max_kg is not None:
        d = np.where(q > rule.valid_max_kg * (1 + 1e-12), np.inf, d)
    return np.where(q > 0, d, 0.0)


def pieces_at(rule: DistanceRule, q: float) -> tuple[Piece, ...]:
    """The pieces of a piecewise rule a distance at NEQ ``q`` rests on (its own and earlier joins)."""
    out = []
    lo = 0.0
    for piece in rule.pieces:
        out.append(piece)
        hi = math.inf if piece.to_kg is None else piece.to_kg
        if lo < q <= hi:
            return tuple(out)
        lo = hi
    return tuple(out)


def fragment_row(f: FragmentFunction, q: np.ndarray) -> np.ndarray:
    """One DFD row at NEQ ``q``: 0 below its range, held at its value beyond its upper end."""
    qq = q if f.max_kg is None else np.minimum(q, f.max_kg)
    with np.errstate(divide="ignore", invalid="ignore"):
        if f.formula == "power":
            v = f.a * np.power(qq, f.b)
        elif f.formula == "linear":
            v = f.a * qq + f.b
        elif f.formula == "log":
            v = f.a * np.log(np.maximum(qq, 1.0)) + f.b
        elif f.formula == "plateau":
            v = np.full(q.shape, f.value)
        else:
            v = f.a + f.b * np.sqrt(np.maximum(qq - f.c, 0.0))
    return np.where(q >= f.min_kg, np.maximum(v, 0.0), 0.0)


def minimum_distance(rule: MinimumRule, q: np.ndarray, book: RuleBook) -> np.ndarray:
    """A minimum's value at NEQ ``q``: fixed, or the DFD envelope with its floor."""
    q = np.asarray(q, dtype=float)
    out = np.full(q.shape, rule.metres)
    if rule.function == "fragment-envelope":
        for f in book.fragment_functions:
            out = np.maximum(out, fragment_row(f, q))
    return out


def _bisect(fn: Callable[[np.ndarray], np.ndarray], whole: np.ndarray, top: float | None) -> np.ndarray:
    """sup{q : fn(q) <= d + eps} for a monotone non-decreasing ``fn``, per distance (unique values
    only); capped at ``top`` (the validated range), inf when unbounded and never exceeded."""
    uniq, inv = np.unique(whole, return_inverse=True)
    hi_q = top if top is not None else 1e12
    lim = uniq + 1e-9
    lo = np.full(uniq.shape, 1e-9)
    hi = np.full(uniq.shape, hi_q)
    for _ in range(80):
        mid = np.sqrt(lo * hi)
        ok = fn(mid) <= lim
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    out = np.where(fn(lo) <= lim, lo, 0.0)
    out = np.where(fn(np.full(uniq.shape, hi_q)) <= lim, hi_q if top is not None else np.inf, out)
    return out[inv]


def _formula_qmax(rule: DistanceRule, whole: np.ndarray) -> np.ndarray:
    top = rule.upper_kg
    cap = np.inf if top is None else top
    if rule.formula == "cube_root":
        return np.minimum((whole / rule.k_si) ** 3, cap)
    if rule.formula == "sqrt":
        return np.minimum((whole / rule.k_si) ** 2, cap)
    if rule.formula == "table":
        row_q = np.array([0.0] + [r[0] for r in rule.rows])
        row_d = np.array([r[1] for r in rule.rows])
        return row_q[np.searchsorted(row_d, whole + 1e-9, side="right")]
    if rule.formula == "fixed":
        return np.where(whole + 1e-9 >= _given(rule.min_m, rule.id, "min_m"), np.inf, 0.0)
    if rule.formula == "piecewise":
        return _bisect(lambda q: formula_distance(rule, q), whole, top)
    return np.full(whole.shape, np.inf)


def fragment_row_qmax(f: FragmentFunction, d: np.ndarray) -> np.ndarray:
    """sup{q : fragment_row(f, q) <= d}: each row is monotone, so it is inverted in closed form."""
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if f.formula == "power":
            q = np.power(np.maximum(d, 0.0) / f.a, 1.0 / f.b)
        elif f.formula == "linear":
            q = np.where(d >= f.b, (d - f.b) / f.a, 0.0)
        elif f.formula == "log":
            q = np.exp((d - f.b) / f.a)
        elif f.formula == "plateau":
            q = np.where(d >= f.value, np.inf, 0.0)
        else:
            q = np.where(d >= f.a, f.c + ((d - f.a) / f.b) ** 2, 0.0)
    below = float(fragment_row(f, np.array([max(f.min_kg, 1e-9)]))[0]) if f.min_kg else 0.0
    if f.min_kg:
        # below its range the row adds nothing: where even its first value is too much, q stays under it
        q = np.where(d < below, f.min_kg * (1 - 1e-12), np.maximum(q, f.min_kg * (1 - 1e-12)))
    if f.max_kg is not None:
        end = float(fragment_row(f, np.array([f.max_kg]))[0])
        q = np.where(d >= end, np.inf, np.minimum(q, f.max_kg))
    out: np.ndarray = q
    return out


def _minimum_qmax(rule: MinimumRule, whole: np.ndarray, book: RuleBook) -> np.ndarray:
    lim = whole + 1e-9
    out = np.where(lim >= rule.metres, np.inf, 0.0)
    if rule.function == "fragment-envelope":
        for f in book.fragment_functions:
            out = np.minimum(out, fragment_row_qmax(f, lim))
    return out


def curve_distance(curve: CurveRule, q: float) -> float:
    """An unbound sourced function at NEQ ``q``; refuses (InputError) outside its validated range."""
    if not math.isfinite(q) or q <= 0:
        raise InputError([Problem(f"NEQ must be a positive number of kg, got {q}", field="--neq")])
    if curve.valid_max_kg is not None and q > curve.valid_max_kg:
        raise InputError(
            [
                Problem(
                    f"{q:,.0f} kg is outside the validated range of {curve.id} (valid to {curve.valid_max_kg:,.0f} kg)",
                    field="--neq",
                    hint=f"at most {curve.valid_max_kg:,.0f} kg; no sourced rule extends it",
                )
            ]
        )
    if curve.formula == "piecewise":
        return float(_piecewise(curve.pieces, np.array([float(q)]))[0])
    return float(three_piece_distance(curve, q))


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
RELATION_CODES: tuple[str, ...] = ("IMD", "PBD", "PTRD", "IBD", "VBD", "IBD-LD")


class SpecRules:
    """The distance rule and minimums for one case (HD class, relation, PES/ES kinds and faces,
    traversed, heavy-case) as one monotone function of NEQ, used alike by the check (required
    distance), the licence (its inverse) and placement, so the three can never disagree."""

    __slots__ = ("rule", "minimums", "book")

    def __init__(self, rule: Resolved, minimums: tuple[Resolved, ...], book: RuleBook) -> None:
        self.rule = rule
        self.minimums = minimums
        self.book = book

    # -- values ---------------------------------------------------------------------------
    def formula_m(self, q: np.ndarray) -> np.ndarray:
        return formula_distance(self.rule.record, np.asarray(q, dtype=float))

    def minimum_m(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        out = np.zeros(q.shape)
        if self.rule.record.formula == "none":
            return out
        for m in self.minimums:
            out = np.maximum(out, minimum_distance(m.record, q, self.book))
        return out

    def exact(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        return np.where(q > 0, np.maximum(self.formula_m(q), self.minimum_m(q)), 0.0)

    def required(self, q: np.ndarray) -> np.ndarray:
        """Required distance in whole metres (rounded up); inf outside the validated range."""
        ex = self.exact(q)
        fin = np.isfinite(ex)
        return np.where(fin, np.ceil(np.where(fin, ex, 0.0) - _EPS), np.inf)

    @property
    def upper_kg(self) -> float | None:
        upper: float | None = self.rule.record.upper_kg
        return upper

    def qmax(self, whole: np.ndarray) -> np.ndarray:
        """Largest NEQ whose required distance fits within ``whole`` metres: the exact inverse of
        :meth:`required`, capped at the validated range. Since ceil(max(a, b) - eps) <= d holds iff
        both a and b are <= d + eps, it is the smaller of the formula's and each minimum's inverse."""
        whole = np.asarray(whole, dtype=float)
        rec = self.rule.record
        if rec.formula == "none":
            return np.full(whole.shape, np.inf)
        out = _formula_qmax(rec, whole)
        for m in self.minimums:
            out = np.minimum(out, _minimum_qmax(m.record, whole, self.book))
        return out

    # -- basis ----------------------------------------------------------------------------
    def resolved_at(self, q: float) -> list[tuple[str, Record, bool]]:
        """(label, record, unverified) of every record the distance at ``q`` rests on."""
        rec = self.rule.record
        out: list[tuple[str, Record, bool]] = [(self.rule.label, rec, self.rule.unverified)]
        if rec.formula == "piecewise":
            out += [(p.id, p, p.status.value != "V-P") for p in pieces_at(rec, q)]
        if rec.formula != "none":
            for m in self.minimums:
                out.append((m.label, m.record, m.unverified))
                if m.record.function == "fragment-envelope":  # named through the minimum record
                    out += [(f.id, f, False) for f in self.book.fragment_functions]
        return out

    def labels_at(self, q: float) -> tuple[str, ...]:
        return tuple(dict.fromkeys(lbl for lbl, _, _ in self.resolved_at(q)))

    def unverified_at(self, q: float) -> tuple[str, ...]:
        return tuple(dict.fromkeys(lbl for lbl, _, u in self.resolved_at(q) if u))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(r.label for r in (self.rule, *self.minimums))

    @property
    def unverified(self) -> tuple[str, ...]:
        return tuple(r.label for r in (self.rule, *self.minimums) if r.unverified)


def spec_rules_for(
    book: RuleBook,
    profile: str,
    cls: str,
    relation: str,
    siting: Siting = ANY_SITING,
    heavy: bool = False,
) -> SpecRules:
    rule = book.distance_rule(profile, cls, relation, siting)
    if rule is None:
        raise InputError([Problem(f"the {profile} rulebook has no distance for HD {cls} {relation}", field="relation")])
    mins = book.minimums_for(profile, cls, relation, siting.pes_kind, heavy) if rule.record.formula != "none" else ()
    return SpecRules(rule, mins, book)


def required_distance(
    hd: str,
    neq_kg: float,
    relation: str,
    *,
    profile: str = "iatg",
    siting: Siting = ANY_SITING,
    heavy_case: bool = False,
    cg: str | None = None,
    book: RuleBook | None = None,
) -> Requirement:
    """The distance a PES holding ``neq_kg`` of one HD needs from one exposed site sited as ``siting``.

    Outside the validated range of every sourced piece the required distance is infinite and a
    note says so (the check reports it as a violation; ``coalition depots qd`` refuses it)."""
    book = book or load_rulebook()
    problems: list[Problem] = []
    if not math.isfinite(neq_kg) or neq_kg < 0:
        problems.append(Problem(f"NEQ must be a non-negative number of kg, got {neq_kg}", field="neq"))
    if relation not in RELATION_CODES:
        problems.append(
            Problem(f"unknown relation '{relation}'", field="relation", hint=f"valid: {', '.join(RELATION_CODES)}")
        )
    if hd not in HD_TO_CLASS:
        problems.append(Problem(f"unknown hazard division '{hd}'", field="hd", hint="valid: 1.1 1.2 1.3 1.4 1.5 1.6"))
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
    heavy = heavy_case and cls in ("1.1", "1.2")
    sr = spec_rules_for(book, profile, cls, relation, siting, heavy)
    rule = sr.rule.record
    q = np.array([float(neq_kg)])
    f_m = float(sr.formula_m(q)[0])
    min_m = float(sr.minimum_m(q)[0]) if neq_kg > 0 else 0.0
    for label, rec, unv in sr.resolved_at(neq_kg):
        if label.startswith("dfd") and rule.formula != "none":
            continue  # the envelope is named by its minimum record; rows are listed in its source
        statuses[rec.id] = "U" if "(borrowed" in label else rec.status.value
        if unv:
            unverified.append(label)
    if not math.isfinite(f_m):
        top = rule.upper_kg
        notes.append(
            f"{neq_kg:,.0f} kg is outside the validated range of {rule.id}"
            + (f" (valid to {top:,.0f} kg)" if top else "")
            + ": no sourced rule covers it"
        )
    governing_min = None
    if sr.minimums and neq_kg > 0 and rule.formula != "none":
        governing_min = max(sr.minimums, key=lambda m: float(minimum_distance(m.record, q, book)[0])).record.id
    exact = max(f_m, min_m)
    required = float(round_up_metres(exact)) if math.isfinite(exact) else math.inf
    governs = "none" if exact == 0 else ("minimum" if min_m > f_m else "formula")
    return Requirement(
        hd=hd,
        relation=relation,
        neq_kg=neq_kg,
        profile=profile,
        formula_m=f_m,
        minimum_m=min_m,
        exact_m=exact,
        required_m=required,
        governs=governs,
        formula=rule.describe(),
        k=rule.k_si,
        rule=rule.id,
        minimum_rule=governing_min,
        statuses=statuses,
        unverified=tuple(dict.fromkeys(unverified)),
        notes=tuple(notes),
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
    ax: list[float] = []
    ay: list[float] = []
    bx: list[float] = []
    by: list[float] = []
    owner: list[int] = []
    for j, pts in enumerate(polylines):
        segs = list(zip(pts, pts[1:], strict=False)) or [(pts[0], pts[0])]
        for (x0, y0), (x1, y1) in segs:
            ax.append(x0)
            ay.append(y0)
            bx.append(x1)
            by.append(y1)
            owner.append(j)
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


def _to_segments(
    px: np.ndarray,
    py: np.ndarray,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    orientation_deg: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
    tx: np.ndarray,
    ty: np.ndarray,
    front_half_angle: float,
) -> np.ndarray:
    """Face code (1 front, 2 side, 3 rear) of a PES at (sx, sy) toward targets (tx, ty)."""
    bearing = np.degrees(np.arctan2(tx - sx[:, None], ty - sy[:, None])) % 360.0
    diff = np.abs((bearing - orientation_deg[:, None] + 180.0) % 360.0 - 180.0)
    return np.where(diff <= front_half_angle, 1, np.where(diff >= 180.0 - front_half_angle, 3, 2))


def resolve_or_fail(
    book: RuleBook,
    profile: str,
    hd: str,
    relation: str,
    pes_kind: str,
    face: str,
    es_kind: str,
    traversed: bool,
) -> Resolved:
    found = book.distance_rule(profile, hd, relation, Siting(pes_kind, face, es_kind, traversed))
    if found is None:
        raise InputError([Problem(f"rulebook profile {profile} has no rule for HD {hd} {relation}")])
    return found
