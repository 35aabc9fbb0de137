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
from coalition.depots.rulebook import ECM_TYPES, Resolved, RuleBook, Siting
from coalition.depots.schemas import Depot, ExposedSiteKind, StorehouseKind

# the rules per (profile, hazard division, spec code): one lookup per case
SpecCache = dict[tuple[str, str, int], SpecRules]

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
    # faces exist for earth-covered magazines only: computed for those rows alone
    is_ecm = pes_kind == _ECM
    ecm = np.flatnonzero(is_ecm)
    face_es = np.zeros((n, len(es)), dtype=np.int64)
    face_sh = np.zeros((n, n), dtype=np.int64)
    if ecm.size:
        if len(es):
            face_es[ecm] = faces(orient[ecm], sx[ecm], sy[ecm], nx[ecm], ny[ecm], half)
        face_sh[ecm] = faces(
            orient[ecm], sx[ecm], sy[ecm], np.broadcast_to(sx, (ecm.size, n)), np.broadcast_to(sy, (ecm.size, n)), half
        )
    face = np.concatenate([face_es, face_sh], axis=1)
    # the acceptor's face toward the donor: target j's face toward row i is face_sh[j, i]
    acc = np.where(is_ecm[None, :], face_sh.T, 0) if n else np.zeros((0, 0), dtype=np.int64)
    es_face = np.concatenate([np.zeros((n, len(es)), dtype=np.int64), acc], axis=1)
    es_type = np.array(
        [0] * len(es) + [ECM_TYPES.index(s.ecm_type) if s.kind == StorehouseKind.EARTH_COVERED else 0 for s in shs],
        dtype=np.int64,
    )
    trav = np.concatenate([np.broadcast_to(strav[:, None], (n, len(es))), strav[:, None] | strav[None, :]], axis=1)
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
    es_kind = [_ES_KINDS.index("above-ground") if e.kind == ExposedSiteKind.OTHER_PES else 0 for e in es] + [
        1 + int(k) for k in pes_kind
    ]
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
        face_rule=Resolved(face_rule) if face_rule else None,
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
    return (
        _RELATIONS[rel],
        _PES_KINDS[pk],
        FACE_NAMES[fc],
        _ES_KINDS[ek],
        FACE_NAMES[ef],
        ECM_TYPES[et],
        bool(tv),
        bool(hv),
    )


def spec_rules(book: RuleBook, profile: str, hd: str, code: int, cache: SpecCache) -> SpecRules:
    cache = book.__dict__.setdefault("_spec_cache", cache)  # one lookup per case for the book's lifetime
    key = (profile, hd, code)
    found = cache.get(key)
    if found is None:
        relation, pk, face, ek, ef, et, trav, heavy = decode_spec(code)
        found = cache[key] = spec_rules_for(book, profile, hd, relation, Siting(pk, face, ek, trav, ef, et), heavy)
    return found


def group_by_code(codes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(code, flat indices) for each distinct code of ``codes`` (one sort, no per-code scans)."""
    flat = codes.ravel()
    if flat.size == 0:
        return []
    order = np.argsort(flat, kind="stable")
    sorted_codes = flat[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    ends = np.r_[starts[1:], flat.size]
    return [(int(sorted_codes[s]), order[s:e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


def required_matrix(
    layout: Layout,
    rows: np.ndarray,
    q: np.ndarray,
    hd: str,
    heavy: np.ndarray,
    profile: str,
    book: RuleBook,
    cache: SpecCache,
) -> tuple[np.ndarray, np.ndarray, dict[int, SpecRules]]:
    """Required distance (rows × targets, whole metres, inf outside the validated range) for class
    ``hd`` holding NEQ ``q`` per row, the spec code per cell and the rules per code.

    Cube-root and square-root rules with fixed or fragment-envelope minimums (nearly every cell)
    are evaluated in one pass from per-code parameter arrays; the fragment envelope depends on the
    row's NEQ only, so it is computed once per row. Other rules (tables, pieces) go code by code
    through :meth:`SpecRules.required`, the same function, so the two paths cannot disagree."""
    from coalition.depots.qd import _EPS, minimum_distance

    codes = spec_codes(layout, rows, heavy)
    q = np.asarray(q, dtype=float)
    present = np.flatnonzero(np.bincount(codes.ravel(), minlength=MAX_CODE))
    used = {int(c): spec_rules(book, profile, hd, int(c), cache) for c in present.tolist()}
    size = int(present.max()) + 1 if present.size else 1
    ftype = np.full(size, -1, dtype=np.int64)
    kk = np.ones(size)
    fixed = np.zeros(size)
    env = np.zeros(size, dtype=bool)
    vmax = np.full(size, np.inf)
    slow: list[int] = []
    env_rule = None
    tables = _table_arrays(used, size)
    for code, sr in used.items():
        rec = sr.rule.record
        if rec.formula not in ("cube_root", "sqrt", "fixed", "none", "table"):
            slow.append(code)
            continue
        ftype[code] = {"cube_root": 0, "sqrt": 1, "fixed": 2, "none": 3, "table": 4}[rec.formula]
        kk[code] = rec.k_si or 1.0
        vmax[code] = rec.valid_max_kg if rec.valid_max_kg is not None else np.inf
        if rec.formula == "fixed":
            fixed[code] = float(rec.min_m)
        for m in sr.minimums if rec.formula != "none" else ():
            fixed[code] = max(fixed[code], m.record.metres)
            if m.record.function == "fragment-envelope":
                env[code] = True
                env_rule = m.record
    qq = np.broadcast_to(q[:, None], codes.shape)
    ft = ftype[codes]
    with np.errstate(invalid="ignore"):
        exact = np.where(ft == 0, kk[codes] * np.cbrt(qq), np.where(ft == 1, kk[codes] * np.sqrt(qq), 0.0))
    if tables is not None:
        row_q, row_d = tables
        td = np.full(codes.shape, np.inf)
        for j in range(row_q.shape[1] - 1, -1, -1):  # 'not over': the first row at or above the NEQ
            td = np.where(qq <= row_q[codes, j], row_d[codes, j], td)
        exact = np.where(ft == 4, td, exact)
    exact = np.maximum(exact, fixed[codes])
    if env_rule is not None:
        rows_env = minimum_distance(env_rule.model_copy(update={"min_m": 0.0, "min_ft": None}), q, book)
        exact = np.where(env[codes], np.maximum(exact, rows_env[:, None]), exact)
    exact = np.where(qq > vmax[codes] * (1 + 1e-12), np.inf, exact)
    fin = np.isfinite(exact)
    out = np.where(fin, np.ceil(np.where(fin, exact, 0.0) - _EPS), np.inf)
    out = np.where(qq > 0, out, 0.0)
    if slow:
        flat_codes = codes.ravel()
        flat_q = qq.ravel()
        flat = out.ravel().copy()
        mask = np.isin(flat_codes, slow)
        for code, idx in group_by_code(np.where(mask, flat_codes, -1)):
            if code < 0:
                continue
            flat[idx] = used[code].required(flat_q[idx])
        out = flat.reshape(codes.shape)
    return out, codes, used


def _table_arrays(used: dict[int, SpecRules], size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Table rules as padded (code, row) arrays of 'not over' NEQ and distance (padding: inf NEQ,
    inf distance), so whole matrices are evaluated without a loop over codes."""
    tabs = {c: sr.rule.record.rows for c, sr in used.items() if sr.rule.record.formula == "table"}
    if not tabs:
        return None
    width = max(len(r) for r in tabs.values())
    row_q = np.full((size, width), np.inf)
    row_d = np.full((size, width), np.inf)
    for c, rows in tabs.items():
        for j, (rq, rd) in enumerate(rows):
            row_q[c, j], row_d[c, j] = rq, rd
    return row_q, row_d


def qmax_matrix(
    layout: Layout,
    rows: np.ndarray,
    hd: str,
    heavy: bool,
    profile: str,
    book: RuleBook,
    cache: SpecCache,
) -> tuple[np.ndarray, np.ndarray, dict[int, SpecRules]]:
    """Q_max per (row, target) for class ``hd`` in isolation: the inverse of :func:`required_matrix`
    (cube/square-root rules with fixed or envelope minimums in one pass; the envelope's inverse
    depends on the distance only, so it is computed once per distinct whole-metre distance)."""
    from coalition.depots.qd import fragment_row_qmax

    memo = layout.__dict__.setdefault("_qmax_memo", {})
    key = rows.tobytes()
    if key not in memo:  # shared by every HD of one licence computation: codes, distances, envelope
        base = spec_codes(layout, rows, np.zeros(len(rows), dtype=bool))
        whole0 = np.floor(layout.dist[rows] + DIST_TOL)
        finite = np.isfinite(whole0)
        uniq, inv = np.unique(np.where(finite, whole0, -1.0), return_inverse=True)
        env_q = np.full(uniq.shape, np.inf)
        for f in book.fragment_functions:
            env_q = np.minimum(env_q, fragment_row_qmax(f, uniq + 1e-9))
        env_q = np.where(uniq < 0, np.inf, env_q)  # itself: no distance
        memo[key] = (base, whole0, env_q[inv.reshape(whole0.shape)])
    base, whole, env_cells = memo[key]
    codes = base | 1 if heavy else base  # the heavy-case bit is the lowest bit of a code
    present = np.flatnonzero(np.bincount(codes.ravel(), minlength=MAX_CODE))
    used = {int(c): spec_rules(book, profile, hd, int(c), cache) for c in present.tolist()}
    size = int(present.max()) + 1 if present.size else 1
    ftype = np.full(size, -1, dtype=np.int64)
    kk = np.ones(size)
    fixed = np.zeros(size)
    env = np.zeros(size, dtype=bool)
    vmax = np.full(size, np.inf)
    slow: list[int] = []
    tables = _table_arrays(used, size)
    for code, sr in used.items():
        rec = sr.rule.record
        if rec.formula not in ("cube_root", "sqrt", "fixed", "none", "table"):
            slow.append(code)
            continue
        ftype[code] = {"cube_root": 0, "sqrt": 1, "fixed": 2, "none": 3, "table": 4}[rec.formula]
        kk[code] = rec.k_si or 1.0
        vmax[code] = rec.valid_max_kg if rec.valid_max_kg is not None else np.inf
        if rec.formula == "fixed":
            fixed[code] = float(rec.min_m)
        for m in sr.minimums if rec.formula != "none" else ():
            fixed[code] = max(fixed[code], m.record.metres)
            env[code] = env[code] or m.record.function == "fragment-envelope"
    ft = ftype[codes]
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = whole / kk[codes]
        out = np.where(ft == 0, ratio * ratio * ratio, np.where(ft == 1, ratio * ratio, np.inf))
    if tables is not None:
        row_q, row_d = tables
        tq = np.zeros(whole.shape)
        for j in range(row_q.shape[1]):  # 'not over' rows: the last row whose distance fits
            tq = np.where(row_d[codes, j] <= whole + 1e-9, np.maximum(tq, row_q[codes, j]), tq)
        out = np.where(ft == 4, tq, out)
    out = np.minimum(out, vmax[codes])
    out = np.where(whole + 1e-9 >= fixed[codes], out, 0.0)
    if env.any():
        out = np.where(env[codes], np.minimum(out, env_cells), out)
    out = np.where(np.isfinite(whole), out, np.inf)
    if slow:
        flat_codes, flat_whole, flat = codes.ravel(), whole.ravel(), out.ravel().copy()
        mask = np.isin(flat_codes, slow)
        for code, idx in group_by_code(np.where(mask, flat_codes, -1)):
            if code < 0:
                continue
            fin = np.isfinite(flat_whole[idx])
            vals = np.full(idx.size, np.inf)
            if fin.any():
                vals[fin] = used[code].qmax(flat_whole[idx][fin])
            flat[idx] = vals
        out = flat.reshape(codes.shape)
    return out, codes, used
