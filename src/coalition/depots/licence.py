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
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from coalition.depots.layout import _RELATIONS, Layout, SpecCache, build_layout, qmax_matrix
from coalition.depots.qd import SpecRules
from coalition.depots.rulebook import RuleBook, load_rulebook
from coalition.depots.schemas import Depot, Storehouse, StorehouseKind

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
    heavy_case_1_2: LicenceLine | None = None
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
            "heavy_case_1_2": self.heavy_case_1_2.as_dict() if self.heavy_case_1_2 else None,
            "issued_neq_kg": self.issued,
            "notes": self.notes,
            "unverified": list(self.unverified),
        }


def compute_licences(
    depot: Depot, *, book: RuleBook | None = None, layout: Layout | None = None
) -> list[StorehouseLicence]:
    """The licence each storehouse of ``depot`` could hold, HD by HD in isolation, from its layout.

    Q_max is the exact inverse of the check's required distance (same rules, minimums, rounding and
    validated ranges), so a storehouse filled to Q_max of one HD passes the check; a limit never
    goes beyond the top of the range its rule holds for."""
    book = book or load_rulebook()
    layout = layout or build_layout(depot, book)
    profile = depot.profile
    cache: SpecCache = {}
    n = layout.dist.shape[0]
    underground = np.array([s.kind == StorehouseKind.UNDERGROUND for s in depot.storehouses], dtype=bool)
    rows = np.arange(n)
    results = {(hd, False): qmax_matrix(layout, rows, hd, False, profile, book, cache) for hd in LICENCE_CLASSES}
    for hd in ("1.1", "1.2"):
        results[(hd, True)] = qmax_matrix(layout, rows, hd, True, profile, book, cache)

    from coalition.depots.rules import geometry_flags

    geo_flags = geometry_flags(layout, book)

    line = _Inverse(results, layout, geo_flags).line

    out: list[StorehouseLicence] = []
    for i, sh in enumerate(depot.storehouses):
        lines = {}
        for hd in LICENCE_CLASSES:
            if hd == "1.3" and underground[i]:
                base = line("1.1", False, i)
                own = line("1.3", False, i)
                agg = book.aggregation_rules(profile).get("underground-as-1.1", [])
                pick = base if base.q_max_kg <= own.q_max_kg else own
                lines[hd] = LicenceLine(
                    "1.3",
                    pick.q_max_kg,
                    pick.controlling,
                    pick.relation,
                    pick.distance_m,
                    basis=(*pick.basis, *(r.label for r in agg)),
                    unverified=(*pick.unverified, *(r.label for r in agg if r.unverified)),
                    note="underground: HD 1.3 is treated as 1.1",
                )
            else:
                lines[hd] = line(hd, False, i)
        heavy11 = line("1.1", True, i, "with heavy-case items")
        heavy12 = line("1.2", True, i, "with heavy-case items")
        notes = _issued_notes(sh, lines)
        out.append(
            StorehouseLicence(
                depot=depot.id,
                storehouse=sh.id,
                kind=sh.kind.value,
                profile=profile,
                lines=lines,
                issued=sh.licensed_kg(),
                heavy_case_1_1=heavy11 if heavy11.q_max_kg != lines["1.1"].q_max_kg else None,
                heavy_case_1_2=heavy12 if heavy12.q_max_kg != lines["1.2"].q_max_kg else None,
                notes=notes,
            )
        )
    return out


@dataclass(frozen=True)
class _Inverse:
    """The Q_max matrices of one depot's layout (per HD and heavy-case flag) and its geometry
    flags; :meth:`line` reads one storehouse's licence line from them."""

    results: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray, dict[int, SpecRules]]]
    layout: Layout
    geo_flags: Callable[[int, int | None], tuple[str, ...]]

    def line(self, hd: str, heavy: bool, i: int, note: str = "") -> LicenceLine:
        qm, codes, used = self.results[(hd, heavy)]
        layout = self.layout
        if layout.dist.shape[1] == 0:
            return LicenceLine(
                hd,
                math.inf,
                None,
                None,
                None,
                note="no exposed sites or other storehouses: not certified (see the check)",
            )
        c = int(np.argmin(qm[i]))
        q = float(qm[i, c])
        sr = used.get(int(codes[i, c]))
        d = float(layout.dist[i, c])
        geo = self.geo_flags(i, c)
        labels = (*(sr.labels_at(q) if sr else ()), *geo)
        unverified = (
            *(sr.unverified_at(q) if sr else ()),
            *(r.label for r in layout.target_notes[c] if r.unverified),
            *geo,
        )
        if math.isinf(q):
            return LicenceLine(
                hd, q, None, None, None, basis=labels, unverified=unverified, note=note or "not limited by any site"
            )
        top = sr.upper_kg if sr is not None else None
        if top is not None and sr is not None and q >= top * (1 - 1e-9):  # top is set only with sr
            note = (note + "; " if note else "") + (
                f"limited by the validated range of {sr.rule.record.id} ({top:,.0f} kg), not by a site"
            )
        if q == 0 and sr is not None:
            need = float(sr.required(np.array([1e-6]))[0])
            note = (note + "; " if note else "") + (
                f"{layout.target_ids[c]} at {d:,.1f} m is inside the {need:,.0f} m minimum: "
                f"HD {hd} cannot be licensed here"
            )
        return LicenceLine(
            hd=hd,
            q_max_kg=math.floor(q * 10) / 10 if q < 1e12 else q,  # rounded DOWN: never above the inverse
            controlling=layout.target_ids[c],
            relation=_RELATIONS[int(layout.target_relation[c])],
            distance_m=d,
            basis=labels,
            unverified=tuple(dict.fromkeys(unverified)),
            note=note,
        )


def _issued_notes(sh: Storehouse, lines: dict[str, LicenceLine]) -> list[str]:
    """An issued limit the layout cannot support, or no licence at all."""
    notes: list[str] = []
    if sh.licensed_neq_kg is not None:
        for hd, issued in sh.licensed_neq_kg.items():
            comp = lines[hd].q_max_kg
            if issued > comp + 1e-6:
                notes.append(
                    f"issued HD {hd} limit {issued:,.0f} kg exceeds the {math.floor(comp):,} kg "
                    "the layout supports "
                    f"(controlled by {lines[hd].controlling})"
                )
    else:
        notes.append("no explosives limit licence recorded: unlicensed, nothing may be stored")
    return notes


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
        "| HD | maximum NEQ (kg) from the layout | controlling exposed site | relation | distance (m) "
        "| issued limit (kg) |",
        "|---|---|---|---|---|---|",
    ]
    for hd, line in lic.lines.items():
        issued = "not recorded" if lic.issued is None else f"{lic.issued.get(hd, 0.0):,.0f}"
        qmax = "not limited by any site" if math.isinf(line.q_max_kg) else f"{math.floor(line.q_max_kg):,}"
        dist = "—" if line.distance_m is None else f"{line.distance_m:,.1f}"
        out.append(f"| {hd} | {qmax} | {line.controlling or '—'} | {line.relation or '—'} | {dist} | {issued} |")
    if lic.heavy_case_1_1 is not None:
        h = lic.heavy_case_1_1
        out.append(
            f"| 1.1 heavy-case | {math.floor(h.q_max_kg):,} | {h.controlling or '—'} | {h.relation or '—'} | "
            f"{'—' if h.distance_m is None else f'{h.distance_m:,.1f}'} | |"
        )
    out += [
        "",
        "Conditions:",
        "",
        "- Mixed storage: HD 1.1 with 1.2/1.3 counts as HD 1.1 in total; HD 1.2 with 1.3 keep their own "
        "limits; HD 1.4 is not added (aggregation records of the rulebook).",
    ]
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


def _limit_rows(lic: StorehouseLicence, book: RuleBook) -> list[str]:
    """The HTML rows of one licence's limits: per HD, then the heavy-case limits that differ."""
    from html import escape

    from coalition.depots.rulebook import short_value

    rows: list[str] = []
    for hd, line in lic.lines.items():
        issued = None if lic.issued is None else lic.issued.get(hd)
        qmax = "not limited by any site" if math.isinf(line.q_max_kg) else f"{math.floor(line.q_max_kg):,} kg"
        rows.append(
            f"<tr><td>{escape(hd)}</td><td>{'not permitted' if issued is None else f'{issued:,.0f} kg'}</td>"
            f"<td>{escape(qmax)}</td><td>{escape(line.controlling or '—')}</td>"
            f"<td>{escape(line.relation or '—')}</td>"
            f"<td>{'—' if line.distance_m is None else f'{line.distance_m:,.1f} m'}</td>"
            f"<td class='flag'>{escape('; '.join(short_value(book, u) for u in line.unverified))}</td></tr>"
        )
    for label, heavy in (("1.1 heavy-case", lic.heavy_case_1_1), ("1.2 heavy-case", lic.heavy_case_1_2)):
        if heavy is not None:
            rows.append(
                f"<tr><td>{label}</td><td></td><td>{math.floor(heavy.q_max_kg):,} kg</td>"
                f"<td>{escape(heavy.controlling or '—')}</td><td>{escape(heavy.relation or '—')}</td>"
                f"<td>{'—' if heavy.distance_m is None else f'{heavy.distance_m:,.1f} m'}</td><td></td></tr>"
            )
    return rows


def licence_html(
    depot: Depot,
    lics: list[StorehouseLicence],
    *,
    cgs: dict[str, tuple[str, ...]] | None = None,
    book: RuleBook | None = None,
) -> str:
    """A printable HTML licence document: one page per storehouse with the licence number, permitted
    HDs and CGs with their limits, the controlling exposed site, conditions, validity and review
    dates and the issuing-authority fields. Administrative fields come only from the recorded
    licence (``licence:`` on the storehouse); what is not recorded is printed as such, never
    invented. Computed limits name every rulebook value they rest on."""
    from html import escape

    book = book or load_rulebook()
    cgs = cgs or {}

    def field_row(label: str, value: object) -> str:
        text = "<em>not recorded</em>" if value in (None, "", ()) else escape(str(value))
        return f"<tr><th>{escape(label)}</th><td>{text}</td></tr>"

    pages = []
    for lic in lics:
        sh = depot.storehouse(lic.storehouse)
        assert sh is not None
        rec = sh.licence
        permitted_cgs = rec.permitted_cgs if rec and rec.permitted_cgs is not None else None
        rows = _limit_rows(lic, book)
        limits = [ln for ln in lic.lines.values() if not math.isinf(ln.q_max_kg) and ln.controlling]
        controlling = min(limits, key=lambda ln: ln.q_max_kg) if limits else None
        controlled_by = (
            (
                f"{controlling.controlling} ({controlling.relation}, {controlling.distance_m:,.1f} m) "
                f"limits HD {controlling.hd}"
            )
            if controlling
            else None
        )
        conditions = list(rec.conditions if rec else ())
        conditions += [
            "Mixed storage: the HD 1.1 total (1.1 + 1.2 + 1.3 + 1.5 + 1.6) within the HD 1.1 limit, and each HD "
            "within its own limit; HD 1.4 within its own limit.",
            *(
                f"Footnote {a.footnote} asserted for {', '.join((*a.items, *a.lots))}"
                for a in depot.assertions_for(sh.id)
            ),
            *(f"WARNING: {n}" for n in lic.notes),
        ]
        pages.append(f"""<section class="licence">
<h1>Explosives limit licence — storehouse {escape(sh.id)}</h1>
<p class="ill">{"ILLUSTRATIVE depot data: not a real licence." if depot.illustrative else ""}</p>
<table class="fields">
{field_row("Licence number", rec.number if rec else None)}
{field_row("Depot", f"{depot.name} ({depot.id}) at {depot.hub}")}
{field_row("Storehouse", f"{sh.id} {sh.name} — {sh.kind.value}" + (", traversed" if sh.traversed else ""))}
{field_row("Rule profile", lic.profile)}
{field_row("Permitted compatibility groups", ", ".join(permitted_cgs) if permitted_cgs is not None else None)}
{field_row("Compatibility groups held", ", ".join(cgs.get(sh.id, ())) or "none")}
{field_row("Controlling exposed site", controlled_by)}
{field_row("Issued on", rec.issued_on if rec else None)}
{field_row("Valid until", rec.valid_until if rec else None)}
{field_row("Review date", rec.review_on if rec else None)}
{field_row("Issuing technical authority", rec.authority if rec else None)}
{field_row("Signed by", rec.signed_by if rec else None)}
</table>
<h2>Limits per hazard division</h2>
<table class="limits"><tr><th>HD</th><th>issued limit</th><th>layout supports (Q_max)</th><th>controlling site</th>
<th>relation</th><th>distance</th><th>rests on (not primary-verified)</th></tr>
{"".join(rows)}
</table>
<h2>Conditions</h2>
<ul>{"".join(f"<li>{escape(c)}</li>" for c in conditions)}</ul>
<p class="sign">Issuing technical authority: ______________________ &nbsp;
Signature: ______________ &nbsp; Date: __________</p>
</section>""")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Explosives limit licences — {escape(depot.id)}</title>
<style>
body{{font:12px/1.4 sans-serif;margin:2em}} table{{border-collapse:collapse;margin:.5em 0}}
th,td{{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top}} .flag{{color:#8a6d00;font-size:10px}}
.ill{{color:#b00}} section.licence{{page-break-after:always}} @media print{{body{{margin:0}}}}
</style></head><body>
{"".join(pages)}
</body></html>
"""
