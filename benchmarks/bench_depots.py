"""Depots benchmark: network check, licences, placement vs first-fit (``make bench``).

Targets (issue 4): check 500 storehouses / 1,000,000 stock lines ≤ 2 s; licences for 500
storehouses with 2,000 exposed sites ≤ 1 s; placement of 10,000 lots into 200 storehouses ≤ 30 s,
never worse than first-fit (both measured in the same run). Writes benchmarks/results/depots.json.
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


def _depot(rng: np.random.Generator, did: str, n_sh: int, n_es: int, licences: bool = True,
           capacity: int = 400) -> Depot:
    side = int(np.ceil(np.sqrt(n_sh)))
    shs = []
    for i in range(n_sh):
        shs.append(Storehouse(
            id=f"{did}-S{i}", kind=KINDS[i % len(KINDS)], x=float((i % side) * 120), y=float((i // side) * 120),
            orientation_deg=float(rng.integers(0, 4) * 90), traversed=bool(i % 3 == 0), capacity_pallets=capacity,
            licensed_neq_kg={"1.1": 30000.0, "1.2": 30000.0, "1.3": 30000.0, "1.4": 10000.0} if licences else None,
        ))
    span = side * 120
    es = []
    for j in range(n_es):
        ang = rng.uniform(0, 2 * np.pi)
        r = rng.uniform(span * 0.8 + 400, span * 0.8 + 3000)
        cx, cy = span / 2 + r * np.cos(ang), span / 2 + r * np.sin(ang)
        kind = ES_KINDS[j % len(ES_KINDS)]
        pts = ((cx, cy),) if kind != "public-traffic-route" else ((cx, cy), (cx + 500.0, cy + 50.0))
        es.append(ExposedSite(id=f"{did}-E{j}", kind=kind, points=pts))
    return Depot(id=did, name=did, hub="UA-VINNYTSIA", storehouses=tuple(shs), exposed_sites=tuple(es),
                 receipt_point=(-50.0, -50.0))


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
        Lot.model_construct(id=f"L{i}", item=FAMILY[shs[int(s)].kind.value][int(p) % len(FAMILY[shs[int(s)].kind.value])],
                            neq_kg=None, note="")
        for i, (s, p) in enumerate(zip(sh_of, pick))
    )
    qty = rng.integers(1, 3, n_lines)
    stock = tuple(StockLine.model_construct(storehouse=shs[int(s)].id, lot=f"L{i}", quantity=int(q))
                  for i, (s, q) in enumerate(zip(sh_of, qty)))
    net = DepotNetwork.model_construct(items=tuple(ITEMS), lots=lots, depots=depots, stock=stock, note="")
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
    # baseline in the same run: a plain Python loop that only sums NEQ per storehouse
    t1 = time.perf_counter()
    neq_of = {it.id: it.neq_kg for it in ITEMS}
    item_of = {lot.id: lot.item for lot in lots}
    sums: dict[str, float] = {}
    for line in stock:
        sums[line.storehouse] = sums.get(line.storehouse, 0.0) + neq_of[item_of[line.lot]] * line.quantity
    base = time.perf_counter() - t1
    rules = sorted({f.rule for f in report.errors})
    return {"storehouses": len(shs), "stock_lines": n_lines, "seconds_cold": round(cold, 3),
            "seconds_warm": round(warm, 3), "target_s": 2.0, "pass": cold <= 2.0,
            "pass_warm": warm <= 2.0, "findings": len(report.findings), "errors": len(report.errors),
            "error_rules": rules, "baseline_python_neq_sum_s": round(base, 3)}


def bench_licences(rng: np.random.Generator) -> dict:
    depot = _depot(rng, "LIC", 500, 2000)
    t0 = time.perf_counter()
    lic = compute_licences(depot)
    secs = time.perf_counter() - t0
    # baseline: the same Q_max for HD 1.1 IBD only, by a scalar Python loop on a 50-storehouse slice
    t1 = time.perf_counter()
    for sh in depot.storehouses[:50]:
        best = float("inf")
        for e in depot.exposed_sites:
            d = min(float(np.hypot(sh.x - x, sh.y - y)) for x, y in e.points)
            best = min(best, (np.floor(d) / 22.2) ** 3)
    base = (time.perf_counter() - t1) * 10  # scaled to 500 storehouses
    return {"storehouses": 500, "exposed_sites": 2000, "seconds": round(secs, 3), "target_s": 1.0,
            "pass": secs <= 1.0, "licences": len(lic), "baseline_scalar_loop_one_relation_est_s": round(base, 3)}


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
    current = [StockLine(storehouse=s.id, lot=cur_lots[k % len(cur_lots)].id, quantity=20)
               for k, s in enumerate(depot.storehouses) if k % 2 == 0]
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
        "lots": n, "storehouses": 200, "seconds_total": round(secs, 3), "target_s": 30.0,
        "pass": secs <= 30.0 and res.score() >= ff.score() and not new,
        "method": res.method, "solver_status": res.solver_status,
        "optimised": {"lots_stored": round(res.lots_stored, 3), "units": res.units_placed,
                      "touched": res.touched, "handling_pallet_m": round(res.handling_pallet_m)},
        "first_fit": {"lots_stored": round(ff.lots_stored, 3), "units": ff.units_placed, "touched": ff.touched,
                      "handling_pallet_m": round(ff.handling_pallet_m), "seconds": round(ff.seconds, 3)},
        "refused_lots": len(res.refused), "new_rule_breaks_after_placement": len(new),
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
    print(f"{'check 500 storehouses, 1M lines (cold)':<44}{c['seconds_cold']:>11.2f}s{'≤2s':>10}"
          f"{'python NEQ sum ' + str(c['baseline_python_neq_sum_s']) + 's':>34}")
    print(f"{'check 500 storehouses, 1M lines (warm)':<44}{c['seconds_warm']:>11.2f}s{'≤2s':>10}")
    print(f"{'licences 500 storehouses, 2000 ES':<44}{lic['seconds']:>11.2f}s{'≤1s':>10}"
          f"{'scalar loop, 1 relation ~' + str(lic['baseline_scalar_loop_one_relation_est_s']) + 's':>34}")
    print(f"{'placement 10k lots, 200 storehouses':<44}{p['seconds_total']:>11.2f}s{'≤30s':>10}"
          f"{'first-fit ' + str(p['first_fit']['seconds']) + 's':>34}")
    print(f"  optimised: {p['optimised']}  ({p['method']}, {p['solver_status']})")
    print(f"  first-fit: {p['first_fit']}")
    return results


if __name__ == "__main__":
    run()
