"""Depots benchmark: network check, licences, placement vs first-fit (``make bench``).

Targets (issues 4 and 9): check 500 storehouses / 1,000,000 stock lines ≤ 2 s (input validation
timed separately); licences for 500 storehouses with 2,000 exposed sites ≤ 1 s; placement of 10,000
lots into 200 storehouses ≤ 30 s, never worse than first-fit. Baselines are measured in the same run
on the same input: the check against a plain per-storehouse Python implementation of the same full
check (aggregation, licence, mixing, every Q-D component against every target); the licences
against a scalar loop with math.hypot at full size. Writes benchmarks/results/depots.json.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from coalition.depots.licence import compute_licences
from coalition.depots.placement import Incoming, place
from coalition.depots.rules import check_network
from coalition.depots.schemas import (
    Depot,
    DepotNetwork,
    ExposedSite,
    ItemType,
    Lot,
    StockLine,
    Storehouse,
)

RESULTS = Path(__file__).with_name("results") / "depots.json"

ITEMS = [
    ItemType(id="he155", name="155 HE", code="1.1D", neq_kg=10.8, gross_kg=43.5, units_per_pallet=8),
    ItemType(id="atgm", name="ATGM", code="1.1E", neq_kg=3.5, gross_kg=24, units_per_pallet=6),
    ItemType(id="chg", name="charge", code="1.3C", neq_kg=12, gross_kg=21, units_per_pallet=24),
    ItemType(id="mortar", name="mortar", code="1.2F", neq_kg=2.2, gross_kg=16, units_per_pallet=30),
    ItemType(id="fuze", name="fuze", code="1.4B", neq_kg=0.03, gross_kg=0.9, units_per_pallet=240),
    ItemType(id="sa", name="small arms", code="1.4S", neq_kg=1.7, gross_kg=15, units_per_pallet=60),
    ItemType(id="smoke", name="smoke", code="1.4G", neq_kg=0.4, gross_kg=6, units_per_pallet=80),
    ItemType(id="frag", name="frag", code="1.2E", neq_kg=4.0, gross_kg=20, units_per_pallet=20),
]
KINDS = ["earth-covered", "earth-covered", "above-ground", "container", "open-stack", "underground"]
ES_KINDS = ["inhabited-building", "vulnerable-building", "public-traffic-route", "process-building"]


def _depot(
    rng: np.random.Generator, did: str, n_sh: int, n_es: int, licences: bool = True, capacity: int = 400
) -> Depot:
    side = int(np.ceil(np.sqrt(n_sh)))
    shs = []
    for i in range(n_sh):
        shs.append(
            Storehouse(
                id=f"{did}-S{i}",
                kind=KINDS[i % len(KINDS)],
                x=float((i % side) * 120),
                y=float((i // side) * 120),
                orientation_deg=float(rng.integers(0, 4) * 90),
                traversed=bool(i % 3 == 0),
                capacity_pallets=capacity,
                licensed_neq_kg={"1.1": 30000.0, "1.2": 30000.0, "1.3": 30000.0, "1.4": 10000.0} if licences else None,
                ecm_type=("7-bar", "3-bar", "undefined")[i % 3],
            )
        )
    span = side * 120
    es = []
    for j in range(n_es):
        ang = rng.uniform(0, 2 * np.pi)
        r = rng.uniform(span * 0.8 + 400, span * 0.8 + 3000)
        cx, cy = span / 2 + r * np.cos(ang), span / 2 + r * np.sin(ang)
        kind = ES_KINDS[j % len(ES_KINDS)]
        pts = ((cx, cy),) if kind != "public-traffic-route" else ((cx, cy), (cx + 500.0, cy + 50.0))
        density = ("minor", None)[j % 2] if kind == "public-traffic-route" else None
        es.append(ExposedSite(id=f"{did}-E{j}", kind=kind, points=pts, density=density))
    return Depot(
        id=did,
        name=did,
        hub="UA-VINNYTSIA",
        storehouses=tuple(shs),
        exposed_sites=tuple(es),
        receipt_point=(-50.0, -50.0),
    )


# Items each storehouse kind holds in the check benchmark (compatible families, so findings are
# the occasional Q-D/licence break rather than every pair failing).
FAMILY = {
    "earth-covered": ["he155", "atgm", "chg", "frag"],  # C/D/E: 1.1 + 1.2 + 1.3 aggregated as 1.1
    "underground": ["he155", "chg"],
    "above-ground": ["mortar", "sa"],  # F + S
    "container": ["fuze"],
    "open-stack": ["sa", "smoke"],  # S + G
}


def bench_check(rng: np.random.Generator) -> dict:
    depots = tuple(_depot(rng, f"D{k}", 50, 40) for k in range(10))  # 500 storehouses
    shs = [s for d in depots for s in d.storehouses]
    n_lines = 1_000_000
    sh_of = rng.integers(0, len(shs), n_lines)
    pick = rng.integers(0, 1 << 30, n_lines)
    lots = tuple(
        Lot.model_construct(
            id=f"L{i}",
            item=FAMILY[shs[int(s)].kind.value][int(p) % len(FAMILY[shs[int(s)].kind.value])],
            neq_kg=None,
            note="",
        )
        for i, (s, p) in enumerate(zip(sh_of, pick))
    )
    qty = rng.integers(1, 3, n_lines)
    stock = tuple(
        StockLine.model_construct(storehouse=shs[int(s)].id, lot=f"L{i}", quantity=int(q))
        for i, (s, q) in enumerate(zip(sh_of, qty))
    )
    net = DepotNetwork.model_construct(items=tuple(ITEMS), lots=lots, depots=depots, stock=stock, note="")
    # input validation, timed apart from the check: the stock table as a file would arrive
    raw_stock = [{"storehouse": line.storehouse, "lot": line.lot, "quantity": line.quantity} for line in stock]
    t0 = time.perf_counter()
    validated = [StockLine.model_validate(r) for r in raw_stock]
    validation = time.perf_counter() - t0
    del validated, raw_stock
    # per-process one-off costs are excluded: module imports (pandas) and reading the rulebook YAML
    import pandas  # noqa: F401

    from coalition.depots.rulebook import load_rulebook

    load_rulebook()
    t0 = time.perf_counter()
    report = check_network(net)  # cold: builds the catalogue's lot index (1M lots) inside the timing
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    check_network(net)  # warm: the same network checked again (the lot index is cached)
    warm = time.perf_counter() - t0
    t1 = time.perf_counter()
    base_errors = plain_python_check(net)
    base = time.perf_counter() - t1
    rules = sorted({f.rule for f in report.errors})
    qd_pairs = {(f.storehouse, f.other) for f in report.errors if f.rule.startswith("qd.")}
    return {
        "storehouses": len(shs),
        "stock_lines": n_lines,
        "seconds_cold": round(cold, 3),
        "seconds_warm": round(warm, 3),
        "target_s": 2.0,
        "pass": cold <= 2.0,
        "pass_warm": warm <= 2.0,
        "validation_seconds": round(validation, 3),
        "findings": len(report.findings),
        "errors": len(report.errors),
        "error_rules": rules,
        "baseline_plain_python_full_check_s": round(base, 3),
        "baseline_agrees_on_qd_violations": base_errors == qd_pairs,
    }


def plain_python_check(net: DepotNetwork) -> set[tuple[str, str]]:
    """The same full check written plainly, storehouse by storehouse, with scalar arithmetic: NEQ by
    class, aggregation, licence, mixing pairs, and every Q-D component against every target through
    the same rule records (the baseline the vectorised check is measured against). Returns the Q-D
    violations (storehouse, target), so the two can be compared."""
    from coalition.depots.layout import build_layout, decode_spec, spec_codes
    from coalition.depots.mixing import MixEntry, check_set
    from coalition.depots.qd import spec_rules_for
    from coalition.depots.rulebook import Siting, load_rulebook
    from coalition.depots.rules import RAW_CLASSES, aggregate, raw_class

    book = load_rulebook()
    items = {it.id: it for it in net.items}
    item_of = {lot.id: lot.item for lot in net.lots}
    held: dict[str, dict[str, float]] = {}
    heavy: dict[str, dict[str, bool]] = {}
    entries: dict[str, set[MixEntry]] = {}
    for line in net.stock:
        it = items[item_of[line.lot]]
        c = raw_class(it.hd, it.cg)
        held.setdefault(line.storehouse, {}).setdefault(c, 0.0)
        held[line.storehouse][c] += it.neq_kg * line.quantity
        heavy.setdefault(line.storehouse, {})[c] = heavy.get(line.storehouse, {}).get(c, False) or it.heavy_case
        entries.setdefault(line.storehouse, set()).add(MixEntry(it.cg, it.hd, it.id))
    out: set[tuple[str, str]] = set()
    cache: dict[tuple, object] = {}  # type: ignore[type-arg]
    for depot in net.depots:
        layout = build_layout(depot, book)  # geometry only: distances, faces (not the rule evaluation)
        for i, sh in enumerate(depot.storehouses):
            neq = held.get(sh.id, {})
            agg = aggregate(
                {c: neq.get(c, 0.0) for c in RAW_CLASSES},
                underground=sh.kind.value == "underground",
                heavy_by_hd=heavy.get(sh.id, {}),
            )
            for hd, q in agg.licence_neq.items():
                _ = sh.licensed_neq_kg is None or q > (sh.licensed_neq_kg.get(hd) or 0.0)
            check_set(list(entries.get(sh.id, ())), book=book)
            for cls, q, hv in agg.qd_components:
                codes = spec_codes(layout, np.array([i]), np.array([hv]))[0].tolist()
                for c, code in enumerate(codes):
                    key = (cls, code)
                    if key not in cache:
                        rel, pk, face, ek, ef, et, trav, h = decode_spec(code)
                        cache[key] = spec_rules_for(
                            book, depot.profile, cls, rel, Siting(pk, face, ek, trav, ef, et), h
                        )
                    req = float(cache[key].required(np.array([q]))[0])  # type: ignore[attr-defined]
                    if layout.dist[i, c] + 1e-6 < req:
                        out.add((sh.id, layout.target_ids[c]))
    return out


def bench_licences(rng: np.random.Generator) -> dict:
    depot = _depot(rng, "LIC", 500, 2000)
    t0 = time.perf_counter()
    lic = compute_licences(depot)
    secs = time.perf_counter() - t0
    # baseline at full size (500 x 2,000 + IMD pairs): HD 1.1 Q_max with the full rule (blast k and
    # the fragment envelope's closed-form inverse) by a scalar loop with math.hypot
    import math

    from coalition.depots.rulebook import load_rulebook

    book = load_rulebook()
    rows = book.fragment_functions
    k = {"IBD": 22.2, "VBD": 44.4, "PTRD": 14.8, "PBD": 8.0}
    rel_of = {"inhabited-building": "IBD", "vulnerable-building": "VBD", "process-building": "PBD"}
    t1 = time.perf_counter()
    checked = 0
    for sh in depot.storehouses:
        best = math.inf
        for e in depot.exposed_sites:
            d = math.floor(min(math.hypot(sh.x - x, sh.y - y) for x, y in e.points) + 1e-6)
            rel = rel_of.get(e.kind.value) or ("PTRD" if e.density in ("minor", "low") else "IBD")
            q = (d / k[rel]) ** 3
            if rel != "PBD":
                q = min(q, 0.0 if d < 381 else envelope_inverse(d, rows))
            best = min(best, q)
            checked += 1
    base = time.perf_counter() - t1
    return {
        "storehouses": 500,
        "exposed_sites": 2000,
        "seconds": round(secs, 3),
        "target_s": 1.0,
        "pass": secs <= 1.0,
        "licences": len(lic),
        "baseline_scalar_math_hypot_full_size_hd11_s": round(base, 3),
        "baseline_pairs": checked,
    }


def envelope_inverse(d: float, rows) -> float:  # type: ignore[no-untyped-def]
    """The fragment envelope's inverse for one distance, in scalar math (the baseline's version of
    coalition.depots.qd.fragment_row_qmax)."""
    import math

    best = math.inf
    for f in rows:
        if f.formula == "power":
            q = (d / f.a) ** (1.0 / f.b)
        elif f.formula == "linear":
            q = (d - f.b) / f.a if d >= f.b else 0.0
        elif f.formula == "log":
            q = math.exp((d - f.b) / f.a)
        elif f.formula == "plateau":
            q = math.inf if d >= f.value else 0.0
        else:
            q = f.c + ((d - f.a) / f.b) ** 2 if d >= f.a else 0.0
        if f.min_kg:
            first = {"plateau": f.value}.get(
                f.formula, f.a + f.b * max(f.min_kg - f.c, 0.0) ** 0.5 if f.formula == "sqrt_offset" else 0.0
            )
            q = f.min_kg * (1 - 1e-12) if d < first else max(q, f.min_kg * (1 - 1e-12))
        if f.max_kg is not None:
            end = f.value if f.formula == "plateau" else f.a + f.b * max(f.max_kg - f.c, 0.0) ** 0.5
            q = math.inf if d >= end else min(q, f.max_kg)
        best = min(best, q)
    return best


def bench_placement(rng: np.random.Generator) -> dict:
    depot = _depot(rng, "PLC", 200, 60, capacity=90)  # ~20,000 pallets arrive for ~18,000 free
    n = 10_000
    lots = []
    incoming = []
    for i in range(n):
        it = ITEMS[int(rng.integers(0, len(ITEMS)))]
        lots.append(Lot(id=f"C{i}", item=it.id))
        incoming.append(Incoming(f"C{i}", int(rng.integers(1, 4) * it.units_per_pallet)))
    # some current stock so mixing and limits bite
    cur_lots = [Lot(id=f"K{i}", item=ITEMS[i % len(ITEMS)].id) for i in range(len(ITEMS))]
    current = [
        StockLine(storehouse=s.id, lot=cur_lots[k % len(cur_lots)].id, quantity=20)
        for k, s in enumerate(depot.storehouses)
        if k % 2 == 0
    ]
    from coalition.depots.schemas import Catalogue

    cat = Catalogue(items=tuple(ITEMS), lots=tuple(lots + cur_lots))
    t0 = time.perf_counter()
    res = place(depot, cat, current, incoming, time_limit=10)
    secs = time.perf_counter() - t0
    ff = res.baseline
    assert ff is not None
    from coalition.depots.rules import check_depot

    ok = check_depot(depot, current + res.lines(), cat)
    before = check_depot(depot, current, cat)
    new = [f for f in ok.errors if f not in before.errors]
    return {
        "lots": n,
        "storehouses": 200,
        "seconds_total": round(secs, 3),
        "target_s": 30.0,
        "pass": secs <= 30.0 and res.score() >= ff.score() and not new,
        "method": res.method,
        "solver_status": res.solver_status,
        "optimised": {
            "lots_stored": round(res.lots_stored, 3),
            "units": res.units_placed,
            "touched": res.touched,
            "handling_pallet_m": round(res.handling_pallet_m),
        },
        "first_fit": {
            "lots_stored": round(ff.lots_stored, 3),
            "units": ff.units_placed,
            "touched": ff.touched,
            "handling_pallet_m": round(ff.handling_pallet_m),
            "seconds": round(ff.seconds, 3),
        },
        "refused_lots": len(res.refused),
        "new_rule_breaks_after_placement": len(new),
    }


def run() -> dict:
    rng = np.random.default_rng(20260106)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "check": bench_check(rng),
        "licences": bench_licences(rng),
        "placement": bench_placement(rng),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    c, lic, p = results["check"], results["licences"], results["placement"]
    print(f"{'benchmark':<44}{'measured':>12}{'target':>10}{'baseline (same run)':>34}")
    print(
        f"{'check 500 storehouses, 1M lines (cold)':<44}{c['seconds_cold']:>11.2f}s{'≤2s':>10}"
        f"{'plain Python full check ' + str(c['baseline_plain_python_full_check_s']) + 's':>34}"
    )
    print(f"{'  input validation (1M stock lines)':<44}{c['validation_seconds']:>11.2f}s{'(apart)':>10}")
    print(f"{'check 500 storehouses, 1M lines (warm)':<44}{c['seconds_warm']:>11.2f}s{'≤2s':>10}")
    print(
        f"{'licences 500 storehouses, 2000 ES':<44}{lic['seconds']:>11.2f}s{'≤1s':>10}"
        f"{'scalar math.hypot, HD 1.1 ' + str(lic['baseline_scalar_math_hypot_full_size_hd11_s']) + 's':>34}"
    )
    print(
        f"{'placement 10k lots, 200 storehouses':<44}{p['seconds_total']:>11.2f}s{'≤30s':>10}"
        f"{'first-fit ' + str(p['first_fit']['seconds']) + 's':>34}"
    )
    print(f"  optimised: {p['optimised']}  ({p['method']}, {p['solver_status']})")
    print(f"  first-fit: {p['first_fit']}")
    return results


if __name__ == "__main__":
    run()
