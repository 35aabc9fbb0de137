"""Explosives limit licences computed from the layout (pure, numpy).

For every storehouse and HD: Q_max = min over exposed sites and other storehouses of (d/k)³ (or
the table/fixed equivalent), zero where the actual distance is below the fixed fragment minimum,
naming the controlling site. Each HD is computed in isolation, as the UN SaferGuard ELL calculator
does (reference §7); the inventory check then applies aggregation on top. The inversion uses the
same rounding rule as the Q-D check (required distance rounded up to a whole metre), so a storehouse
filled to Q_max passes the check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from coalition.depots.qd import formula_qmax
from coalition.depots.rulebook import RuleBook, load_rulebook
from coalition.depots.layout import _RELATIONS, DIST_TOL, Layout, build_layout, code_rules, spec_codes
from coalition.depots.schemas import Depot, StorehouseKind

LICENCE_CLASSES: tuple[str, ...] = ("1.1", "1.2", "1.3", "1.4")
_EPS = 1e-9


@dataclass(frozen=True)
class LicenceLine:
    hd: str
    q_max_kg: float  # inf = not limited by any site
    controlling: str | None
    relation: str | None
    distance_m: float | None
    basis: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "hd": self.hd,
            "q_max_kg": None if math.isinf(self.q_max_kg) else round(self.q_max_kg, 1),
            "controlling": self.controlling,
            "relation": self.relation,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "basis": list(self.basis),
            "unverified": list(self.unverified),
            "note": self.note,
        }


@dataclass
class StorehouseLicence:
    depot: str
    storehouse: str
    kind: str
    profile: str
    lines: dict[str, LicenceLine]
    issued: dict[str, float] | None
    heavy_case_1_1: LicenceLine | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def unverified(self) -> tuple[str, ...]:
        out = {u for line in self.lines.values() for u in line.unverified}
        return tuple(sorted(out))

    def as_dict(self) -> dict[str, object]:
        return {
            "depot": self.depot,
            "storehouse": self.storehouse,
            "kind": self.kind,
            "profile": self.profile,
            "computed": {hd: line.as_dict() for hd, line in self.lines.items()},
            "heavy_case_1_1": self.heavy_case_1_1.as_dict() if self.heavy_case_1_1 else None,
            "issued_neq_kg": self.issued,
            "notes": self.notes,
            "unverified": list(self.unverified),
        }


def qmax_matrix(
    layout: Layout, hd: str, heavy: bool, profile: str, book: RuleBook, cache: dict,  # type: ignore[type-arg]
    rows: np.ndarray | None = None, codes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, dict]:  # type: ignore[type-arg]
    """Q_max per (row, target) for class ``hd``, the spec code per cell, and the rules per code.

    ``codes`` (from :func:`spec_codes` with heavy=False) may be passed in to share it between
    classes; the heavy-case bit is the lowest bit of a code.
    """
    n = layout.dist.shape[0]
    rows = np.arange(n) if rows is None else rows
    if codes is None:
        codes = spec_codes(layout, rows, np.zeros(len(rows), dtype=bool))
    if heavy:
        codes = codes | 1
    if codes.size == 0:
        return np.full(codes.shape, np.inf), codes, {}
    cr = code_rules(book, profile, hd, codes, cache)
    whole = np.floor(layout.dist[rows] + DIST_TOL)
    ft = cr.ftype[codes]
    qm = np.full(codes.shape, np.inf)
    cube = ft == 0
    if cube.any():
        r = whole[cube] / cr.k[codes[cube]]
        qm[cube] = r * r * r
    sq = ft == 1
    if sq.any():
        r = whole[sq] / cr.k[codes[sq]]
        qm[sq] = r * r
    tab = ft == 4
    if tab.any():
        sub_codes, sub_whole = codes[tab], whole[tab]
        out = np.empty(sub_codes.shape)
        for code in np.unique(sub_codes).tolist():
            mask = sub_codes == code
            out[mask] = formula_qmax(cr.used[code].rule.record, sub_whole[mask])
        qm[tab] = out
    if np.isfinite(cr.vmax[cr.present]).any():
        np.minimum(qm, cr.vmax[codes], out=qm)
    # inside a fixed distance ('fixed' rule) or a minimum nothing may be stored
    need_by_code = np.where(cr.ftype == 3, 0.0, np.ceil(cr.minimum - _EPS))
    qm[whole < need_by_code[codes]] = 0.0
    return qm, codes, cr.used


def compute_licences(
    depot: Depot, *, book: RuleBook | None = None, layout: Layout | None = None
) -> list[StorehouseLicence]:
    """The licence each storehouse of ``depot`` could hold, HD by HD, from its layout."""
    book = book or load_rulebook()
    layout = layout or build_layout(depot, book)
    profile = depot.profile
    cache: dict = {}  # type: ignore[type-arg]
    n, t = layout.dist.shape
    underground = np.array([s.kind == StorehouseKind.UNDERGROUND for s in depot.storehouses], dtype=bool)
    results: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray, dict]] = {}  # type: ignore[type-arg]
    codes = spec_codes(layout, np.arange(n), np.zeros(n, dtype=bool))
    for hd in LICENCE_CLASSES:
        results[(hd, False)] = qmax_matrix(layout, hd, False, profile, book, cache, codes=codes)
    results[("1.1", True)] = qmax_matrix(layout, "1.1", True, profile, book, cache, codes=codes)

    def line(hd: str, heavy: bool, i: int, note: str = "") -> LicenceLine:
        qm, inv, used = results[(hd, heavy)]
        if t == 0:
            return LicenceLine(hd, math.inf, None, None, None, note="no exposed sites or other storehouses")
        c = int(np.argmin(qm[i]))
        q = float(qm[i, c])
        sr = used.get(int(inv[i, c]))
        d = float(layout.dist[i, c])
        if math.isinf(q):
            return LicenceLine(hd, q, None, None, None, basis=sr.labels if sr else (),
                               unverified=sr.unverified if sr else (), note=note or "not limited by any site")
        rec = sr.rule.record if sr is not None else None
        cap = None
        if rec is not None and rec.formula == "table":
            cap = rec.rows[-1][0]
        elif rec is not None and rec.valid_max_kg is not None:
            cap = rec.valid_max_kg
        if cap is not None and q >= cap and np.all(qm[i] >= cap):
            return LicenceLine(hd, float(cap), None, None, None, basis=sr.labels if sr else (),
                               unverified=sr.unverified if sr else (),
                               note=f"no site limits it below {cap:,.0f} kg, the top of {rec.id} (no rule beyond)")
        if q == 0 and sr is not None and sr.minimum is not None and d < sr.minimum.record.metres:
            note = (note + "; " if note else "") + (
                f"{layout.target_ids[c]} is inside the {sr.minimum.record.metres:g} m minimum: "
                f"HD {hd} cannot be licensed here")
        return LicenceLine(
            hd=hd, q_max_kg=math.floor(q * 10 + _EPS) / 10 if q < 1e12 else q,
            controlling=layout.target_ids[c], relation=_RELATIONS[int(layout.target_relation[c])],
            distance_m=d, basis=sr.labels if sr else (), unverified=sr.unverified if sr else (), note=note,
        )

    out: list[StorehouseLicence] = []
    for i, sh in enumerate(depot.storehouses):
        lines = {}
        for hd in LICENCE_CLASSES:
            if hd == "1.3" and underground[i]:
                base = line("1.1", False, i)
                agg = book.aggregation_rules(profile).get("underground-as-1.1", [])
                lines[hd] = LicenceLine(
                    "1.3", base.q_max_kg, base.controlling, base.relation, base.distance_m,
                    basis=(*base.basis, *(r.label for r in agg)),
                    unverified=(*base.unverified, *(r.label for r in agg if r.unverified)),
                    note="underground: HD 1.3 is treated as 1.1")
            else:
                lines[hd] = line(hd, False, i)
        heavy = line("1.1", True, i, "with heavy-case HD 1.1 items")
        notes: list[str] = []
        if sh.licensed_neq_kg is not None:
            for hd, issued in sh.licensed_neq_kg.items():
                comp = lines[hd].q_max_kg
                if issued > comp + 1e-6:
                    notes.append(
                        f"issued HD {hd} limit {issued:,.0f} kg exceeds the {math.floor(comp):,} kg the layout supports "
                        f"(controlled by {lines[hd].controlling})")
        out.append(StorehouseLicence(
            depot=depot.id, storehouse=sh.id, kind=sh.kind.value, profile=profile, lines=lines,
            issued=dict(sh.licensed_neq_kg) if sh.licensed_neq_kg is not None else None,
            heavy_case_1_1=heavy if heavy.q_max_kg != lines["1.1"].q_max_kg else None, notes=notes,
        ))
    return out


def licence_sheet(depot: Depot, lic: StorehouseLicence, *, cgs: tuple[str, ...] = ()) -> str:
    """A printable explosives limit licence summary (markdown) for one storehouse.

    Fields follow the licence content recalled in reference §7 (IATG 02.30, status U): identity,
    permitted HDs, maximum NEQ per HD with the controlling exposed site and distance, conditions,
    issuing authority and review date (left for the authority to fill in: never invented here).
    """
    sh = depot.storehouse(lic.storehouse)
    assert sh is not None
    out = [
        f"# Explosives limit licence — storehouse {sh.id}",
        "",
        f"- Depot: {depot.name} (`{depot.id}`) at `{depot.hub}`" + (" — ILLUSTRATIVE" if depot.illustrative else ""),
        f"- Storehouse: `{sh.id}` {sh.name} — {sh.kind.value}"
        + (", traversed" if sh.traversed else "")
        + (f", door facing {sh.orientation_deg:g}°" if sh.kind.value == "earth-covered" else ""),
        f"- Position (local metres): x {sh.x:g}, y {sh.y:g}; floor capacity {sh.capacity_pallets} pallets",
        f"- Rule profile: `{lic.profile}`; rounding: required distance rounded up to whole metres",
        "",
        "| HD | maximum NEQ (kg) from the layout | controlling exposed site | relation | distance (m) | issued limit (kg) |",
        "|---|---|---|---|---|---|",
    ]
    for hd, line in lic.lines.items():
        issued = "not recorded" if lic.issued is None else f"{lic.issued.get(hd, 0.0):,.0f}"  # type: ignore[call-overload]
        qmax = "not limited by any site" if math.isinf(line.q_max_kg) else f"{math.floor(line.q_max_kg):,}"
        dist = "—" if line.distance_m is None else f"{line.distance_m:,.1f}"
        out.append(f"| {hd} | {qmax} | {line.controlling or '—'} | {line.relation or '—'} | {dist} | {issued} |")
    if lic.heavy_case_1_1 is not None:
        h = lic.heavy_case_1_1
        out.append(f"| 1.1 heavy-case | {math.floor(h.q_max_kg):,} | {h.controlling or '—'} | {h.relation or '—'} | "
                   f"{'—' if h.distance_m is None else f'{h.distance_m:,.1f}'} | |")
    out += ["", "Conditions:", "",
            "- Mixed storage: HD 1.1 with 1.2/1.3 counts as HD 1.1 in total; HD 1.2 with 1.3 keep their own "
            "limits; HD 1.4 is not added (aggregation records of the rulebook)."]
    if cgs:
        out.append(f"- Compatibility groups held at issue: {', '.join(cgs)}")
    asserted = sorted(depot.asserted(sh.id))
    if asserted:
        out.append(f"- Footnote conditions asserted by the storage plan: {', '.join(asserted)}")
    for note in lic.notes:
        out.append(f"- WARNING: {note}")
    if lic.unverified:
        out.append(f"- Unverified defaults used: {', '.join(lic.unverified)}")
    out += ["", "Issuing technical authority: ____________________    Review date: ____________", ""]
    return "\n".join(out)
