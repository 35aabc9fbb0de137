"""The sustainment report as JSON and as flat tables (CSV / XLSX sheets).

JSON (``coalition sustain --json``), version :data:`REPORT_VERSION`:

* ``assumed``: climate, ration cycle and activity level used;
* ``hubs``: per hub, ``legal_class_v_days`` (0 where no licensed storage) with what limits it,
  ``ranges`` (per day range: personnel and, per class, ``demand_<unit>`` with the unit in the
  key and ``dos_on_hand``), and ``stock`` (per class: on hand, policy, runs-out day, resupply);
* ``medical``: the plan-JSON ``medical`` section (times to Role 1/2/3 per hub and day range,
  ``share_within_1h``, ``share_within_2h``, ``uncovered``);
* ``precedence``: the violations of the enablers-first rules;
* ``flags``: every caveat a figure depends on (illustrative, unverified, unknown...).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from coalition.scenario.schemas import SupplyClass
from coalition.sustain.factors import base_unit

if TYPE_CHECKING:
    from coalition.sustain.service import SustainReport

REPORT_VERSION = "1.0"
_BIG = {"kg": ("t", 1000.0), "l": ("m3", 1000.0)}


def _r(v: float | None, nd: int = 3) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(v, nd)


_KEYS = {c: (f"demand_{base_unit(c)}", f"demand_{_BIG[base_unit(c)][0]}") for c in SupplyClass}


def _class_cell(cls: SupplyClass, per_day: float | None, on_hand: float, flags: tuple[str, ...]) -> dict[str, Any]:
    small, big = _KEYS[cls]
    if per_day is None:
        return {small: None, big: None, "dos_on_hand": None, "flags": list(flags)}
    return {
        small: round(per_day, 1),
        big: round(per_day / 1000.0, 3),
        "dos_on_hand": round(on_hand / per_day, 2) if per_day else None,
        "flags": list(flags),
    }


def _stock_json(s: Any) -> dict[str, Any]:
    unit = base_unit(s.supply_class)
    pol = s.policy
    return {
        "class": s.supply_class.value,
        f"on_hand_{unit}": _r(s.on_hand.quantity, 1),
        "on_hand_source": s.on_hand.source,
        f"avg_demand_{unit}": _r(s.avg_demand, 1),
        f"peak_demand_{unit}": _r(s.peak_demand, 1),
        "dos_on_hand": _r(s.dos_on_hand, 2),
        "policy": None
        if pol is None
        else {
            "min_days": pol.min_days,
            "target_days": pol.target_days,
            "order_ship_days": pol.order_ship_days,
            "order_interval_days": pol.order_interval_days,
            "evidence": pol.evidence.value,
        },
        f"safety_stock_{unit}": _r(s.safety_stock, 1),
        f"min_stock_{unit}": _r(s.min_stock, 1),
        f"target_stock_{unit}": _r(s.target_stock, 1),
        f"max_stock_{unit}": _r(s.max_stock, 1),
        "below_min": s.below_min,
        "runs_out_day": s.runs_out_day,
        "host_nation_share": s.hns_share,
        f"resupply_initial_{unit}": _r(s.initial_resupply, 1),
        f"resupply_per_day_{unit}": _r(s.resupply_per_day, 1),
        f"resupply_total_{unit}": _r(s.resupply_total, 1),
        "unknown": s.unknown,
        "flags": list(s.flags),
    }


def _classv_json(c: Any) -> dict[str, Any]:
    return {
        "legal_class_v_days": None if c.days is None else math.floor(c.days * 10) / 10,
        "limiting_hd": c.limiting_hd,
        "limiting": c.limiting,
        "raise_by": list(c.raise_by),
        "neq_kg_per_day": {h: _r(v, 2) for h, v in c.neq_per_day.items()},
        "storage_plan": dict(c.assignment),
        "method": c.method,
        "notes": list(c.notes),
    }


def _class_v_policy(rep: SustainReport, hub: str, cv: Any) -> dict[str, Any]:
    """The Class V target DOS the hub plans to hold, checked against its legal days."""
    from coalition.sustain.stock import policy_for

    pol = policy_for(rep.scenario, hub, SupplyClass.V)
    target = None if pol is None else pol.target_days
    fits = None if target is None or cv.days is None else target <= cv.days + 1e-9
    return {"class_v_target_days": target, "class_v_target_is_legal": fits}


def _depots_json(rep: SustainReport) -> list[dict[str, Any]]:
    """Depots at places the plan does not staff (rear nodes): legal days of the *whole force's*
    peak Class V they could hold."""
    from coalition.sustain.classv import legal_class_v_days

    staffed = {r.hub for r in rep.ranges}
    peak: float | None = 0.0
    delta: dict[int, float] = {}
    for r in rep.ranges:
        v = r.demand[SupplyClass.V].per_day
        if v is None:
            peak = None
            break
        delta[r.start_day] = delta.get(r.start_day, 0.0) + v
        delta[r.end_day + 1] = delta.get(r.end_day + 1, 0.0) - v
    if peak is not None:
        level = 0.0
        for d in sorted(delta):  # force-wide Class V per day, swept over the change days
            level += delta[d]
            peak = max(peak, level)
    out = []
    for place in sorted({d.hub for d in rep.scenario.depots.depots} - staffed):
        cv = legal_class_v_days(rep.scenario, place, peak)
        out.append(
            {
                "place": place,
                "depots": sorted(d.id for d in rep.scenario.depots.depots if d.hub == place),
                "force_class_v_peak_kg_per_day": _r(peak, 1),
                **_classv_json(cv),
            }
        )
    return out


def report_json(rep: SustainReport) -> dict[str, Any]:
    sc = rep.scenario
    on_hand = {(s.hub, s.supply_class): s.on_hand.quantity for s in rep.stock}
    from coalition.sustain.flows import into_hub_capacity

    hubs = []
    flows = {(f.hub, f.start_day): f for f in rep.flows}
    capacity = into_hub_capacity(sc)
    for hub in sorted({r.hub for r in rep.ranges}):
        h = sc.hub(hub)
        ranges: list[dict[str, Any]] = []
        for r in rep.ranges:
            if r.hub != hub:
                continue
            f = flows.get((hub, r.start_day))
            ranges.append(
                {
                    "start_day": r.start_day,
                    "end_day": r.end_day,
                    "personnel": r.personnel,
                    "classes": {
                        c.value: _class_cell(c, r.demand[c].per_day, on_hand.get((hub, c), 0.0), r.demand[c].flags)
                        for c in SupplyClass
                    },
                    "resupply": None
                    if f is None
                    else {
                        "dry_t": _r(f.dry_t),
                        "water_m3": _r(f.water_m3),
                        "fuel_m3": _r(f.fuel_m3),
                        "tonnes": _r(f.tonnes),
                    },
                }
            )
        peaks = [x["resupply"]["tonnes"] for x in ranges if x["resupply"] and x["resupply"]["tonnes"] is not None]
        cap = capacity.get(hub)
        cv = rep.class_v[hub]
        hubs.append(
            {
                "hub": hub,
                "name": h.name if h else hub,
                "region": h.region if h else None,
                **_classv_json(cv),
                **_class_v_policy(rep, hub, cv),
                "resupply_peak_t_per_day": max(peaks) if peaks else None,
                "corridor_capacity_into_hub_t_per_day": cap,
                "ranges": ranges,
                "stock": [_stock_json(s) for s in rep.stock if s.hub == hub],
            }
        )
    return {
        "version": REPORT_VERSION,
        "depots": _depots_json(rep),
        "scenario": sc.id,
        "illustrative": sc.illustrative,
        "option": rep.view.option,
        "horizon_days": rep.view.horizon_days,
        "c_day": rep.view.c_day,
        "assumed": rep.assumed,
        "units": {c.value: base_unit(c) for c in SupplyClass},
        "factor_sources": rep.table.sources,
        "hubs": hubs,
        "medical": rep.medical.to_json(),
        "precedence": [
            {
                "rule": v.rule,
                "scope": v.scope,
                "before_day": v.before_day,
                "after_day": v.after_day,
                "after_uln": v.after_uln,
                "message": v.message,
            }
            for v in rep.precedence
        ],
        "flags": rep.flags(),
    }


def report_tables(rep: SustainReport, j: dict[str, Any] | None = None) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Flat tables: demand, stock, class_v, medical, uncovered, precedence (``j``: the report's
    JSON when already made)."""
    j = report_json(rep) if j is None else j
    cls = [c.value for c in SupplyClass]
    dem_cols = ["hub", "start_day", "end_day", "personnel"]
    for c in SupplyClass:
        u = base_unit(c)
        dem_cols += [f"{c.value}_demand_{u}", f"{c.value}_dos_on_hand"]
    demand, stock, classv = [], [], []
    stock_cols: list[str] = []
    for h in j["hubs"]:
        for r in h["ranges"]:
            row = [h["hub"], r["start_day"], r["end_day"], r["personnel"]]
            for code in cls:
                cell = r["classes"][code]
                row += [cell[f"demand_{base_unit(SupplyClass(code))}"], cell["dos_on_hand"]]
            demand.append(row)
        for s in h["stock"]:
            flat = {
                "hub": h["hub"],
                **{
                    k.replace(f"_{base_unit(SupplyClass(s['class']))}", ""): v
                    for k, v in s.items()
                    if k not in ("policy", "flags")
                },
                "unit": base_unit(SupplyClass(s["class"])),
                "policy_min_days": (s["policy"] or {}).get("min_days"),
                "policy_target_days": (s["policy"] or {}).get("target_days"),
                "flags": "; ".join(s["flags"]),
            }
            stock_cols = stock_cols or list(flat)
            stock.append([flat.get(k) for k in stock_cols])
        classv.append(
            [h["hub"], h["legal_class_v_days"], h["limiting_hd"], h["limiting"], h["method"], "; ".join(h["raise_by"])]
        )
    med = j["medical"]
    return {
        "demand": (dem_cols, demand),
        "stock": (stock_cols, stock),
        "class_v": (["hub", "legal_class_v_days", "limiting_hd", "limiting", "method", "raise_by"], classv),
        "medical": (
            [
                "hub",
                "start_day",
                "end_day",
                "personnel",
                "constrained_units",
                "role1_minutes",
                "role2_minutes",
                "role3_minutes",
            ],
            [
                [
                    r[k]
                    for k in (
                        "hub",
                        "start_day",
                        "end_day",
                        "personnel",
                        "constrained_units",
                        "role1_minutes",
                        "role2_minutes",
                        "role3_minutes",
                    )
                ]
                for r in med["ranges"]
            ],
        ),
        "uncovered": (
            ["hub", "start_day", "end_day", "constrained", "reason"],
            [[u["hub"], u["start_day"], u["end_day"], u["constrained"], u["reason"]] for u in med["uncovered"]],
        ),
        "precedence": (
            ["rule", "scope", "before_day", "after_day", "after_uln", "message"],
            [
                [v[k] for k in ("rule", "scope", "before_day", "after_day", "after_uln", "message")]
                for v in j["precedence"]
            ],
        ),
    }
