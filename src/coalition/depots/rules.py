"""Pure explosives-safety checks of a storage plan (no database, no I/O).

Entry points:

Hazard-division aggregation in one PES (reference §4) is :mod:`coalition.depots.aggregation`;
stock summed per storehouse as arrays is :mod:`coalition.depots.stock`.
* :func:`check_network` / :func:`check_depot` — every storehouse: NEQ by HD against its licence
  (the aggregate and each HD's own), compatibility mixing (scoped, counted footnotes), floor
  capacity, and quantity-distance to every exposed site and every other storehouse (IMD) as the
  maximum of the aggregated rule and each HD's own rule and minimum (monotone), with every value
  that is not primary-verified named; an unlicensed storehouse and an unsurveyed depot are
  violations.
* :func:`check_prospective` — the prospective state of one storehouse (current − leaving +
  arriving), used by the one safety gate (:mod:`coalition.depots.gate`) for placement and every
  stock-changing custody event.

The per-depot evaluation is vectorised with numpy: stock is summed with ``bincount`` and every
storehouse × target pair is evaluated by rule group, so a network of 500 storehouses and a million
stock lines checks in well under two seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coalition.depots.aggregation import RAW_CLASSES, Aggregate, aggregate
from coalition.depots.layout import _RELATIONS, DIST_TOL, Layout, SpecCache, build_layout, required_matrix
from coalition.depots.mixing import PairResult, check_set
from coalition.depots.qd import FACE_NAMES, SpecRules
from coalition.depots.rulebook import RuleBook, load_rulebook
from coalition.depots.schemas import (
    Assertion,
    Catalogue,
    Depot,
    DepotNetwork,
    Finding,
    ItemType,
    Severity,
    StockLine,
    Storehouse,
    StorehouseKind,
)
from coalition.depots.stock import StockSummary, summarise

# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


@dataclass
class StorehouseReport:
    depot: str
    storehouse: str
    kind: str
    profile: str
    neq_by_hd: dict[str, float]
    aggregate: Aggregate
    licensed: dict[str, float] | None
    pallets: float
    capacity: int
    mixing: list[PairResult]
    findings: list[Finding]
    tightest: Finding | None = None
    unverified: tuple[str, ...] = ()

    @property
    def compliant(self) -> bool:
        return not any(f.is_error for f in self.findings)

    @property
    def mixing_ok(self) -> bool:
        return all(p.allowed for p in self.mixing)

    def as_dict(self) -> dict[str, object]:
        return {
            "depot": self.depot,
            "storehouse": self.storehouse,
            "kind": self.kind,
            "profile": self.profile,
            "compliant": self.compliant,
            "neq_by_hd": {k: round(v, 3) for k, v in self.neq_by_hd.items() if v > 0},
            "aggregate": {
                "components": [{"hd": c, "neq_kg": round(q, 3)} for c, q in self.aggregate.components],
                "licence_neq": {k: round(v, 3) for k, v in self.aggregate.licence_neq.items()},
                "basis": list(self.aggregate.basis),
            },
            "licensed_neq_kg": self.licensed,
            "pallets": self.pallets,
            "capacity_pallets": self.capacity,
            "mixing_ok": self.mixing_ok,
            "mixing": [p.as_dict() for p in self.mixing],
            "findings": [f.model_dump(mode="json") for f in self.findings],
            "tightest": self.tightest.model_dump(mode="json") if self.tightest else None,
            "unverified": list(self.unverified),
        }


@dataclass
class CheckReport:
    """A depot check: each storehouse's figures and every finding (``errors`` are the failures)."""

    storehouses: list[StorehouseReport]
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def compliant(self) -> bool:
        return not self.errors

    @property
    def unverified(self) -> tuple[str, ...]:
        return tuple(sorted({u for r in self.storehouses for u in r.unverified}))

    def as_dict(self) -> dict[str, object]:
        return {
            "compliant": self.compliant,
            "errors": len(self.errors),
            "warnings": sum(f.severity == Severity.WARNING for f in self.findings),
            "unverified_defaults": list(self.unverified),
            "storehouses": [r.as_dict() for r in self.storehouses],
            "findings": [f.model_dump(mode="json") for f in self.findings],
        }


# ---------------------------------------------------------------------------------------------
# The per-depot engine (geometry and rule gathering live in coalition.depots.layout)
# ---------------------------------------------------------------------------------------------


_QD_CLASSES = ("1.1", "1.2", "1.3", "1.4", "1.4S")


@dataclass
class Governing:
    """Per (storehouse, target): which Q-D component governs the required distance (arrays)."""

    cls: np.ndarray  # index into _QD_CLASSES, -1 = none
    q: np.ndarray
    code: np.ndarray
    used: dict[str, dict[int, SpecRules]]

    def get(self, i: int, c: int) -> tuple[str, float, SpecRules] | None:
        k = int(self.cls[i, c])
        if k < 0:
            return None
        hd = _QD_CLASSES[k]
        return hd, float(self.q[i, c]), self.used[hd][int(self.code[i, c])]


def _qd_matrix(
    layout: Layout,
    aggs: list[Aggregate],
    rows_wanted: set[int] | None,
    book: RuleBook,
    profile: str,
) -> tuple[np.ndarray, Governing, list[set[str]]]:
    """Required distance per (storehouse, target): the maximum over every Q-D component of the
    storehouse (the aggregated 1.1 and each HD's own rule on its own NEQ), with the governing
    component per cell and the unverified records each row rests on."""
    from coalition.depots.layout import MAX_CODE

    n, t = layout.dist.shape
    required = np.zeros((n, t))
    gov = Governing(np.full((n, t), -1, dtype=np.int8), np.zeros((n, t)), np.zeros((n, t), dtype=np.int64), {})
    row_unverified: list[set[str]] = [set() for _ in range(n)]
    cache: SpecCache = {}
    if t == 0:
        return required, gov, row_unverified
    for ci, hd in enumerate(_QD_CLASSES):
        picked = [
            (i, q, h)
            for i, a in enumerate(aggs)
            for c, q, h in a.qd_components
            if c == hd and (rows_wanted is None or i in rows_wanted)
        ]
        if not picked:
            continue
        rows = np.array([i for i, _, _ in picked], dtype=np.int64)
        q = np.array([x for _, x, _ in picked], dtype=float)
        heavy = np.array([h for _, _, h in picked], dtype=bool)
        req, codes, used = required_matrix(layout, rows, q, hd, heavy, profile, book, cache)
        gov.used[hd] = used
        # which records each row rests on: one pass over the distinct (row, code) pairs
        keys = np.repeat(np.arange(len(rows)), t) * MAX_CODE + codes.ravel()
        seen = np.zeros(len(rows) * MAX_CODE, dtype=bool) if len(rows) * MAX_CODE <= 50_000_000 else None
        if seen is not None:
            seen[keys] = True
            pairs = np.flatnonzero(seen)
        else:
            pairs = np.unique(keys)
        labels_of: dict[int, tuple[str, ...]] = {}
        for key in pairs.tolist():
            r, code = divmod(key, MAX_CODE)
            sr = used[code]
            if sr.rule.record.formula == "piecewise":
                row_unverified[int(rows[r])].update(sr.unverified_at(float(q[r])))
            else:
                if code not in labels_of:
                    labels_of[code] = sr.unverified_at(0.0)
                row_unverified[int(rows[r])].update(labels_of[code])
        current = required[rows]
        better = req > current
        for arr, value in (
            (gov.cls, np.broadcast_to(ci, req.shape)),
            (gov.q, np.broadcast_to(q[:, None], req.shape)),
            (gov.code, codes),
        ):
            sub = arr[rows]
            sub[better] = value[better]
            arr[rows] = sub
        required[rows] = np.maximum(current, req)
    for c, notes in enumerate(layout.target_notes):
        if notes:
            for i in np.flatnonzero(required[:, c] > 0).tolist():
                row_unverified[i].update(r.label for r in notes if r.unverified)
    # the geometry conventions every distance rests on: the measurement point, and the face sector
    # wherever an earth-covered magazine's face (its own, or an acceptor's) chose the rule
    geo = geometry_flags(layout, book)
    for i in np.flatnonzero((required > 0).any(axis=1)).tolist():
        row_unverified[i].update(geo(i, None))
    return required, gov, row_unverified


def geometry_flags(layout: Layout, book: RuleBook) -> Callable[[int, int | None], tuple[str, ...]]:
    """flags(row, target or None) → the geometry records (not primary-verified) a distance uses."""
    meas = book.geometry.get("geom.measurement")
    face = book.geometry.get("geom.ecm-front-sector")
    base = tuple(r.id for r in (meas,) if r is not None and r.status.value != "V-P")
    sector = tuple(r.id for r in (face,) if r is not None and r.status.value != "V-P")

    def flags(i: int, c: int | None) -> tuple[str, ...]:
        faced = (
            (layout.face[i] > 0).any() or (layout.es_face[i] > 0).any()
            if c is None
            else (layout.face[i, c] > 0 or layout.es_face[i, c] > 0)
        )
        return base + (sector if faced else ())

    return flags


def _licence_findings(depot: Depot, sh: Storehouse, agg: Aggregate) -> list[Finding]:
    """The licence test: no licence = unlicensed (a violation); each counted HD within its limit."""
    out: list[Finding] = []
    if not agg.licence_neq:
        return out
    if sh.licensed_neq_kg is None:
        held = ", ".join(f"HD {hd} {q:,.1f} kg" for hd, q in agg.licence_neq.items())
        return [
            Finding(
                rule="licence",
                severity=Severity.ERROR,
                depot=depot.id,
                storehouse=sh.id,
                neq_kg=max(agg.licence_neq.values()),
                limit_kg=0.0,
                message=f"no explosives limit licence recorded: the storehouse is unlicensed and may hold "
                f"nothing, but holds {held}",
            )
        ]
    for hd, qn in agg.licence_neq.items():
        limit = (sh.licensed_kg() or {}).get(hd)
        if limit is None:
            out.append(
                Finding(
                    rule="licence",
                    severity=Severity.ERROR,
                    depot=depot.id,
                    storehouse=sh.id,
                    hd=hd,
                    neq_kg=qn,
                    limit_kg=0.0,
                    basis=agg.basis,
                    unverified=agg.unverified,
                    message=f"holds {qn:,.1f} kg counted as HD {hd} but the licence does not permit HD {hd}",
                )
            )
        elif qn > limit + 1e-9:
            out.append(
                Finding(
                    rule="licence",
                    severity=Severity.ERROR,
                    depot=depot.id,
                    storehouse=sh.id,
                    hd=hd,
                    neq_kg=qn,
                    limit_kg=limit,
                    basis=agg.basis,
                    unverified=agg.unverified,
                    message=f"HD {hd} NEQ {qn:,.1f} kg exceeds the licensed {limit:,.1f} kg"
                    + (" (aggregated)" if hd == "1.1" and len(agg.licence_neq) > 1 else ""),
                )
            )
    return out


def survey_finding(depot: Depot) -> Finding | None:
    """A depot with no surveyed exposed sites cannot be certified (missing data is never permissive)."""
    if depot.exposed_sites:
        return None
    return Finding(
        rule="survey",
        severity=Severity.ERROR,
        depot=depot.id,
        message=f"depot {depot.id} records no surveyed exposed sites: it is not certified, since quantity-distance "
        "to anything outside it cannot be checked (survey the inhabited buildings, routes and "
        "workshops around it)",
    )


@dataclass(frozen=True, eq=False)
class StorehouseCovers:
    """covers(fn, item_a, item_b): one assertion of ``fn`` for this storehouse names both items
    (directly, or through lots of them held here). ``key``: storehouses with the same key decide
    alike (the same item-only assertions), so placement shares its cache between them."""

    assertions: tuple[Assertion, ...]
    summary: StockSummary
    row: int
    key: Hashable

    def _names(self, a: Assertion, item: str | None) -> bool:
        if item is None:
            return False
        return item in a.items or bool(a.lots and set(a.lots) & self.summary.lots_held(self.row, item))

    def __call__(self, fn: str, x: str | None, y: str | None) -> bool:
        return any(a.footnote == fn and self._names(a, x) and self._names(a, y) for a in self.assertions)


def covers_for(depot: Depot, storehouse: str, summary: StockSummary, row: int) -> StorehouseCovers:
    """The assertion test of one storehouse (see :class:`StorehouseCovers`)."""
    assertions = depot.assertions_for(storehouse)
    key: Hashable = ("items", assertions) if not any(a.lots for a in assertions) else (storehouse, id(summary))
    return StorehouseCovers(assertions, summary, row, key)


def count_findings(
    depot: Depot, storehouse: str, summary: StockSummary, row: int, book: RuleBook, items: Mapping[str, ItemType]
) -> list[Finding]:
    """Footnotes that require matching numbers (fn1: fuzes to rounds) are counted, per assertion."""
    out: list[Finding] = []
    for a in depot.assertions_for(storehouse):
        fn = book.footnotes.get(a.footnote)
        if fn is None or not fn.counted:
            continue
        held = {
            it: u
            for (r, it), u in summary.units.items()
            if r == row and (it in a.items or (a.lots and set(a.lots) & summary.lots_held(r, it)))
        }
        fuzes = sum(u for it, u in held.items() if items.get(it) is not None and items[it].cg == "B")
        rounds = sum(u for it, u in held.items() if items.get(it) is not None and items[it].cg != "B")
        if held and fuzes != rounds:
            out.append(
                Finding(
                    rule="mixing",
                    severity=Severity.ERROR,
                    depot=depot.id,
                    storehouse=storehouse,
                    basis=(fn.id,),
                    unverified=(fn.id,) if fn.status.value != "V-P" else (),
                    message=f"{fn.id} asserted for {', '.join(sorted(held))}: {fn.text} requires matching numbers, "
                    f"but {fuzes:,.0f} CG B components are held against {rounds:,.0f} rounds",
                )
            )
    return out


def evaluate_depot(
    depot: Depot,
    summary: StockSummary,
    *,
    book: RuleBook | None = None,
    only: set[str] | None = None,
    layout: Layout | None = None,
    items: Mapping[str, ItemType] | None = None,
) -> list[StorehouseReport]:
    """Check every storehouse of ``depot`` (rows of ``summary`` follow ``depot.storehouses``)."""
    book = book or load_rulebook()
    profile = depot.profile
    layout = layout or build_layout(depot, book)
    shs = depot.storehouses
    aggs: list[Aggregate] = []
    for i, sh in enumerate(shs):
        neq = {c: float(summary.neq[i, j]) for j, c in enumerate(RAW_CLASSES)}
        heavy = {c: bool(summary.heavy[i, j]) for j, c in enumerate(RAW_CLASSES)}
        aggs.append(
            aggregate(
                neq, underground=sh.kind == StorehouseKind.UNDERGROUND, profile=profile, book=book, heavy_by_hd=heavy
            )
        )
    wanted = None if only is None else {i for i, sh in enumerate(shs) if sh.id in only}
    required, governing, row_unverified = _qd_matrix(layout, aggs, wanted, book, profile)

    reports: list[StorehouseReport] = []
    for i, sh in enumerate(shs):
        if only is not None and sh.id not in only:
            continue
        agg = aggs[i]
        unverified = set(row_unverified[i]) | set(agg.unverified)
        findings = _licence_findings(depot, sh, agg)
        # floor capacity
        if summary.pallets[i] > sh.capacity_pallets:
            findings.append(
                Finding(
                    rule="capacity",
                    severity=Severity.ERROR,
                    depot=depot.id,
                    storehouse=sh.id,
                    message=f"{summary.pallets[i]:.0f} pallets exceed the floor capacity of {sh.capacity_pallets}",
                )
            )
        pairs = _mixing(depot, sh, summary, i, book, findings, unverified)
        if items is not None and summary.units:
            findings += count_findings(depot, sh.id, summary, i, book, items)
        tightest = _qd_findings(layout, i, required, governing, agg, findings)
        for f in findings:
            unverified.update(f.unverified)
        reports.append(
            StorehouseReport(
                depot=depot.id,
                storehouse=sh.id,
                kind=sh.kind.value,
                profile=profile,
                neq_by_hd={c: float(summary.neq[i, j]) for j, c in enumerate(RAW_CLASSES)},
                aggregate=agg,
                licensed=sh.licensed_kg(),
                pallets=float(summary.pallets[i]),
                capacity=sh.capacity_pallets,
                mixing=pairs,
                findings=findings,
                tightest=tightest,
                unverified=tuple(sorted(unverified)),
            )
        )
    return reports


def _mixing(
    depot: Depot,
    sh: Storehouse,
    summary: StockSummary,
    i: int,
    book: RuleBook,
    findings: list[Finding],
    unverified: set[str],
) -> list[PairResult]:
    """Compatibility mixing of storehouse row ``i``: footnote assertions are scoped to the items
    they name and matching numbers are counted; a refused pair is an error finding."""
    pairs = check_set(
        summary.entries[i],
        depot.asserted(sh.id),
        profile=depot.profile,
        book=book,
        covers=covers_for(depot, sh.id, summary, i),
    )
    for p in pairs:
        if p.unverified:
            unverified.add(p.record)
        if not p.allowed:
            findings.append(
                Finding(
                    rule="mixing",
                    severity=Severity.ERROR,
                    depot=depot.id,
                    storehouse=sh.id,
                    message=f"{p.a.label()} with {p.b.label()}: {p.reason}",
                    basis=(p.record,),
                    unverified=(p.record,) if p.unverified else (),
                )
            )
    return pairs


def _qd_findings(
    layout: Layout,
    i: int,
    required: np.ndarray,
    governing: Governing,
    agg: Aggregate,
    findings: list[Finding],
) -> Finding | None:
    """Quantity-distance of storehouse row ``i`` to every target: each shortfall is an error
    finding; returns the tightest relation (met, or the first shortfall)."""
    tightest: Finding | None = None
    if agg.qd_components and layout.dist.shape[1]:
        with np.errstate(invalid="ignore"):  # inf - inf: itself, never a target
            margin = np.nan_to_num(layout.dist[i] + DIST_TOL - required[i], nan=np.inf)
        for c in np.nonzero(margin < 0)[0].tolist():
            findings.append(_qd_finding(layout, i, c, required[i, c], governing, agg, Severity.ERROR))
        with np.errstate(divide="ignore", invalid="ignore"):
            finite = np.where(required[i] > 0, (layout.dist[i] + DIST_TOL) / required[i], np.inf)
        c = int(np.argmin(finite))
        if np.isfinite(finite[c]) and finite[c] >= 1:
            tightest = _qd_finding(layout, i, c, required[i, c], governing, agg, Severity.INFO)
        elif margin.size and (margin < 0).any():
            tightest = next(f for f in findings if f.rule.startswith("qd."))
    return tightest


def _qd_finding(
    layout: Layout,
    i: int,
    c: int,
    req: float,
    governing: Governing,
    agg: Aggregate,
    severity: Severity,
) -> Finding:
    depot = layout.depot
    sh = depot.storehouses[i]
    relation = _RELATIONS[int(layout.target_relation[c])]
    hd, q, sr = governing.get(i, c) or (agg.qd_components[0][0], agg.qd_components[0][1], None)
    geo = geometry_flags(layout, load_rulebook() if sr is None else sr.book)(i, c)
    basis = (*(sr.labels_at(q) if sr else ()), *(r.label for r in layout.target_notes[c]), *agg.basis, *geo)
    unverified = (
        *(sr.unverified_at(q) if sr else ()),
        *(r.label for r in layout.target_notes[c] if r.unverified),
        *agg.unverified,
        *geo,
    )
    face = FACE_NAMES[int(layout.face[i, c])]
    where = f" ({face} face)" if face != "*" else ""
    actual = float(layout.dist[i, c])
    target = layout.target_ids[c]
    if math.isfinite(req):
        req_text = f"needs {req:,.0f} m"
    else:
        rec = sr.rule.record if sr else None
        top = rec.upper_kg if rec is not None else None
        req_text = (
            f"is outside the validated range of {rec.id if rec else 'the rule'}"
            + (f" (valid to {top:,.0f} kg)" if top else "")
            + ": no sourced rule covers it"
        )
    verb = "too close" if actual + DIST_TOL < req else "closest"
    note = " (route not typed minor/low-density: IBD applies)" if layout.target_notes[c] else ""
    return Finding(
        rule=f"qd.{relation}",
        severity=severity,
        depot=depot.id,
        storehouse=sh.id,
        other=target,
        hd=hd,
        neq_kg=q,
        required_m=req if math.isfinite(req) else None,
        actual_m=round(actual, 2),
        basis=tuple(dict.fromkeys(basis)),
        unverified=tuple(dict.fromkeys(unverified)),
        message=(
            f"{relation} to {target}{where}{note}: {q:,.0f} kg as HD {hd} {req_text}; actual {actual:,.1f} m ({verb})"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Public checks
# ---------------------------------------------------------------------------------------------


def check_depot(
    depot: Depot, lines: Sequence[StockLine], catalogue: Catalogue, *, book: RuleBook | None = None
) -> CheckReport:
    """Check one depot's stock against the storage rules: every Q-D distance, compatibility and
    quantity limit, plus the site survey. Missing data is a finding, never a pass."""
    book = book or load_rulebook()
    summary = summarise([s.id for s in depot.storehouses], lines, catalogue)
    reports = evaluate_depot(depot, summary, book=book, items=catalogue.item_by_id)
    survey = survey_finding(depot)
    findings = [*([survey] if survey else []), *summary.problems, *(f for r in reports for f in r.findings)]
    return CheckReport(reports, findings)


def required_distances(
    depot: Depot,
    lines: Sequence[StockLine],
    catalogue: Catalogue,
    *,
    book: RuleBook | None = None,
) -> tuple[Layout, np.ndarray]:
    """The layout and the required distance per (storehouse, target) for this stock (whole metres,
    inf outside the validated range, 0 where nothing is held): what the check compares and the Q-D
    map draws."""
    book = book or load_rulebook()
    summary = summarise([s.id for s in depot.storehouses], lines, catalogue)
    layout = build_layout(depot, book)
    aggs = [
        aggregate(
            {c: float(summary.neq[i, j]) for j, c in enumerate(RAW_CLASSES)},
            underground=sh.kind == StorehouseKind.UNDERGROUND,
            profile=depot.profile,
            book=book,
            heavy_by_hd={c: bool(summary.heavy[i, j]) for j, c in enumerate(RAW_CLASSES)},
        )
        for i, sh in enumerate(depot.storehouses)
    ]
    return layout, _qd_matrix(layout, aggs, None, book, depot.profile)[0]


def check_network(network: DepotNetwork, *, book: RuleBook | None = None) -> CheckReport:
    """Every depot of the network; stock is summed once for all storehouses."""
    book = book or load_rulebook()
    all_ids = [s.id for d in network.depots for s in d.storehouses]
    summary = summarise(all_ids, network.stock, network.catalogue)
    reports: list[StorehouseReport] = []
    surveys: list[Finding] = []
    start = 0
    items = network.catalogue.item_by_id
    for depot in network.depots:
        k = len(depot.storehouses)
        reports.extend(evaluate_depot(depot, summary.part(start, start + k), book=book, items=items))
        if (f := survey_finding(depot)) is not None:
            surveys.append(f)
        start += k
    findings = [*surveys, *summary.problems, *(f for r in reports for f in r.findings)]
    return CheckReport(reports, findings)


def check_prospective(
    storehouse: str,
    layout: Depot,
    current_stock: Sequence[StockLine],
    incoming: Sequence[StockLine],
    *,
    catalogue: Catalogue,
    leaving: Sequence[StockLine] = (),
    book: RuleBook | None = None,
) -> list[Finding]:
    """Findings for ``storehouse`` if ``incoming`` arrives and ``leaving`` leaves.

    prospective = current − leaving + arriving, counted only for lines naming ``storehouse``
    (lines for other storehouses are ignored, so a caller may pass the whole depot's stock).
    The result lists every rule the prospective state breaks (severity ``error``: refuse) and
    warnings; each finding names its rulebook records and any unverified defaults. Unknown lots
    are error findings, not exceptions, so a ledger can refuse with the reason.
    """
    book = book or load_rulebook()
    if layout.storehouse(storehouse) is None:
        return [
            Finding(
                rule="reference",
                severity=Severity.ERROR,
                depot=layout.id,
                storehouse=storehouse,
                message=f"storehouse '{storehouse}' is not in depot '{layout.id}'",
            )
        ]
    net: dict[str, int] = {}
    for sign, group in ((1, current_stock), (-1, leaving), (1, incoming)):
        for line in group:
            if line.storehouse == storehouse:
                net[line.lot] = net.get(line.lot, 0) + sign * line.quantity
    lines = [StockLine.model_construct(storehouse=storehouse, lot=lot, quantity=q) for lot, q in net.items() if q != 0]
    summary = summarise([s.id for s in layout.storehouses], lines, catalogue)
    reports = evaluate_depot(layout, summary, book=book, only={storehouse}, items=catalogue.item_by_id)
    survey = survey_finding(layout)
    return [*([survey] if survey else []), *summary.problems, *(f for r in reports for f in r.findings)]
