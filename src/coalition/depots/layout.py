"""Depot geometry as arrays and rule gathering per pair (pure, numpy).

:func:`build_layout` turns a depot into storehouse × target matrices (distance, face, traversed);
:func:`spec_codes` packs everything a rule lookup depends on into one small integer per pair, so
that :func:`code_rules` can look each distinct case up once in the rulebook and gather its
parameters back onto whole matrices. Used by the checks (:mod:`coalition.depots.rules`) and the
licences (:mod:`coalition.depots.licence`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coalition.depots.qd import FACE_NAMES, faces, nearest_points
from coalition.depots.rulebook import Resolved, RuleBook
from coalition.depots.schemas import Depot, ExposedSiteKind, StorehouseKind

#: Distances are compared with this tolerance (metres), here and in the licence inversion, so a
#: layout at exactly the required distance complies whatever the floating-point noise.
DIST_TOL = 1e-6

_PES_KINDS = tuple(k.value for k in StorehouseKind)
_ES_KINDS = ("*", *_PES_KINDS)
_RELATIONS = ("IMD", "PBD", "PTRD", "IBD", "VBD")


@dataclass
class Layout:
    """Geometry of one depot as arrays: storehouses (rows) × targets (ES then storehouses)."""

    depot: Depot
    target_ids: list[str]
    target_relation: np.ndarray  # (t,) index into _RELATIONS
    target_es_kind: np.ndarray  # (t,) index into _ES_KINDS
    dist: np.ndarray  # (n, t) metres, inf on the diagonal
    face: np.ndarray  # (n, t) 0 '*', 1 front, 2 side, 3 rear
    trav: np.ndarray  # (n, t) bool: the pair is traversed (either side)
    pes_kind: np.ndarray  # (n,) index into _PES_KINDS
    face_rule: Resolved | None

    @property
    def n_es(self) -> int:
        return len(self.depot.exposed_sites)


def build_layout(depot: Depot, book: RuleBook) -> Layout:
    shs = depot.storehouses
    n = len(shs)
    sx = np.array([s.x for s in shs], dtype=float)
    sy = np.array([s.y for s in shs], dtype=float)
    orient = np.array([s.orientation_deg for s in shs], dtype=float)
    strav = np.array([s.traversed for s in shs], dtype=bool)
    pes_kind = np.array([_PES_KINDS.index(s.kind.value) for s in shs], dtype=np.int64)
    es = depot.exposed_sites
    d_es, nx, ny = nearest_points(sx, sy, [e.points for e in es])
    dx = sx[None, :] - sx[:, None]
    d_sh = np.hypot(dx, sy[None, :] - sy[:, None])
    np.fill_diagonal(d_sh, np.inf)
    dist = np.concatenate([d_es, d_sh], axis=1)
    face_rule = book.geometry.get("geom.ecm-front-sector")
    half = face_rule.value if face_rule else 60.0
    face_es = faces(orient, sx, sy, nx, ny, half) if len(es) else np.zeros((n, 0), dtype=np.int64)
    face_sh = faces(orient, sx, sy, np.broadcast_to(sx, (n, n)), np.broadcast_to(sy, (n, n)), half)
    face = np.concatenate([face_es, face_sh], axis=1)
    is_ecm = pes_kind == _PES_KINDS.index(StorehouseKind.EARTH_COVERED.value)
    face = np.where(is_ecm[:, None], face, 0)
    trav = np.concatenate(
        [np.broadcast_to(strav[:, None], (n, len(es))), strav[:, None] | strav[None, :]], axis=1
    )
    rel = [_RELATIONS.index(e.relation) for e in es] + [0] * n
    es_kind = [
        _ES_KINDS.index("above-ground") if e.kind == ExposedSiteKind.OTHER_PES else 0 for e in es
    ] + [1 + int(k) for k in pes_kind]
    return Layout(
        depot=depot,
        target_ids=[e.id for e in es] + [s.id for s in shs],
        target_relation=np.array(rel, dtype=np.int64),
        target_es_kind=np.array(es_kind, dtype=np.int64),
        dist=dist,
        face=face.astype(np.int64),
        trav=trav,
        pes_kind=pes_kind,
        face_rule=face_rule and Resolved(face_rule),
    )


def spec_codes(layout: Layout, rows: np.ndarray, heavy: np.ndarray) -> np.ndarray:
    """One small integer per (row, target) naming everything a rule lookup depends on."""
    rel = layout.target_relation[None, :]
    pk = layout.pes_kind[rows][:, None]
    fc = layout.face[rows]
    ek = layout.target_es_kind[None, :]
    tv = layout.trav[rows].astype(np.int64)
    hv = heavy[:, None].astype(np.int64)
    return ((((rel * 5 + pk) * 4 + fc) * 6 + ek) * 2 + tv) * 2 + hv


def decode_spec(code: int) -> tuple[str, str, str, str, bool, bool]:
    code, hv = divmod(code, 2)
    code, tv = divmod(code, 2)
    code, ek = divmod(code, 6)
    code, fc = divmod(code, 4)
    rel, pk = divmod(code, 5)
    return _RELATIONS[rel], _PES_KINDS[pk], FACE_NAMES[fc], _ES_KINDS[ek], bool(tv), bool(hv)


@dataclass(frozen=True)
class SpecRules:
    rule: Resolved
    minimum: Resolved | None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(r.label for r in (self.rule, self.minimum) if r is not None)

    @property
    def unverified(self) -> tuple[str, ...]:
        return tuple(r.label for r in (self.rule, self.minimum) if r is not None and r.unverified)


def spec_rules(book: RuleBook, profile: str, hd: str, code: int, cache: dict) -> SpecRules:  # type: ignore[type-arg]
    key = (profile, hd, code)
    if key not in cache:
        relation, pk, face, ek, trav, heavy = decode_spec(code)
        rule = book.distance_rule(profile, hd, relation, pk, face, ek, trav)
        if rule is None:
            raise LookupError(f"rulebook profile {profile} has no rule for HD {hd} {relation}")
        minimum = None
        if rule.record.formula != "none":
            minimum = book.minimum(profile, hd, relation, pk, heavy)
        cache[key] = SpecRules(rule, minimum)
    return cache[key]


MAX_CODE = 5 * 5 * 4 * 6 * 2 * 2
_FORMULA_IDS = {"cube_root": 0, "sqrt": 1, "fixed": 2, "none": 3, "table": 4}


@dataclass
class CodeRules:
    """Rule parameters gathered per spec code, so whole matrices are evaluated without loops."""

    present: np.ndarray
    used: dict[int, SpecRules]
    ftype: np.ndarray
    k: np.ndarray
    minimum: np.ndarray
    vmax: np.ndarray


def code_rules(book: RuleBook, profile: str, hd: str, codes: np.ndarray, cache: dict) -> CodeRules:  # type: ignore[type-arg]
    present = np.nonzero(np.bincount(codes.ravel(), minlength=MAX_CODE))[0]
    ftype = np.full(MAX_CODE, 3, dtype=np.int64)
    k = np.ones(MAX_CODE)
    minimum = np.zeros(MAX_CODE)
    vmax = np.full(MAX_CODE, np.inf)
    used: dict[int, SpecRules] = {}
    for code in present.tolist():
        sr = spec_rules(book, profile, hd, code, cache)
        used[code] = sr
        rec = sr.rule.record
        ftype[code] = _FORMULA_IDS[rec.formula]
        k[code] = rec.k_si or 1.0
        if rec.formula == "fixed":
            minimum[code] = float(rec.min_m)
        if sr.minimum is not None:
            minimum[code] = max(minimum[code], sr.minimum.record.metres)
        if rec.valid_max_kg is not None:
            vmax[code] = rec.valid_max_kg
    return CodeRules(present, used, ftype, k, minimum, vmax)


def rows_using(codes: np.ndarray, rows_n: int) -> dict[int, np.ndarray]:
    """For each code present, the row indices that use it (one bincount, no per-code scans)."""
    r = np.repeat(np.arange(rows_n), codes.shape[1]) if codes.size else np.zeros(0, dtype=np.int64)
    pairs = np.nonzero(np.bincount(r * MAX_CODE + codes.ravel(), minlength=rows_n * MAX_CODE))[0]
    out: dict[int, list[int]] = {}
    for p in pairs.tolist():
        row, code = divmod(p, MAX_CODE)
        out.setdefault(code, []).append(row)
    return {c: np.asarray(v) for c, v in out.items()}
