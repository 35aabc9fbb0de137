"""Depot geometry as arrays and rule gathering per pair (pure, numpy).

:func:`build_layout` turns a depot into storehouse × target matrices (distance, donor face, acceptor
face and type, traversed); :func:`spec_codes` packs everything a rule lookup depends on into one
small integer per pair, so that :func:`code_rules` can look each distinct case up once in the
rulebook. Used by the checks (:mod:`coalition.depots.rules`), the licences
(:mod:`coalition.depots.licence`) and placement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coalition.depots.qd import FACE_NAMES, RELATION_CODES, SpecRules, faces, nearest_points, spec_rules_for
from coalition.depots.rulebook import ECM_TYPES, Resolved, RuleBook
from coalition.depots.schemas import Depot, ExposedSiteKind, StorehouseKind

#: Distances are compared with this tolerance (metres), here and in the licence inversion, so a
#: layout at exactly the required distance complies whatever the floating-point noise.
DIST_TOL = 1e-6

_PES_KINDS = tuple(k.value for k in StorehouseKind)
_ES_KINDS = ("*", *_PES_KINDS)
_RELATIONS = RELATION_CODES
_ECM = _PES_KINDS.index(StorehouseKind.EARTH_COVERED.value)


@dataclass
class Layout:
    """Geometry of one depot as arrays: storehouses (rows) × targets (ES then storehouses)."""

    depot: Depot
    target_ids: list[str]
    target_relation: np.ndarray  # (t,) index into _RELATIONS (after the busy-route rule)
    target_es_kind: np.ndarray  # (t,) index into _ES_KINDS
    target_notes: list[tuple[Resolved, ...]]  # (t,) conventions the target's relation rests on
    dist: np.ndarray  # (n, t) metres, inf on the diagonal
    face: np.ndarray  # (n, t) donor face: 0 '*', 1 front, 2 side, 3 rear
    es_face: np.ndarray  # (n, t) acceptor face toward the donor (ECM targets), else 0
    es_type: np.ndarray  # (t,) index into ECM_TYPES (ECM targets), else 0
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
    is_ecm = pes_kind == _ECM
    face = np.where(is_ecm[:, None], face, 0)
    # the acceptor's face toward the donor: target j's face toward row i is face_sh[j, i]
    acc = np.where(is_ecm[None, :], face_sh.T, 0) if n else np.zeros((0, 0), dtype=np.int64)
    es_face = np.concatenate([np.zeros((n, len(es)), dtype=np.int64), acc], axis=1)
    es_type = np.array([0] * len(es) + [ECM_TYPES.index(s.ecm_type) if s.kind == StorehouseKind.EARTH_COVERED else 0
                                        for s in shs], dtype=np.int64)
    trav = np.concatenate(
        [np.broadcast_to(strav[:, None], (n, len(es))), strav[:, None] | strav[None, :]], axis=1
    )
    busy = book.profile_setting(depot.profile, "busy_route_relation", "IBD")
    busy_note = book.conventions.get("iatg.route.busy-as-ibd")
    rel: list[int] = []
    notes: list[tuple[Resolved, ...]] = []
    for e in es:
        relation = e.relation
        note: tuple[Resolved, ...] = ()
        if e.kind == ExposedSiteKind.ROUTE and not e.reduced_route and busy != "PTRD":
            relation = busy
            note = (Resolved(busy_note),) if busy_note is not None else ()
        rel.append(_RELATIONS.index(relation))
        notes.append(note)
    rel += [0] * n
    notes += [()] * n
    es_kind = [
        _ES_KINDS.index("above-ground") if e.kind == ExposedSiteKind.OTHER_PES else 0 for e in es
    ] + [1 + int(k) for k in pes_kind]
    return Layout(
        depot=depot,
        target_ids=[e.id for e in es] + [s.id for s in shs],
        target_relation=np.array(rel, dtype=np.int64),
        target_es_kind=np.array(es_kind, dtype=np.int64),
        target_notes=notes,
        dist=dist,
        face=face.astype(np.int64),
        es_face=es_face.astype(np.int64),
        es_type=es_type,
        trav=trav,
        pes_kind=pes_kind,
        face_rule=face_rule and Resolved(face_rule),
    )


_DIMS = (len(_RELATIONS), len(_PES_KINDS), 4, len(_ES_KINDS), 4, len(ECM_TYPES), 2, 2)
MAX_CODE = int(np.prod(_DIMS))


def spec_codes(layout: Layout, rows: np.ndarray, heavy: np.ndarray) -> np.ndarray:
    """One small integer per (row, target) naming everything a rule lookup depends on."""
    rel = layout.target_relation[None, :]
    pk = layout.pes_kind[rows][:, None]
    fc = layout.face[rows]
    ek = layout.target_es_kind[None, :]
    ef = layout.es_face[rows]
    et = layout.es_type[None, :]
    tv = layout.trav[rows].astype(np.int64)
    hv = np.asarray(heavy, dtype=np.int64)[:, None]
    code = rel
    for part, size in ((pk, _DIMS[1]), (fc, 4), (ek, _DIMS[3]), (ef, 4), (et, _DIMS[5]), (tv, 2), (hv, 2)):
        code = code * size + part
    return np.asarray(code, dtype=np.int64)


def decode_spec(code: int) -> tuple[str, str, str, str, str, str, bool, bool]:
    code, hv = divmod(code, 2)
    code, tv = divmod(code, 2)
    code, et = divmod(code, _DIMS[5])
    code, ef = divmod(code, 4)
    code, ek = divmod(code, _DIMS[3])
    code, fc = divmod(code, 4)
    rel, pk = divmod(code, _DIMS[1])
    return (_RELATIONS[rel], _PES_KINDS[pk], FACE_NAMES[fc], _ES_KINDS[ek], FACE_NAMES[ef], ECM_TYPES[et],
            bool(tv), bool(hv))


def spec_rules(book: RuleBook, profile: str, hd: str, code: int, cache: dict) -> SpecRules:  # type: ignore[type-arg]
    key = (profile, hd, code)
    if key not in cache:
        relation, pk, face, ek, ef, et, trav, heavy = decode_spec(code)
        cache[key] = spec_rules_for(book, profile, hd, relation, pk, face, ek, trav, heavy, ef, et)
    return cache[key]


def group_by_code(codes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(code, flat indices) for each distinct code of ``codes`` (one sort, no per-code scans)."""
    flat = codes.ravel()
    if flat.size == 0:
        return []
    order = np.argsort(flat, kind="stable")
    sorted_codes = flat[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    ends = np.r_[starts[1:], flat.size]
    return [(int(sorted_codes[s]), order[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]


def required_matrix(
    layout: Layout, rows: np.ndarray, q: np.ndarray, hd: str, heavy: np.ndarray, profile: str,
    book: RuleBook, cache: dict,  # type: ignore[type-arg]
) -> tuple[np.ndarray, np.ndarray, dict[int, SpecRules]]:
    """Required distance (rows × targets, whole metres, inf outside the validated range) for class
    ``hd`` holding NEQ ``q`` per row, the spec code per cell and the rules per code."""
    codes = spec_codes(layout, rows, heavy)
    qq = np.broadcast_to(np.asarray(q, dtype=float)[:, None], codes.shape).ravel()
    out = np.zeros(codes.size)
    used: dict[int, SpecRules] = {}
    for code, idx in group_by_code(codes):
        sr = spec_rules(book, profile, hd, code, cache)
        used[code] = sr
        out[idx] = sr.required(qq[idx])
    return out.reshape(codes.shape), codes, used


def qmax_matrix(
    layout: Layout, rows: np.ndarray, hd: str, heavy: bool, profile: str, book: RuleBook,
    cache: dict,  # type: ignore[type-arg]
) -> tuple[np.ndarray, np.ndarray, dict[int, SpecRules]]:
    """Q_max per (row, target) for class ``hd`` in isolation: the inverse of :func:`required_matrix`."""
    codes = spec_codes(layout, rows, np.full(len(rows), heavy))
    whole = np.floor(layout.dist[rows] + DIST_TOL).ravel()
    out = np.full(codes.size, np.inf)
    used: dict[int, SpecRules] = {}
    for code, idx in group_by_code(codes):
        sr = spec_rules(book, profile, hd, code, cache)
        used[code] = sr
        finite = np.isfinite(whole[idx])
        vals = np.full(idx.size, np.inf)
        if finite.any():
            vals[finite] = sr.qmax(whole[idx][finite])
        out[idx] = vals
    return out.reshape(codes.shape), codes, used
